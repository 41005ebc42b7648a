"""Long syncs hand over through SYNC_QUEUE continuation messages and survive duplicates."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.db.connection import connect
from shared.storage.clients import queue
from shared.sync import jobs
from shared.sync.scope import SyncRequestError
from shared.sync.service import continue_job, request_sync
from tests.support.fake_discogs import Fault
from tests.sync.conftest import PACING


def _receive(settings, *, visibility=1):
    return list(
        queue(settings, settings.sync_queue).receive_messages(visibility_timeout=visibility)
    )


def test_a_long_sync_continues_through_queue_messages(fake, sync_settings, db):
    user = fake.add_user("digger", collection=1234)
    fake.inject(*[Fault("slow", delay=0.15, path_contains="/releases")] * 13)
    job, created = request_sync(sync_settings, "digger", ("collection",))
    assert created
    invocations = 0
    pages_per_invocation = []
    while True:
        messages = _receive(sync_settings)
        if not messages:
            break
        assert len(messages) == 1
        body = json.loads(messages[0].content)
        assert body["job_id"] == job.id and len(messages[0].content) < 100
        queue(sync_settings, sync_settings.sync_queue).delete_message(messages[0])
        before = db.execute("SELECT pages_done FROM account.sync_jobs").fetchone()[0]
        # A short time budget per invocation, as a function under its timeout would have.
        outcome = continue_job(
            sync_settings, messages[0].content, pacing=PACING, budget_seconds=0.5
        )
        after = db.execute("SELECT pages_done FROM account.sync_jobs").fetchone()[0]
        pages_per_invocation.append(after - before)
        invocations += 1
        assert invocations < 40
    assert outcome.kind == "done"
    assert invocations >= 3  # it really was handed over several times
    assert sum(pages_per_invocation) == 13
    final = db.execute(
        "SELECT state, requests_used, counts FROM account.sync_jobs WHERE id = %s", (job.id,)
    ).fetchone()
    assert final[0] == "succeeded"
    assert final[1] == 16 == len(fake.requests)  # no page fetched twice
    assert final[2]["collection"]["added"] == 1234
    stored = {r[0] for r in db.execute("SELECT instance_id FROM account.collection_items")}
    assert stored == {item["instance_id"] for item in user.collection}


def test_a_duplicate_message_for_a_leased_job_is_deferred_not_run_twice(fake, sync_settings, db):
    fake.add_user("digger", collection=10)
    job, _ = request_sync(sync_settings, "digger", ("collection",), enqueue=False)
    with connect(sync_settings, autocommit=True) as conn:
        claimed, wait = jobs.claim(conn, job.id, str(uuid.uuid4()), lease_seconds=30)
    assert claimed is not None and wait == 0
    outcome = continue_job(sync_settings, json.dumps({"job_id": job.id, "step": 0}), pacing=PACING)
    assert outcome.kind == "busy" and 25 < outcome.delay <= 31
    assert len(fake.requests) == 0
    assert _receive(sync_settings) == []  # re-sent, invisible until the lease runs out
    props = queue(sync_settings, sync_settings.sync_queue).get_queue_properties()
    assert props.approximate_message_count == 1


def test_messages_for_finished_or_unknown_jobs_are_dropped(fake, sync_settings):
    fake.add_user("digger", collection=10)
    outcome = continue_job(
        sync_settings, json.dumps({"job_id": str(uuid.uuid4()), "step": 0}), pacing=PACING
    )
    assert outcome.kind == "gone"
    assert _receive(sync_settings) == []


@pytest.mark.parametrize("body", ["not json", "[]", '{"job": 1}', "x" * 5000])
def test_malformed_messages_are_clear_errors(sync_settings, body):
    with pytest.raises(SyncRequestError):
        continue_job(sync_settings, body, pacing=PACING)


def test_the_timer_resends_a_message_for_an_abandoned_job(fake, sync_settings, db):
    from shared.sync.service import scheduled_sync

    job, _ = request_sync(sync_settings, "digger", ("collection",), enqueue=False)
    assert scheduled_sync(sync_settings, full=False) == []  # SYNC_USERS is empty here
    assert _receive(sync_settings) == []  # a fresh queued job is not abandoned yet
    db.execute(
        "UPDATE account.sync_jobs SET updated_at = now() - interval '1 hour' WHERE id = %s",
        (job.id,),
    )
    scheduled_sync(sync_settings, full=False)
    messages = _receive(sync_settings)
    assert [json.loads(m.content)["job_id"] for m in messages] == [job.id]


def test_an_internal_error_keeps_the_cursor_and_is_bounded(fake, sync_settings, db, monkeypatch):
    from shared.sync import runner, store

    fake.add_user("digger", collection=250)
    job, _ = request_sync(sync_settings, "digger", ("collection",), enqueue=False)
    real_apply = store.apply_page
    calls = {"n": 0}

    def failing_second_page(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(store, "apply_page", failing_second_page)
    message = json.dumps({"job_id": job.id, "step": 0})
    with pytest.raises(RuntimeError, match="disk full"):
        continue_job(sync_settings, message, pacing=PACING)
    state = db.execute(
        "SELECT state, pages_done, deferrals, errors, lease_token, counts FROM account.sync_jobs"
    ).fetchone()
    assert state[0] == "running" and state[1] == 1 and state[2] == 1
    assert state[3][0]["kind"] == "RuntimeError" and "disk full" in state[3][0]["message"]
    assert state[4] is None  # lease released: the host's retry can continue at once
    assert state[5]["collection"]["added"] == 100  # the rolled-back page is not counted
    # The retry continues from page 2 and finishes; nothing is stored twice.
    outcome = continue_job(sync_settings, message, pacing=PACING)
    assert outcome.kind == "done" and outcome.job.state == "succeeded"
    assert outcome.job.errors[0]["retried"] is True  # recovered, but kept on the record
    assert outcome.job.counts["collection"]["added"] == 250
    pages = [r.query["page"] for r in fake.requests if "/releases" in r.path]
    assert pages == ["1", "2", "2", "3"]
    # A job that keeps crashing is failed after MAX_DEFERRALS instead of looping forever.
    job2, _ = request_sync(sync_settings, "other", ("value",), enqueue=False)
    monkeypatch.setattr(store, "insert_value", lambda *a, **k: 1 / 0)
    fake.add_user("other")
    for _ in range(runner.MAX_DEFERRALS + 1):
        with pytest.raises(ZeroDivisionError):
            continue_job(sync_settings, json.dumps({"job_id": job2.id}), pacing=PACING)
    final = db.execute("SELECT state FROM account.sync_jobs WHERE id = %s", (job2.id,)).fetchone()
    assert final == ("failed",)


def test_concurrent_requests_for_one_user_create_exactly_one_job(sync_settings, db):
    import threading

    results = []

    def start():
        results.append(request_sync(sync_settings, "Digger", ("collection",), enqueue=False))

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [job for job, was_created in results if was_created]
    assert len(created) == 1
    assert {job.id for job, _ in results} == {created[0].id}
    # The username is matched case-insensitively, as Discogs does.
    job, was_created = request_sync(sync_settings, "digger", ("value", "collection"))
    assert not was_created and job.id == created[0].id
