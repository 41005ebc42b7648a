"""Broad queries (more than BROAD_ABOVE matching documents): bounded ranking candidates, sampled
facets and an estimated total, flagged as such; filters and non-relevance sorts stay exact.

The samples are small, so the threshold is lowered for these tests (the function host runs in
this process and reads the module constant at each request)."""

from __future__ import annotations

import re

import pytest

from shared.queries import search as search_queries

BROAD = 20


@pytest.fixture
def broad(monkeypatch):
    monkeypatch.setattr(search_queries, "BROAD_ABOVE", BROAD)


def _matching(db, q: str, where: str = "TRUE", params: dict | None = None) -> set[tuple]:
    """Documents the full-text query matches, read straight from the table."""
    rows = db.execute(
        "SELECT entity_type, entity_id FROM discogs.search_documents AS d"
        " WHERE d.tsv @@ websearch_to_tsquery('simple', public.fold_text(%(q)s))"
        f" AND {where}",
        {"q": q, **(params or {})},
    ).fetchall()
    return {(t, i) for t, i in rows}


def _pages(api, params: dict) -> list[dict]:
    hits: list[dict] = []
    cursor = None
    for _ in range(500):
        body = api.ok("search", {**params, **({"cursor": cursor} if cursor else {})})
        hits += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return hits
    raise AssertionError("paging did not end")


def test_a_narrow_query_says_its_total_and_facets_are_exact(api, db, monkeypatch):
    matches = _matching(db, "the")
    monkeypatch.setattr(search_queries, "BROAD_ABOVE", len(matches))  # just not broad
    body = api.ok("search", {"q": "the"})
    assert body["total"] == len(matches)
    assert body["total_exhaustive"] is True and body["facets_exhaustive"] is True


def test_a_broad_query_is_flagged_and_every_hit_matches(api, broad, db):
    matches = _matching(db, "the")
    assert len(matches) > 3 * BROAD
    body = api.ok("search", {"q": "the", "limit": 100})
    assert body["total_exhaustive"] is False and body["facets_exhaustive"] is False
    assert body["total"] > BROAD
    assert body["items"] and {(h["type"], h["id"]) for h in body["items"]} <= matches
    # Sampled facets: only values the matching set has, scaled counts within the total.
    genres = {
        g
        for (g,) in db.execute(
            "SELECT DISTINCT unnest(genres) FROM discogs.search_documents AS d"
            " WHERE d.tsv @@ websearch_to_tsquery('simple', 'the')"
        )
    }
    assert body["facets"]["genre"]
    for facet in body["facets"]["genre"]:
        assert facet["value"] in genres and 1 <= facet["count"] <= body["total"]
    # Later pages: no facets, no total, no flags.
    first = api.ok("search", {"q": "the", "limit": 10})
    second = api.ok("search", {"q": "the", "limit": 10, "cursor": first["next_cursor"]})
    assert second["total"] is None and second["facets"] is None
    assert second["total_exhaustive"] is None and second["facets_exhaustive"] is None


def test_filters_of_a_broad_query_stay_exact(api, broad, db):
    where = "d.entity_type = 'release' AND d.genres @> ARRAY['Electronic']"
    matches = _matching(db, "the", where)
    assert len(matches) >= max(BROAD, search_queries.FUZZY_BELOW)  # full text, not fuzzy
    hits = _pages(api, {"q": "the", "type": "release", "genre": "Electronic", "limit": 50})
    assert hits and {(h["type"], h["id"]) for h in hits} <= matches
    assert all(h["type"] == "release" and "Electronic" in h["genres"] for h in hits)


def test_broad_relevance_still_puts_exact_titles_first(api, broad, db, monkeypatch):
    monkeypatch.setattr(search_queries, "FUZZY_BELOW", 5)  # full text for this rarer word
    exact = db.execute(
        "SELECT count(*) FROM discogs.search_documents WHERE title_key = 'live'"
    ).fetchone()[0]
    assert exact >= 2 and len(_matching(db, "live")) > BROAD
    body = api.ok("search", {"q": "Live", "limit": 20})
    assert body["total_exhaustive"] is False
    titles = [hit["title"].casefold() for hit in body["items"]]
    assert titles[:exact] == ["live"] * exact
    assert all(t != "live" for t in titles[exact:])


def test_broad_relevance_prefers_title_matches_over_other_fields(api, broad, db):
    """The title-word candidates: every hit of the first page has the word in its title while
    more title matches exist than fit on a page."""
    titled = db.execute(
        "SELECT count(*) FROM discogs.search_documents AS d"
        " WHERE to_tsvector('simple', d.title_key::text) @@ 'the'::tsquery"
    ).fetchone()[0]
    assert titled > 10
    body = api.ok("search", {"q": "the", "limit": 10})
    # Words as the search splits them ("People (The Album)" has the word "the").
    assert all("the" in re.findall(r"\w+", hit["title"].casefold()) for hit in body["items"])


@pytest.mark.parametrize("q", ["the", "live"])
def test_broad_relevance_pages_neither_overlap_nor_skip(api, broad, q):
    paged = _pages(api, {"q": q, "limit": 7})
    whole = api.ok("search", {"q": q, "limit": 100})
    keys = [(h["type"], h["id"]) for h in paged]
    assert len(keys) == len(set(keys)), "a row came twice"
    assert whole["next_cursor"] is None  # the candidates (at most 3 × BROAD) fit one page
    assert keys == [(h["type"], h["id"]) for h in whole["items"]], "a row was skipped or moved"
    scores = [h["score"] for h in paged]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("sort", ["year", "-year", "title", "-title"])
def test_other_sorts_of_a_broad_query_are_exact(api, broad, db, sort):
    matches = _matching(db, "the")
    hits = _pages(api, {"q": "the", "sort": sort, "limit": 100, "facets": "false"})
    keys = [(h["type"], h["id"]) for h in hits]
    assert len(keys) == len(set(keys)) and set(keys) == matches
    if sort in ("year", "-year"):
        years = [
            h["year"] if h["year"] is not None else (9999 if sort == "year" else -1) for h in hits
        ]
        assert years == sorted(years, reverse=sort == "-year")


def test_sample_counts_are_scaled_to_the_total():
    rows = [("genre", "Rock", 30, 100), ("genre", "Jazz", 1, 100), ("decade", "1990", 50, 100)]
    facets = search_queries._scaled_facets(rows, 1000)
    assert facets["genre"] == [{"value": "Rock", "count": 300}, {"value": "Jazz", "count": 10}]
    assert facets["decade"] == [{"value": "1990", "count": 500}]
    assert facets["style"] == [] and set(facets) == set(search_queries.FACETS)
