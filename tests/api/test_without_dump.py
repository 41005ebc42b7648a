"""Before any month is served (fresh install, or only account data synced) the API still answers:
empty search, 404 details, account views from Discogs' snapshots, never a 500."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_dump(db):
    db.execute("DROP SCHEMA discogs CASCADE")


def test_every_endpoint_answers_without_a_served_dump(account, no_dump, api):
    body = api.ok("search", {"q": "love"})
    assert body["items"] == [] and body["dump_date"] is None
    assert api.get("releases/4497850").status_code == 404
    assert api.get("masters/129684").status_code == 404
    assert api.get("artists/96").status_code == 404
    assert api.get("labels/1").status_code == 404
    items = api.ok("users/digger/collection", {"limit": 100})["items"]
    assert len(items) == len(account["owned"]) and all(i["release"] is None for i in items)
    genre = api.ok("users/digger/collection", {"genre": "Electronic", "limit": 100})["items"]
    assert genre and all("Electronic" in i["basic_information"]["genres"] for i in genre)
    assert api.ok("users/digger/inventory", {"genre": "Rock"})["items"] == []
    stats = api.ok("users/digger/stats")
    assert stats["totals"]["items"] == len(account["owned"])
    assert stats["totals"]["matched_releases"] == 0 and stats["countries"] == []
    assert sum(d["count"] for d in stats["decades"]) == sum(
        1 for r in account["user"].collection if r["basic_information"]["year"]
    )
    assert api.ok("stats")["served_dump"] is None  # whatever the ledger says
