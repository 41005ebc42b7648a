"""Collection, wantlist and inventory pages of a fake account synced through the real sync code,
each item enriched with the loaded dump's release."""

from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import UNKNOWN_RELEASES


def _pages(api, path: str, params: dict) -> list[dict]:
    items, cursor = [], None
    for _ in range(100):
        body = api.ok(path, {**params, **({"cursor": cursor} if cursor else {})})
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("paging did not end")


def test_collection_item_field_by_field_with_dump_enrichment(api, account, db):
    body = api.ok("users/DIGGER/collection", {"limit": 100, "sort": "date_added"})
    assert body["username"] == "Digger" and body["synced_at"]
    assert body["attribution"]["text"] == "Data provided by Discogs."
    items = body["items"]
    assert [i["instance_id"] for i in items] == [700_000 + n for n in range(len(account["owned"]))]
    source = account["user"].collection
    for item, raw in zip(items, source, strict=True):
        assert item["release_id"] == raw["id"]
        assert item["folder_id"] == raw["folder_id"]
        assert item["rating"] == raw["rating"]
        assert item["basic_information"] == raw["basic_information"]
        names = {1: "Media", 2: "Sleeve", 3: "Notes"}
        assert item["fields"] == {names[n["field_id"]]: n["value"] for n in raw.get("notes", [])}
        assert (
            item["folder_name"]
            == {1: "Uncategorized", 2: "Records", 3: "Sell pile"}[raw["folder_id"]]
        )
        if raw["id"] in UNKNOWN_RELEASES:
            assert item["release"] is None
        else:
            row = db.execute(
                "SELECT title, country, genres, master_id FROM discogs.releases WHERE id = %s",
                (raw["id"],),
            ).fetchone()
            release = item["release"]
            assert (
                release["title"],
                release["country"],
                release["genres"],
                release["master_id"],
            ) == row
    response = api.get("users/digger/collection")
    assert response.headers["cache-control"] == "private, max-age=60"


def test_collection_filters_sorts_and_pages(api, account):
    source = account["user"].collection
    rated5 = api.ok("users/digger/collection", {"rating": 5, "limit": 100})["items"]
    assert {i["instance_id"] for i in rated5} == {
        r["instance_id"] for r in source if r["rating"] == 5
    }
    folder = api.ok("users/digger/collection", {"folder": 2, "limit": 100})["items"]
    assert {i["instance_id"] for i in folder} == {
        r["instance_id"] for r in source if r["folder_id"] == 2
    }
    genre = "Electronic"
    electronic = api.ok("users/digger/collection", {"genre": genre, "limit": 100})["items"]
    assert {i["instance_id"] for i in electronic} == {
        r["instance_id"] for r in source if genre in r["basic_information"]["genres"]
    }
    fmt = api.ok("users/digger/collection", {"format": "Cassette", "limit": 100})["items"]
    assert {i["release_id"] for i in fmt} == set(UNKNOWN_RELEASES)
    years = [r["basic_information"]["year"] for r in source if r["basic_information"]["year"]]
    low, high = min(years), max(years)
    ranged = api.ok(
        "users/digger/collection", {"year_from": low, "year_to": low + 10, "limit": 100}
    )["items"]
    assert ranged and all(low <= i["basic_information"]["year"] <= low + 10 for i in ranged)
    assert high >= low
    word = source[0]["basic_information"]["title"].split()[0]
    found = api.ok("users/digger/collection", {"q": word.upper(), "limit": 100})["items"]
    assert source[0]["instance_id"] in {i["instance_id"] for i in found}
    for sort in ("title", "-title", "year", "-year", "artist", "rating", "-rating", "-date_added"):
        paged = _pages(api, "users/digger/collection", {"sort": sort, "limit": 4})
        ids = [i["instance_id"] for i in paged]
        assert len(ids) == len(set(ids)) == len(source), sort


def test_wantlist_page(api, account):
    items = _pages(api, "users/digger/wantlist", {"limit": 2, "sort": "date_added"})
    assert [i["release_id"] for i in items] == account["wants"]
    raw = account["user"].wants[1]
    assert (items[1]["rating"], items[1]["notes"]) == (raw["rating"], raw["notes"])
    assert items[0]["release"]["id"] == account["wants"][0]
    assert items[-1]["release"] is None  # not in the dump


def test_inventory_filters(api, account):
    listings = account["user"].listings
    body = api.ok("users/digger/inventory", {"sort": "price", "limit": 100})
    prices = [Decimal(str(i["price"])) for i in body["items"]]
    assert prices == sorted(Decimal(str(x)) for x in (9.5, 25.0, 120.0, 3.99))
    cheap = api.ok("users/digger/inventory", {"price_max": "10", "limit": 100})["items"]
    assert {i["listing_id"] for i in cheap} == {
        raw["id"] for raw in listings if raw["price"]["value"] <= 10
    }
    mid = api.ok("users/digger/inventory", {"price_min": "9.50", "price_max": "25"})["items"]
    assert sorted(Decimal(str(i["price"])) for i in mid) == [Decimal("9.5"), Decimal("25")]
    condition = listings[0]["condition"]
    graded = api.ok("users/digger/inventory", {"condition": condition, "limit": 100})["items"]
    assert {i["listing_id"] for i in graded} == {
        raw["id"] for raw in listings if raw["condition"] == condition
    }
    first = next(i for i in body["items"] if i["listing_id"] == listings[0]["id"])
    assert first["status"] == "For Sale" and first["release"]["id"] == listings[0]["release"]["id"]
    assert first["snapshot"]["title"] == listings[0]["release"]["title"]
    assert api.ok("users/digger/inventory", {"status": "Sold"})["items"] == []


def test_unknown_user_is_404_and_bad_username_400(api, account):
    assert api.get("users/nobody-here/collection").status_code == 404
    assert api.get("users/no%20way/collection").status_code == 400
    assert api.get("users/..../stats").status_code in (400, 404)
