"""Every filter answered through the filter keys (shared/queries/search.py) finds exactly the
documents the plain columns say, with and without a type and a query, over all pages."""

from __future__ import annotations

import pytest

from shared.queries import search as search_queries

FILTERS = [
    {"genre": "Electronic"},  # no type: releases and masters have genres
    {"type": "master", "genre": "Electronic"},
    {"type": "artist", "genre": "Electronic"},  # artists have none
    {"style": "House", "year_from": 1990, "year_to": 1999},
    {"format": "CD", "country": "germany"},  # country in any case
    {"type": "release", "country": "UK", "sort": "year"},
    {"year_from": 1995},  # one-sided: no decade keys, exact on the year
    {"year_from": 1950, "year_to": 2020},  # too wide for decade keys
    {"year_from": 1994, "year_to": 1996, "type": "release"},  # inside one decade
    {"label": "LABEL"},
    {"type": "label"},
    {"q": "the", "genre": "Electronic", "year_from": 1990, "year_to": 2009},
    {"q": "the", "type": "release", "format": "Vinyl", "sort": "title"},
]


def _expected(db, params: dict) -> set[tuple[str, int]]:
    where, args = ["TRUE"], dict(params)
    if "q" in params:
        where.append("d.tsv @@ websearch_to_tsquery('simple', public.fold_text(%(q)s))")
    if "type" in params:
        where.append("d.entity_type = %(type)s")
    for name, column in (("genre", "genres"), ("style", "styles"), ("format", "formats")):
        if name in params:
            where.append(f"d.{column} @> ARRAY[%({name})s]::text[]")
    if "label" in params:
        where.append("d.labels @> ARRAY[%(label)s]::text[]")
    if "country" in params:
        where.append("lower(d.country) = lower(%(country)s)")
    if "year_from" in params:
        where.append("d.year >= %(year_from)s")
    if "year_to" in params:
        where.append("d.year <= %(year_to)s")
    rows = db.execute(
        "SELECT entity_type, entity_id FROM discogs.search_documents AS d WHERE "
        + " AND ".join(where),
        args,
    ).fetchall()
    return {(t, i) for t, i in rows}


def _busiest_label(db) -> str:
    return db.execute(
        "SELECT l FROM discogs.search_documents, unnest(labels) AS l"
        " GROUP BY l ORDER BY count(*) DESC, l LIMIT 1"
    ).fetchone()[0]


@pytest.mark.parametrize(
    "params", FILTERS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())
)
def test_filter_keys_find_exactly_what_the_columns_say(api, db, params):
    if params.get("label") == "LABEL":
        params = {**params, "label": _busiest_label(db)}
    expected = _expected(db, params)
    seen: list[tuple[str, int]] = []
    cursor, first = None, None
    for _ in range(100):
        body = api.ok("search", {**params, "limit": 100, **({"cursor": cursor} if cursor else {})})
        first = first or body
        seen += [(hit["type"], hit["id"]) for hit in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert set(seen) == expected
    if first["total_exhaustive"]:
        assert first["total"] == len(expected)


def test_filters_that_only_some_documents_satisfy_are_not_empty(db):
    """The cases above are not vacuous on the samples."""
    for params in FILTERS:
        if params.get("type") == "artist":
            continue
        if params.get("label") == "LABEL":
            params = {**params, "label": _busiest_label(db)}
        assert _expected(db, params), params
        if "q" in params:  # enough matches for full text, not the fuzzy mode
            assert len(_expected(db, params)) >= search_queries.FUZZY_BELOW, params
