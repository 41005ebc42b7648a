"""Persisted user statistics (account.user_stats): stored when a sync finishes and after a month
swap, read by the endpoint only while their fingerprint equals the data's, so never stale."""

from __future__ import annotations

import json

import psycopg
import pytest

from shared.api import memo
from shared.queries import stats as stats_queries
from shared.queries import user_stats_store


@pytest.fixture(autouse=True)
def _no_memo():
    """The per-process memo would answer before the store is read; these tests are about the
    store."""
    memo.USER_STATS.enabled = False
    memo.USER_STATS.clear()
    yield
    memo.USER_STATS.enabled = True
    memo.USER_STATS.clear()


def _stored(db: psycopg.Connection) -> tuple[str, dict] | None:
    row = db.execute(
        "SELECT fingerprint, stats FROM account.user_stats WHERE username = 'Digger' AND top = 10"
    ).fetchone()
    return (row[0], row[1]) if row else None


def _fresh(db: psycopg.Connection) -> dict:
    """The statistics computed now, serialized as the API serializes them."""
    from shared.api import models

    computed = stats_queries.user_stats(db, "Digger", 10)
    return json.loads(models.UserStats(**computed).model_dump_json())


def _without_attribution(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "attribution"}


def test_a_finished_sync_stores_the_statistics_with_their_fingerprint(api, account, db):
    stored = _stored(db)
    assert stored is not None, "the sync job did not store the statistics"
    fingerprint, _ = stored
    assert fingerprint == json.dumps(stats_queries.user_stats_fingerprint(db, "Digger"))
    body = api.ok("users/digger/stats")
    assert _without_attribution(body) == _without_attribution(_fresh(db))
    assert body["totals"]["items"] == len(account["owned"])


def test_the_endpoint_reads_the_stored_row_while_the_fingerprint_matches(api, account, db):
    # A marker only the stored row carries proves the answer came from the store.
    db.execute(
        "UPDATE account.user_stats SET stats = jsonb_set(stats, '{playing_time_seconds}', '4242')"
        " WHERE username = 'Digger' AND top = 10"
    )
    assert api.ok("users/digger/stats")["playing_time_seconds"] == 4242
    # `top` other than the stored one: computed, not read.
    assert api.ok("users/digger/stats", {"top": 3})["playing_time_seconds"] != 4242


def test_a_stored_row_is_never_used_once_the_account_data_changed(api, account, db):
    db.execute(
        "UPDATE account.user_stats SET stats = jsonb_set(stats, '{playing_time_seconds}', '4242')"
        " WHERE username = 'Digger' AND top = 10"
    )
    # A change written without any refresh (as a sync that died before finishing would leave).
    db.execute(
        "UPDATE account.collection_items SET rating = 1, updated_at = now()"
        " WHERE username = 'Digger' AND instance_id = (SELECT min(instance_id)"
        "  FROM account.collection_items WHERE username = 'Digger' AND removed_at IS NULL)"
    )
    body = api.ok("users/digger/stats")
    assert body["playing_time_seconds"] != 4242
    assert _without_attribution(body) == _without_attribution(_fresh(db))


def test_a_new_month_makes_the_stored_row_outdated_until_refreshed(api, account, db, settings):
    before = _stored(db)
    assert before is not None
    # A swap replaces the served tables: their identity is part of the fingerprint.
    db.execute("ALTER TABLE discogs.master_years RENAME TO master_years_old")
    db.execute("CREATE TABLE discogs.master_years AS SELECT * FROM discogs.master_years_old")
    db.execute(
        "UPDATE account.user_stats SET stats = jsonb_set(stats, '{playing_time_seconds}',"
        " '4242') WHERE username = 'Digger'"
    )
    assert api.ok("users/digger/stats")["playing_time_seconds"] != 4242
    user_stats_store.refresh_quietly(settings)  # what finalize runs after the swap
    after = _stored(db)
    assert after is not None and after[0] != before[0]
    assert after[0] == json.dumps(stats_queries.user_stats_fingerprint(db, "Digger"))
    assert after[1]["playing_time_seconds"] != 4242
    assert _without_attribution(api.ok("users/digger/stats")) == _without_attribution(_fresh(db))


def test_loading_a_new_month_stores_every_users_statistics_afresh(account, db, settings):
    """The swap hook, end to end: the real loader finalizes a second month; after the swap the
    stored row matches the new fingerprint (the served tables are new) without any request."""
    import os
    import subprocess
    import sys

    from tests.api.conftest import ROOT, SAMPLES

    before = _stored(db)
    assert before is not None
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "load",
            "--json",
            "--dump-date",
            "2020-09-06",
            *map(str, sorted(SAMPLES.glob("*.xml.gz"))),
        ],
        env={**os.environ, "DATABASE_URL": settings.database_url.get_secret_value()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "user_stats" in json.loads(done.stdout)["finalize"]["seconds"]
    after = _stored(db)
    assert after is not None and after[0] != before[0]
    assert after[0] == json.dumps(stats_queries.user_stats_fingerprint(db, "Digger"))
    assert _without_attribution(after[1]) == _without_attribution(_fresh(db)) | {
        "value_over_time": after[1]["value_over_time"]
    }


def test_a_failed_refresh_never_fails_its_caller(account, db, settings, caplog):
    db.execute("ALTER TABLE account.user_stats RENAME TO user_stats_gone")
    try:
        user_stats_store.refresh_quietly(settings, "Digger")  # must not raise
    finally:
        db.execute("ALTER TABLE account.user_stats_gone RENAME TO user_stats")
    assert "user statistics not refreshed" in caplog.text
