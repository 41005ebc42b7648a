"""Search relevance, filters, facets and paging on the real 2020-08-06 samples, over HTTP."""

from __future__ import annotations

from collections import Counter

import pytest

ATTRIBUTION_TEXT = "Data provided by Discogs."


def _folded_titles(db, title: str) -> int:
    """How many documents have exactly this title, accent- and case-blind, counted from the
    entity tables themselves."""
    return db.execute(
        "SELECT (SELECT count(*) FROM discogs.releases WHERE public.fold_text(title) = %(t)s)"
        " + (SELECT count(*) FROM discogs.masters WHERE public.fold_text(title) = %(t)s)"
        " + (SELECT count(*) FROM discogs.artists WHERE public.fold_text(name) = %(t)s)"
        " + (SELECT count(*) FROM discogs.labels WHERE public.fold_text(name) = %(t)s)",
        {"t": title},
    ).fetchone()[0]


def test_exact_title_comes_first(api, db):
    exact = _folded_titles(db, "live")
    assert exact >= 2
    body = api.ok("search", {"q": "Live", "limit": 20})
    titles = [hit["title"].casefold() for hit in body["items"]]
    assert titles[:exact] == ["live"] * exact
    assert len(titles) > exact and all(t != "live" for t in titles[exact:])
    assert body["attribution"]["text"] == ATTRIBUTION_TEXT
    assert body["dump_date"] == "2020-08-06"


@pytest.mark.parametrize("typo", ["Hakan Libdo", "hakan lidbp", "Håkan Lidbo"])
def test_a_typo_or_missing_accent_still_finds_the_artist_first(api, typo):
    first = api.ok("search", {"q": typo, "limit": 5})["items"][0]
    assert (first["type"], first["id"], first["title"]) == ("artist", 96, "Håkan Lidbo")


def test_accent_insensitive_both_ways(api):
    plain = api.ok("search", {"q": "sous un ciel ecarlate", "type": "release"})["items"]
    assert plain[0]["id"] == 1586364 and plain[0]["title"] == "Sous Un Ciel Écarlate"
    accented = api.ok("search", {"q": "PÉPÉ BRADOCK", "type": "artist"})["items"]
    assert accented[0]["id"] == 81


def test_stemming_free_fuzzy_match_finds_variants(api):
    ids = [hit["id"] for hit in api.ok("search", {"q": "brandenburgishen"})["items"]]
    assert {12645468, 4497810} <= set(ids[:3])


def _matching_releases(db, genre: str, country: str | None = None) -> dict[int, dict]:
    rows = db.execute(
        "SELECT r.id, r.genres, r.styles, r.country, nullif(r.released_year, 0),"
        " coalesce((SELECT array_agg(DISTINCT f.name) FROM discogs.release_formats f"
        "  WHERE f.release_id = r.id AND f.name IS NOT NULL), '{}')"
        " FROM discogs.releases r WHERE %(genre)s = ANY(r.genres)"
        " AND (%(country)s::text IS NULL OR lower(r.country) = lower(%(country)s))",
        {"genre": genre, "country": country},
    ).fetchall()
    return {
        r[0]: {"genres": r[1], "styles": r[2], "country": r[3], "year": r[4], "formats": r[5]}
        for r in rows
    }


def _top(counter: Counter, limit: int = 20) -> list[dict]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"value": value, "count": count} for value, count in ranked]


