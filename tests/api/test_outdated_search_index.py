"""A served month built before this version's search index: search says so (503 problem, no 500)
and `python -m shared.cli api-structures` rebuilds it in place."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.api.conftest import ROOT


def _rebuild(database_url: str) -> subprocess.CompletedProcess:
    """`python -m shared.cli api-structures` against the test's database."""
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", "api-structures"],
        env={**os.environ, "DATABASE_URL": database_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_an_outdated_search_index_is_a_503_until_rebuilt(api, db, database_url):
    before = api.ok("search", {"q": "the", "genre": "Electronic"})
    # What a month finalized by the previous version lacks: the combined index and its keys.
    db.execute("DROP INDEX discogs.search_documents_match")
    db.execute("ALTER TABLE discogs.search_documents DROP COLUMN filter_keys")
    db.commit()
    response = api.get("search", {"q": "the"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "shared.cli api-structures" in response.json()["detail"]
    assert api.ok("releases/1")["id"] == 1  # the rest of the API still answers
    done = _rebuild(database_url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rebuilt" in done.stdout
    after = api.ok("search", {"q": "the", "genre": "Electronic"})
    assert after["items"] == before["items"] and after["total"] == before["total"]


def test_rebuilding_without_a_served_month_is_a_clear_error(db, database_url):
    db.execute("DROP SCHEMA discogs CASCADE")
    db.commit()
    done = _rebuild(database_url)
    assert done.returncode == 1 and "no dump month is served" in done.stderr
