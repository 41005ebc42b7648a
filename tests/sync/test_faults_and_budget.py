"""Transient faults, hard errors, the shared budget under concurrency, and a killed sync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from shared.settings import get_settings, reset_settings_cache
from shared.sync.service import run_foreground
from tests.support.fake_discogs import Fault
from tests.sync.conftest import PACING, WINDOW

ROOT = Path(__file__).resolve().parents[2]


def _count(db, table="collection_items", username="digger") -> int:
    return db.execute(
        f"SELECT count(*) FROM account.{table} WHERE username = %s AND removed_at IS NULL",
        (username,),
    ).fetchone()[0]


def test_four_users_at_once_stay_within_the_budget_without_429s(fake, sync_settings, db):
    for name in ("ann", "bob", "cyd", "dee"):
        fake.add_user(name, collection=600, wants=150, listings=150)
        fake.set_value(name, 1, 2, 3)
    results: dict[str, object] = {}

    def sync(name: str) -> None:
        results[name] = run_foreground(sync_settings, name, pacing=PACING)

    threads = [threading.Thread(target=sync, args=(n,)) for n in ("ann", "bob", "cyd", "dee")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert {name: job.state for name, job in results.items()} == dict.fromkeys(
        ("ann", "bob", "cyd", "dee"), "succeeded"
    )
    # 14 requests each (profile, folders, fields, 6 + 2 + 2 pages, value): more than one
    # window's budget of 50, so the shared limiter had to hold some back.
    assert len(fake.requests) == 56
    assert fake.count("", status=429) == 0
    # Our budget, seen from the server: a request leaves a moment after its slot is logged
    # (after the table write), so allow 5 % of the window for that jitter on a busy machine.
    assert fake.max_in_window(WINDOW * 0.95) <= 50
    assert sum(job.requests_used for job in results.values()) == 56
    for name in results:
        assert _count(db, username=name) == 600
        assert _count(db, "wantlist_items", name) == 150
        assert _count(db, "inventory_listings", name) == 150


def test_sync_finishes_with_the_right_data_after_transient_errors(fake, sync_settings, db):
    user = fake.add_user("digger", collection=520, wants=120, listings=110)
    fake.set_value("digger", 1, 2, 3)
    fake.inject(
        Fault("status", 429, path_contains="/users/digger"),
        Fault("status", 500, path_contains="/releases"),
        Fault("status", 429, path_contains="/releases"),
        Fault("status", 429, path_contains="/releases"),
        Fault("invalid_json", path_contains="/releases"),
        Fault("status", 502, path_contains="/wants"),
        Fault("slow", delay=1.5, path_contains="/wants"),  # beyond the 1 s timeout
        Fault("slow", delay=0.4, path_contains="/inventory"),  # slow but in time
        Fault("html", 503, path_contains="/collection/value"),
    )
    job = run_foreground(sync_settings, "digger", pacing=PACING)
    assert job.state == "succeeded", job.errors
    assert fake.faults == []
    stored = {r[0] for r in db.execute("SELECT instance_id FROM account.collection_items")}
    assert stored == {item["instance_id"] for item in user.collection}
    assert _count(db, "wantlist_items") == 120
    assert _count(db, "inventory_listings") == 110
    assert db.execute("SELECT count(*) FROM account.collection_values").fetchone()[0] == 1
    # every attempt counts: 3 + 6 + 2 + 2 + 1 pages/calls plus 8 retried failures
    fake.wait_idle()  # the answer we timed out on is recorded when its handler finishes
    assert job.requests_used == 14 + 8 == len(fake.requests)


def test_persistent_429_defers_and_resumes_from_the_cursor(fake, sync_settings, db):
    fake.add_user("digger", collection=350)
    fake.inject(*[Fault("status", 429, path_contains="page=3")] * 4)  # all attempts of a page
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert job.state == "succeeded", job.errors
    assert job.deferrals == 1 == job.summary()["deferrals"]
    assert _count(db) == 350
    pages = [r.query.get("page") for r in fake.requests if "/releases" in r.path]
    assert pages == ["1", "2", "3", "3", "3", "3", "3", "4"]


def test_bad_token_fails_the_job_with_a_clear_error(fake, sync_settings, monkeypatch):
    fake.add_user("digger", collection=10)
    monkeypatch.setenv("DISCOGS_TOKEN", "revoked")
    reset_settings_cache()
    job = run_foreground(get_settings(), "digger", pacing=PACING)
    assert job.state == "failed"
    assert job.errors[0]["kind"] == "BadTokenError"
    assert "DISCOGS_TOKEN" in job.errors[0]["message"]
    assert len(fake.requests) == 1


def test_unknown_user_fails_and_private_collection_is_partial(fake, sync_settings, db):
    job = run_foreground(sync_settings, "ghost", pacing=PACING)
    assert job.state == "failed"
    assert job.errors[0]["kind"] == "UnknownResourceError"
    fake.add_user("shy", collection=30, listings=5, private=True)
    job = run_foreground(sync_settings, "shy", pacing=PACING)
    assert job.state == "partial"
    assert [(e["phase"], e["kind"]) for e in job.errors] == [
        ("collection", "PrivateResourceError"),
        ("wantlist", "PrivateResourceError"),
    ]
    assert _count(db, "inventory_listings", "shy") == 5  # the rest still synced


def test_a_killed_sync_resumes_from_its_cursor_without_duplicates_or_gaps(
    fake, sync_settings, sync_env, db
):
    user = fake.add_user("digger", collection=1234)
    fake.inject(*[Fault("slow", delay=0.3, path_contains="/releases")] * 13)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "sync", "digger", "--scope", "collection"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            row = db.execute("SELECT pages_done FROM account.sync_jobs").fetchone()
            done = row[0] if row else 0
            if done >= 4:
                break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=10)
    assert 4 <= done < 13
    job_id, pages_done, state = db.execute(
        "SELECT id, pages_done, state FROM account.sync_jobs"
    ).fetchone()
    assert state == "running"
    # Every committed page is complete: items stored = 100 per committed page, nothing partial.
    assert _count(db) == pages_done * 100
    # The dead worker's lease runs out (we don't wait 5 minutes for it).
    db.execute("UPDATE account.sync_jobs SET lease_until = now() - interval '1 second'")
    resumed_at = time.time()
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert job.id == str(job_id)  # the same job resumed, not a new one
    assert job.state == "succeeded", job.errors
    stored = [r[0] for r in db.execute("SELECT instance_id FROM account.collection_items")]
    assert sorted(stored) == sorted(item["instance_id"] for item in user.collection)
    assert job.summary()["added"] == 1234
    resumed_pages = [
        int(r.query["page"])
        for r in sorted(fake.requests, key=lambda r: r.at)
        if "/releases" in r.path and r.at >= resumed_at
    ]
    assert resumed_pages == list(range(pages_done + 1, 14))
    assert job.pages_done == 13


def test_a_shared_egress_ip_with_little_remaining_engages_the_shared_brake(fake, sync_settings, db):
    from shared.discogs.ratelimit import SharedRateLimiter
    from shared.storage.clients import table

    fake.add_user("digger", collection=1234)
    fake.consume(58)  # other tenants on our IP: Discogs reports 1 remaining on our first call
    job = run_foreground(sync_settings, "digger", ("collection",), pacing=PACING)
    assert job.state == "succeeded", job.errors
    assert _count(db) == 1234
    limiter = SharedRateLimiter(
        table(sync_settings, sync_settings.rate_limit_table), budget=50, window_seconds=WINDOW
    )
    state, _ = limiter._read()
    assert state.brake_until > 0  # every instance sharing the table slowed down
    assert fake.count("", status=429) <= 1