def test_filters_and_facets_equal_an_independent_count(api, db):
    expected = _matching_releases(db, "Electronic", "UK")
    assert len(expected) > 20
    body = api.ok(
        "search", {"type": "release", "genre": "Electronic", "country": "uk", "limit": 100}
    )
    assert body["total"] == len(expected)
    assert {hit["id"] for hit in body["items"]} == set(expected)
    for hit in body["items"]:
        assert "Electronic" in hit["genres"] and hit["country"] == "UK"
    rows = expected.values()
    facets = body["facets"]
    assert facets["genre"] == _top(Counter(g for r in rows for g in r["genres"]))
    assert facets["style"] == _top(Counter(s for r in rows for s in r["styles"]))
    assert facets["format"] == _top(Counter(f for r in rows for f in r["formats"]))
    assert facets["country"] == _top(Counter(r["country"] for r in rows))
    decades = Counter(str(r["year"] // 10 * 10) for r in rows if r["year"])
    assert facets["decade"] == _top(decades)


def test_year_and_format_filters(api, db):
    body = api.ok(
        "search",
        {"type": "release", "format": "Vinyl", "year_from": 1990, "year_to": 1999, "limit": 100},
    )
    expected = {
        r[0]
        for r in db.execute(
            "SELECT id FROM discogs.releases r WHERE released_year BETWEEN 1990 AND 1999"
            " AND EXISTS (SELECT 1 FROM discogs.release_formats f"
            "  WHERE f.release_id = r.id AND f.name = 'Vinyl')"
        )
    }
    assert body["total"] == len(expected) > 0
    assert all(1990 <= hit["year"] <= 1999 and "Vinyl" in hit["formats"] for hit in body["items"])


def _all_pages(api, params: dict) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    cursor = None
    for page in range(200):
        body = api.ok("search", {**params, **({"cursor": cursor} if cursor else {})})
        assert (body["facets"] is None) == (page > 0)  # facets come with the first page only
        seen += [(hit["type"], hit["id"]) for hit in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("paging did not end")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "the", "sort": "relevance"},
        {"type": "release", "genre": "Electronic", "sort": "year"},
        {"type": "release", "genre": "Rock", "sort": "-year"},
        {"q": "love", "sort": "title"},
        {"type": "label", "sort": "-title"},
    ],
)
def test_cursor_pages_neither_overlap_nor_skip(api, params):
    paged = _all_pages(api, {**params, "limit": 7})
    whole = api.ok("search", {**params, "limit": 100})
    assert len(paged) == len(set(paged)), "a row came twice"
    assert whole["total"] == len(paged), "a row was skipped"
    if whole["next_cursor"] is None:
        assert paged == [(h["type"], h["id"]) for h in whole["items"]]


def test_sort_orders(api):
    by_year = api.ok("search", {"type": "release", "genre": "Jazz", "sort": "year", "limit": 100})[
        "items"
    ]
    years = [h["year"] if h["year"] is not None else 9999 for h in by_year]
    assert years == sorted(years)
    by_title = api.ok("search", {"type": "artist", "sort": "-title", "limit": 50})["items"]
    assert len(by_title) == 50


def test_in_collection_and_wantlist_filters(api, account):
    owned_in_dump = {rid for rid in account["owned"] if rid < 990000000}
    body = api.ok(
        "search", {"type": "release", "in_collection": "true", "username": "digger", "limit": 100}
    )
    assert {h["id"] for h in body["items"]} == owned_in_dump
    wanted = api.ok(
        "search", {"type": "release", "in_wantlist": "true", "username": "Digger", "limit": 100}
    )
    assert {h["id"] for h in wanted["items"]} == {r for r in account["wants"] if r < 990000000}
    response = api.get("search", {"in_collection": "true", "username": "digger"})
    assert response.headers["cache-control"].startswith("private")


def test_search_cache_control_is_for_monthly_data(api):
    response = api.get("search", {"q": "love"})
    assert response.headers["cache-control"] == "public, max-age=3600, stale-while-revalidate=86400"


def test_a_misspelled_common_word_is_corrected_against_the_vocabulary(api, db):
    word, documents = db.execute(
        "SELECT word, ndoc FROM discogs.search_words WHERE length(word) >= 7"
        " AND word ~ '^[a-z]+$' AND ndoc >= 60 ORDER BY ndoc DESC, word LIMIT 1"
    ).fetchone()
    typo = word[:3] + word[4] + word[3] + word[5:]  # two middle letters swapped
    assert (
        db.execute("SELECT count(*) FROM discogs.search_words WHERE word = %s", (typo,)).fetchone()[
            0
        ]
        == 0
    )
    exact = api.ok("search", {"q": word, "limit": 100})
    corrected = api.ok("search", {"q": typo, "limit": 100})
    assert exact["total"] == documents
    assert corrected["total"] >= exact["total"]
    found = {(h["type"], h["id"]) for h in corrected["items"]}
    assert len(found & {(h["type"], h["id"]) for h in exact["items"]}) >= min(50, documents // 2)
