"""The sync functions end to end in the local runner: HTTP, queue continuation and timers."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.conftest import ADMIN_KEY, FUNCTION_KEY
from tests.support.funchost import LocalFunctionHost

ADMIN = {"x-functions-key": ADMIN_KEY}
FUNCTION = {"x-functions-key": FUNCTION_KEY}


def _wait_for_job(base_url: str, location: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(base_url + location, headers=FUNCTION).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job did not finish: {job}")


@pytest.fixture
def idle_host(sync_env, settings):
    """The app with HTTP only: queued jobs stay queued, so conflicts are deterministic."""
    from function_app import app

    with LocalFunctionHost(app, settings, queues=False, timers=False) as host:
        yield host


def test_post_sync_is_202_with_location_and_the_queue_finishes_the_job(
    sync_env, fake, function_host, db
):
    fake.add_user("digger", collection=250, wants=20, listings=5)
    fake.set_value("digger", 1, 2, 3)
    response = httpx.post(
        f"{function_host.base_url}/api/users/digger/sync",
        json={"scope": ["collection", "wantlist", "inventory", "value"], "full": False},
        headers=ADMIN,
    )
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location == f"/api/jobs/{response.json()['id']}"
    assert response.json()["state"] == "queued"
    job = _wait_for_job(function_host.base_url, location)
    assert job["state"] == "succeeded", job
    assert job["added"] == 250 + 20 + 5
    assert job["pages_done"] == 3 + 1 + 1
    assert job["pages_total"] == 5
    assert job["requests_used"] == 3 + 5 + 1 == len(fake.requests)
    assert job["duration_seconds"] is not None and job["errors"] == []
    assert db.execute("SELECT count(*) FROM account.collection_items").fetchone() == (250,)


def test_a_running_sync_for_the_same_user_and_scope_is_409(sync_env, fake, idle_host):
    url = f"{idle_host.base_url}/api/users/digger/sync"
    first = httpx.post(url, json={"scope": ["collection", "value"]}, headers=ADMIN)
    assert first.status_code == 202
    again = httpx.post(url, json={"scope": ["value"]}, headers=ADMIN)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    problem = again.json()
    assert problem["status"] == 409 and problem["title"] == "Conflict"
    assert problem["instance"] == "/api/users/digger/sync"
    assert problem["job"] == first.json()  # the running job, as its 202 showed it
    assert again.headers["location"] == first.headers["location"]
    assert "already running" in problem["detail"]
    other_scope = httpx.post(url, json={"scope": ["wantlist"]}, headers=ADMIN)
    assert other_scope.status_code == 202
    other_user = httpx.post(
        f"{idle_host.base_url}/api/users/someone/sync", json={"scope": ["value"]}, headers=ADMIN
    )
    assert other_user.status_code == 202


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/users/bad%20name/sync", b"{}", "invalid Discogs username"),
        ("/api/users/" + "x" * 65 + "/sync", b"{}", "invalid Discogs username"),
        ("/api/users/digger/sync", b"{not json", "body must be JSON"),
        ("/api/users/digger/sync", b'{"scope": ["records"]}', "unknown scope"),
        ("/api/users/digger/sync", b'{"scope": "collection"}', "must be a list"),
        ("/api/users/digger/sync", b'{"full": "yes"}', "full must be true or false"),
        ("/api/users/digger/sync", b'{"since": 1}', "unknown fields"),
        ("/api/users/digger/sync", b"[1, 2]", "must be a JSON object"),
    ],
)
def test_bad_sync_requests_are_400_problems(sync_env, fake, idle_host, db, path, body, message):
    response = httpx.post(idle_host.base_url + path, content=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["cache-control"] == "no-store"
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert message in problem["detail"]
    assert problem["errors"][0]["name"] in ("body", "path.username")
    assert db.execute("SELECT count(*) FROM account.sync_jobs").fetchone() == (0,)
    assert fake.requests == []


def test_job_endpoint_errors_and_auth(sync_env, idle_host):
    base = idle_host.base_url
    bad = httpx.get(f"{base}/api/jobs/not-a-uuid", headers=FUNCTION)
    assert bad.status_code == 400 and "invalid job id" in bad.json()["detail"]
    assert bad.json()["errors"] == [{"name": "path.job_id", "reason": bad.json()["detail"]}]
    missing = httpx.get(f"{base}/api/jobs/{uuid.uuid4()}", headers=FUNCTION)
    assert missing.status_code == 404 and "no job" in missing.json()["detail"]
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{base}/api/jobs/{uuid.uuid4()}").status_code == 401
    # Starting a sync needs the admin key; the function key is not enough.
    assert httpx.post(f"{base}/api/users/digger/sync", headers=FUNCTION).status_code == 401
    empty_body = httpx.post(f"{base}/api/users/digger/sync", headers=ADMIN)
    assert empty_body.status_code == 202
    assert empty_body.json()["scope"] == ["collection", "wantlist", "inventory", "value"]


def test_timers_sync_the_configured_users(sync_env, fake, monkeypatch, settings, db):
    monkeypatch.setenv("SYNC_USERS", "ann, bob")
    from shared.settings import get_settings, reset_settings_cache

    reset_settings_cache()
    current = get_settings()
    assert current.sync_users == ["ann", "bob"]
    ann = fake.add_user("ann", collection=120)
    fake.add_user("bob", collection=30, wants=3)
    from function_app import app

    with LocalFunctionHost(app, current, timers=False) as host:
        assert (
            httpx.post(
                f"{host.base_url}/admin/functions/sync_schedule", json={}, headers=ADMIN
            ).status_code
            == 202
        )
        _wait_for_states(db, 2)
        ann.collection.pop(0)
        assert (
            httpx.post(
                f"{host.base_url}/admin/functions/sync_reconcile", json={}, headers=ADMIN
            ).status_code
            == 202
        )
        _wait_for_states(db, 4)
    rows = db.execute(
        "SELECT username, full_reconcile, trigger, state FROM account.sync_jobs "
        "ORDER BY created_at, username"
    ).fetchall()
    assert rows == [
        ("ann", False, "timer", "succeeded"),
        ("bob", False, "timer", "succeeded"),
        ("ann", True, "timer", "succeeded"),
        ("bob", True, "timer", "succeeded"),
    ]
    removed = db.execute(
        "SELECT count(*) FROM account.collection_items WHERE removed_at IS NOT NULL"
    ).fetchone()
    assert removed == (1,)


def _wait_for_states(db, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = db.execute(
            "SELECT count(*) FROM account.sync_jobs WHERE state NOT IN ('queued', 'running')"
        ).fetchone()[0]
        if done >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} jobs finished")


def test_a_malformed_queue_message_ends_in_the_poison_queue(sync_env, fake, settings):
    from function_app import app
    from shared.storage.clients import POISON_SUFFIX, queue
    from tests.support.funchost.config import HostConfig, QueueOptions

    fast = HostConfig(
        route_prefix="api",
        queues=QueueOptions(max_dequeue_count=2, visibility_timeout=0.0, max_polling_interval=0.2),
    )
    queue(settings, settings.sync_queue).send_message("this is not a sync message")
    poison = queue(settings, settings.sync_queue + POISON_SUFFIX)
    with LocalFunctionHost(app, settings, config=fast, timers=False):
        deadline = time.monotonic() + 20
        messages = []
        while not messages and time.monotonic() < deadline:
            messages = list(poison.receive_messages(visibility_timeout=1))
            time.sleep(0.1)
    assert [m.content for m in messages] == ["this is not a sync message"]
    assert fake.requests == []


def test_an_invalid_sync_users_entry_is_skipped_not_fatal(sync_env, fake, monkeypatch, db):
    from shared.settings import get_settings, reset_settings_cache
    from shared.sync.service import scheduled_sync

    monkeypatch.setenv("SYNC_USERS", "../admin,ann")
    reset_settings_cache()
    started = scheduled_sync(get_settings(), full=False)
    assert [entry["username"] for entry in started] == ["ann"]
    assert db.execute("SELECT username FROM account.sync_jobs").fetchall() == [("ann",)]


def test_a_long_sync_hands_over_between_queue_invocations_in_the_host(
    sync_env, fake, settings, db, monkeypatch
):
    from function_app import app
    from shared.sync import service
    from tests.support.fake_discogs import Fault
    from tests.support.funchost.config import HostConfig, QueueOptions

    monkeypatch.setattr(service, "RUN_BUDGET_SECONDS", 0.3)  # a very short function timeout
    user = fake.add_user("digger", collection=560)
    fake.inject(*[Fault("slow", delay=0.15, path_contains="/releases")] * 6)
    fast = HostConfig(
        route_prefix="api", queues=QueueOptions(batch_size=1, max_polling_interval=0.2)
    )
    with LocalFunctionHost(app, settings, config=fast, timers=False) as host:
        response = httpx.post(
            f"{host.base_url}/api/users/digger/sync", json={"scope": ["collection"]}, headers=ADMIN
        )
        job = _wait_for_job(host.base_url, response.headers["location"])
        invocations = [name for name, outcome in host.invocations if name == "sync_continue"]
    assert job["state"] == "succeeded", job
    assert len(invocations) >= 3  # handed over through several continuation messages
    assert job["added"] == 560 and job["pages_done"] == 6
    assert job["requests_used"] == 3 + 6 == len(fake.requests)  # no page fetched twice
    stored = {r[0] for r in db.execute("SELECT instance_id FROM account.collection_items")}
    assert stored == {item["instance_id"] for item in user.collection}
