"""Search over the served month's search documents: ranked full-text plus trigram fuzzy matching
on accent- and case-folded text, filters, facets of the matching set and keyset pagination.

Matching, in order:
1. Full text: when the query's words find enough documents (FUZZY_BELOW) by full text (tsvector,
   weighted title > artists > labels/other names), relevance = 2 for an exact (folded) title + 1 +
   ts_rank.
2. Corrected words: otherwise each word is replaced by the most similar words of the month's
   vocabulary (`search_words`, trigram similarity); if that finds enough, it is used as in 1. A
   misspelled common word ("midnigth") costs what a full-text query costs.
3. Trigram: otherwise trigram matching on the documents joins in (`<%` on the folded
   title-and-artists text, GIN trigram index) and relevance = 2 for an exact title + ts_rank of a
   full-text match + trigram word similarity to the title + half the similarity to title and
   artists. The candidate sets are small here, since the words are rare.
The mode depends only on the query and the served data, so all pages of a query use the same.

Broad queries: when more than BROAD_ABOVE documents match (a common word, a wide filter), the cost
of ranking, facets and total would grow with the matching set (5-25 % of all documents for one
word of the synthetic data). Then, and only then:
- relevance pages rank a bounded candidate set: every exact (folded) title match (b-tree), the
  first BROAD_ABOVE documents whose title words match (GIN on the title vector) and the first
  BROAD_ABOVE matching documents; exact titles still come first and title matches next;
- other sorts stay exact: an ordered walk of the sort key's index that stops after the page;
- facets are counted over a sample (the first BROAD_ABOVE matching documents) and scaled to the
  total, which is the planner's estimate; the result says so (`exhaustive` False).
Filters are always exact: every hit matches the query and all filters. Whether a query is broad
depends only on the query and the served data, so all its pages use the same candidates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import sql

from shared.queries.served import table_exists

EntityType = Literal["release", "master", "artist", "label"]
Sort = Literal["relevance", "year", "-year", "title", "-title"]
FACET_LIMIT = 20
FUZZY_BELOW = 50
BROAD_ABOVE = 1000  # matching documents above which facets, total and ranking are bounded
ALTERNATIVES = 3  # vocabulary words tried for each word of a query the words themselves miss
FACETS = ("genre", "style", "decade", "format", "country")
ENTITY_TYPES: tuple[str, ...] = ("release", "master", "artist", "label")


@dataclass(frozen=True)
class SearchQuery:
    q: str | None = None
    type: EntityType | None = None
    genre: str | None = None
    style: str | None = None
    country: str | None = None
    format: str | None = None
    label: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    username: str | None = None
    in_collection: bool | None = None
    in_wantlist: bool | None = None
    sort: Sort = "relevance"
    limit: int = 20
    after: tuple[Any, str, int] | None = None
    facets: bool = True


@dataclass
class SearchResult:
    items: list[dict[str, Any]]
    next_position: list[Any] | None
    total: int | None = None
    facets: dict[str, list[dict[str, Any]]] | None = field(default=None)
    # False when total and facets are estimates (a broad query), None on later pages.
    exhaustive: bool | None = None


def position_is_valid(sort: Sort, has_query: bool, position: list[Any]) -> bool:
    """A decoded cursor position fits this sort: [key, entity type, entity id]."""
    if len(position) != 3:
        return False
    key, kind, entity_id = position
    if kind not in ENTITY_TYPES or type(entity_id) is not int or not 0 < entity_id < 2**63:
        return False
    if sort == "relevance":
        return type(key) in (int, float) and (has_query or key == 0)
    if sort in ("year", "-year"):
        return type(key) is int and -1 <= key <= 9999
    return isinstance(key, str) and len(key) <= 200


def _sort_key(query: SearchQuery) -> sql.Composable:
    if query.sort == "relevance":
        return sql.SQL("score") if query.q else sql.SQL("0::float8")
    if query.sort == "year":
        return sql.SQL("coalesce(d.year, 9999)")
    if query.sort == "-year":
        return sql.SQL("coalesce(d.year, -1)")
    return sql.SQL("d.title_key")


def _descending(query: SearchQuery) -> bool:
    return query.sort in ("relevance", "-year", "-title")


def _conditions(query: SearchQuery) -> tuple[list[sql.Composable], dict[str, Any]]:
    where: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if query.type:
        where.append(sql.SQL("d.entity_type = %(type)s"))
        params["type"] = query.type
    for name, column in (("genre", "genres"), ("style", "styles"), ("format", "formats")):
        value = getattr(query, name)
        if value is not None:
            where.append(
                sql.SQL("d.{} @> ARRAY[{}]::text[]").format(
                    sql.Identifier(column), sql.Placeholder(name)
                )
            )
            params[name] = value
    if query.label is not None:
        where.append(sql.SQL("d.labels @> ARRAY[%(label)s]::text[]"))
        params["label"] = query.label
    if query.country is not None:
        where.append(sql.SQL("lower(d.country) = lower(%(country)s)"))
        params["country"] = query.country
    if query.year_from is not None:
        where.append(sql.SQL("d.year >= %(year_from)s"))
        params["year_from"] = query.year_from
    if query.year_to is not None:
        where.append(sql.SQL("d.year <= %(year_to)s"))
        params["year_to"] = query.year_to
    for flag, table in (
        (query.in_collection, "collection_items"),
        (query.in_wantlist, "wantlist_items"),
    ):
        if flag is None:
            continue
        member = sql.SQL(
            "((d.entity_type = 'release' AND d.entity_id IN ("
            "SELECT release_id FROM account.{t} WHERE username = %(username)s "
            "AND removed_at IS NULL)) OR (d.entity_type = 'master' AND d.entity_id IN ("
            "SELECT r.master_id FROM account.{t} AS a JOIN discogs.releases AS r "
            "ON r.id = a.release_id WHERE a.username = %(username)s AND a.removed_at IS NULL)))"
        ).format(t=sql.Identifier(table))
        where.append(member if flag else sql.SQL("NOT {}").format(member))
        params["username"] = query.username
    return where, params


def _fold(conn: psycopg.Connection, text: str) -> tuple[str, str]:
    row = conn.execute(
        "SELECT public.fold_text(%(q)s),"
        " websearch_to_tsquery('simple', public.fold_text(%(q)s))::text",
        {"q": text},
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def _found(conn: psycopg.Connection, where: list[sql.Composable], params: dict[str, Any]) -> int:
    """How many documents the full-text query finds under the filters, counted up to
    what the choice of matching mode (FUZZY_BELOW) and of a broad query (BROAD_ABOVE) need."""
    match = sql.SQL("d.tsv @@ %(tsq)s::tsquery")
    return _count_up_to(conn, [match, *where], params, max(FUZZY_BELOW, BROAD_ABOVE + 1))


def _count_up_to(
    conn: psycopg.Connection, where: list[sql.Composable], params: dict[str, Any], limit: int
) -> int:
    """How many documents match, counted up to `limit` (the scan stops there)."""
    filters = sql.SQL(" AND ").join(where) if where else sql.SQL("TRUE")
    row = conn.execute(
        sql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM discogs.search_documents AS d WHERE {}"
            " LIMIT %(count_limit)s) AS found"
        ).format(filters),
        {**params, "count_limit": limit},
    ).fetchone()
    return int(row[0]) if row else 0


def _estimate(conn: psycopg.Connection, filters: sql.Composable, params: dict[str, Any]) -> int:
    """The planner's estimate of how many documents match (statistics of the month's ANALYZE:
    the most common lexemes and values), for the total of a broad query."""
    row = conn.execute(
        sql.SQL(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM discogs.search_documents AS d WHERE {}"
        ).format(filters),
        params,
    ).fetchone()
    return int(row[0][0]["Plan"]["Plan Rows"]) if row else 0


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _corrected(conn: psycopg.Connection, folded: str) -> str | None:
    """The query with each word replaced by the words of the served month's vocabulary that are
    most similar to it (trigram similarity on `search_words`, a small table): `midnigth fever`
    becomes `('midnight' | ...) & ('fever' | ...)`. Words with no similar word are dropped."""
    if not table_exists(conn, "discogs.search_words"):
        return None
    rows = conn.execute(
        "SELECT t.n, s.word FROM unnest(tsvector_to_array(to_tsvector('simple', %(qn)s)))"
        " WITH ORDINALITY AS t (w, n)"
        " CROSS JOIN LATERAL (SELECT word FROM discogs.search_words WHERE word %% t.w"
        "  ORDER BY similarity(word, t.w) DESC, ndoc DESC, word LIMIT %(alternatives)s) AS s"
        " WHERE t.n <= 10 ORDER BY t.n",
        {"qn": folded, "alternatives": ALTERNATIVES},
    ).fetchall()
    groups: dict[int, list[str]] = {}
    for n, word in rows:
        groups.setdefault(n, []).append(_lexeme(word))
    if not groups:
        return None
    return " & ".join("(" + " | ".join(words) + ")" for words in groups.values())


@dataclass(frozen=True)
class Statements:
    """The one statement of a search page, with its parameters.

    A first page with facets runs ONE statement: the matching set is computed once (its index
    scans, rechecks and scores are the expensive part), then both the page and the facet counts
    are taken from it. Rows come back tagged: `hit` rows in page order, `facet` rows, `total`.
    """

    statement: sql.Composable
    params: dict[str, Any]
    with_facets: bool
    # A broad query's first page: facet counts over a sample, and the filters for the estimate.
    sample_facets: sql.Composable | None = None
    filters: sql.Composable | None = None


_COLUMNS = (
    "entity_type, entity_id, title, subtitle, year, country, genres, styles, formats, labels,"
    " master_id, score"
)


def build(conn: psycopg.Connection, query: SearchQuery) -> Statements:
    """The statement `search` runs (also used to EXPLAIN it in the benchmark)."""
    where, params = _conditions(query)
    fuzzy = False
    counted = None  # matching documents up to BROAD_ABOVE + 1, when already known
    if query.q:
        params["qn"], params["tsq"] = _fold(conn, query.q)
        counted = _found(conn, where, params)
        fuzzy = counted < FUZZY_BELOW
        if fuzzy:
            corrected = _corrected(conn, params["qn"])
            counted = _found(conn, where, {**params, "tsq": corrected}) if corrected else 0
            if corrected and counted >= FUZZY_BELOW:
                params["tsq"], fuzzy = corrected, False
        if fuzzy:
            counted = None  # trigram matches join in: counted below
            where.append(sql.SQL("(d.tsv @@ %(tsq)s::tsquery OR %(qn)s <%% d.search_text)"))
            score = sql.SQL(
                "(CASE WHEN d.title_key = left(%(qn)s, 200) THEN 2 ELSE 0 END"
                " + CASE WHEN d.tsv @@ %(tsq)s::tsquery"
                "   THEN ts_rank(d.tsv, %(tsq)s::tsquery) ELSE 0 END"
                " + word_similarity(%(qn)s, d.title_key)"
                " + 0.5 * word_similarity(%(qn)s, d.search_text))::float8"
            )
        else:
            where.append(sql.SQL("d.tsv @@ %(tsq)s::tsquery"))
            score = sql.SQL(
                "(CASE WHEN d.title_key = left(%(qn)s, 200) THEN 2 ELSE 0 END"
                " + 1 + ts_rank(d.tsv, %(tsq)s::tsquery))::float8"
            )
    else:
        score = sql.SQL("NULL::float8")
    filters = sql.SQL(" AND ").join(where) if where else sql.SQL("TRUE")
    params["broad_above"] = BROAD_ABOVE
    if counted is None:
        counted = _count_up_to(conn, where, params, BROAD_ABOVE + 1)
    broad = counted > BROAD_ABOVE
    direction = sql.SQL("DESC" if _descending(query) else "ASC")
    page_filter = sql.SQL("TRUE")
    if query.after is not None:
        page_filter = sql.SQL("(sort_key, entity_type, entity_id) {} (%(k)s, %(t)s, %(i)s)").format(
            sql.SQL("<" if _descending(query) else ">")
        )
        params["k"], params["t"], params["i"] = query.after
    params["limit"] = query.limit + 1
    source = sql.SQL("discogs.search_documents AS d WHERE {filters}").format(filters=filters)
    if broad and query.q and not fuzzy and query.sort == "relevance":
        source = sql.SQL(
            "discogs.search_documents AS d JOIN ({candidates}) AS c USING (entity_type, entity_id)"
        ).format(candidates=_candidates(filters))
    matched = sql.SQL(
        "SELECT {columns}, decade, {key} AS sort_key"
        " FROM (SELECT d.*, {score} AS score FROM {source}) AS d"
    ).format(columns=sql.SQL(_COLUMNS), key=_sort_key(query), score=score, source=source)
    order = sql.SQL("sort_key {dir}, entity_type {dir}, entity_id {dir}").format(dir=direction)
    with_facets = query.facets and query.after is None
    if broad:
        statement = sql.SQL(
            "SELECT 'hit', {columns}, sort_key FROM ({matched}) AS m WHERE {page_filter}"
            " ORDER BY {order} LIMIT %(limit)s"
        ).format(columns=sql.SQL(_COLUMNS), matched=matched, page_filter=page_filter, order=order)
        params["facet_limit"] = FACET_LIMIT
        sample = sql.SQL(
            "SELECT genres, styles, decade, formats, country"
            " FROM discogs.search_documents AS d WHERE {filters} LIMIT %(broad_above)s"
        ).format(filters=filters)
        return Statements(
            statement,
            params,
            with_facets=with_facets,
            sample_facets=_facet_counts(sample) if with_facets else None,
            filters=filters,
        )
    if not with_facets:
        statement = sql.SQL(
            "SELECT 'hit', {columns}, sort_key FROM ({matched}) AS m WHERE {page_filter}"
            " ORDER BY {order} LIMIT %(limit)s"
        ).format(columns=sql.SQL(_COLUMNS), matched=matched, page_filter=page_filter, order=order)
        return Statements(statement, params, with_facets=False)
    params["facet_limit"] = FACET_LIMIT
    statement = sql.SQL(
        "WITH m AS MATERIALIZED ({matched}),"
        " page AS (SELECT {columns}, sort_key, row_number() OVER (ORDER BY {order}) AS ordinal"
        "  FROM m ORDER BY {order} LIMIT %(limit)s),"
        " v AS ({values}),"
        " c AS ({counts})"
        " SELECT 'hit' AS kind, {columns}, sort_key, ordinal, NULL AS facet, NULL AS value,"
        "  NULL::bigint AS n FROM page"
        " UNION ALL SELECT 'facet', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        "  NULL, NULL, NULL, NULL, facet, value, n FROM c WHERE rank <= %(facet_limit)s"
        " UNION ALL SELECT 'total', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        "  NULL, NULL, NULL, NULL, NULL, NULL, count(*) FROM m"
    ).format(
        matched=matched, columns=sql.SQL(_COLUMNS), order=order, values=_VALUES, counts=_COUNTS
    )
    return Statements(statement, params, with_facets=True)


# The facet values of the rows of `m`, and the top FACET_LIMIT counts of each facet.
_VALUES = sql.SQL(
    "SELECT 'genre' AS facet, unnest(genres) AS value FROM m"
    " UNION ALL SELECT 'style', unnest(styles) FROM m"
    " UNION ALL SELECT 'decade', decade::text FROM m WHERE decade IS NOT NULL"
    " UNION ALL SELECT 'format', unnest(formats) FROM m"
    " UNION ALL SELECT 'country', country FROM m WHERE country IS NOT NULL AND country <> ''"
)
_COUNTS = sql.SQL(
    "SELECT facet, value, count(*) AS n,"
    " row_number() OVER (PARTITION BY facet ORDER BY count(*) DESC, value) AS rank"
    " FROM v WHERE value IS NOT NULL GROUP BY facet, value"
)


def _facet_counts(sample: sql.Composable) -> sql.Composable:
    """Facet counts over a sample: (facet, value, count, sample size) rows."""
    return sql.SQL(
        "WITH m AS MATERIALIZED ({sample}), v AS ({values}), c AS ({counts})"
        " SELECT facet, value, n, (SELECT count(*) FROM m) FROM c"
        " WHERE rank <= %(facet_limit)s"
    ).format(sample=sample, values=_VALUES, counts=_COUNTS)


def _candidates(filters: sql.Composable) -> sql.Composable:
    """The documents a broad full-text query ranks: the first BROAD_ABOVE exact (folded) titles
    (in title-index order), the first BROAD_ABOVE title-word matches and the first BROAD_ABOVE
    matches (each scan stops there). Every one also satisfies `filters` (query and filters)."""
    # The OFFSET 0 fences keep the first two scans on their own (small) index: combined with the
    # full-text index (BitmapAnd) they would read the posting list of every match.
    return sql.SQL(
        "(SELECT entity_type, entity_id FROM (SELECT * FROM discogs.search_documents AS d"
        "  WHERE d.title_key = left(%(qn)s, 200) ORDER BY title_key, entity_type, entity_id"
        "  OFFSET 0) AS d WHERE {filters} LIMIT %(broad_above)s)"
        " UNION (SELECT entity_type, entity_id FROM (SELECT * FROM discogs.search_documents AS d"
        "  WHERE to_tsvector('simple', d.title_key::text) @@ %(tsq)s::tsquery OFFSET 0) AS d"
        "  WHERE {filters} LIMIT %(broad_above)s)"
        " UNION (SELECT entity_type, entity_id FROM discogs.search_documents AS d"
        "  WHERE {filters} LIMIT %(broad_above)s)"
    ).format(filters=filters)


def search(conn: psycopg.Connection, query: SearchQuery) -> SearchResult:
    statements = build(conn, query)
    rows = conn.execute(statements.statement, statements.params).fetchall()
    hits = [r for r in rows if r[0] == "hit"]
    broad = statements.filters is not None
    if statements.with_facets and not broad:
        hits.sort(key=lambda r: r[14])
    keys = (
        "type",
        "id",
        "title",
        "subtitle",
        "year",
        "country",
        "genres",
        "styles",
        "formats",
        "labels",
        "master_id",
        "score",
    )
    items = [dict(zip(keys, r[1:13], strict=True)) for r in hits[: query.limit]]
    next_position = None
    if len(hits) > query.limit:
        last = hits[query.limit - 1]
        next_position = [last[13], last[1], last[2]]
    result = SearchResult(items=items, next_position=next_position)
    if broad and statements.sample_facets is not None and statements.filters is not None:
        # More than BROAD_ABOVE documents match (counted): the estimate is at least that.
        total = max(_estimate(conn, statements.filters, statements.params), BROAD_ABOVE + 1)
        sample = conn.execute(statements.sample_facets, statements.params).fetchall()
        result.total, result.exhaustive = total, False
        result.facets = _scaled_facets(sample, total)
        return result
    if broad:
        return result
    if statements.with_facets:
        result.exhaustive = True
        facets: dict[str, list[dict[str, Any]]] = {name: [] for name in FACETS}
        for row in rows:
            if row[0] == "facet":
                facets[row[15]].append({"value": row[16], "count": row[17]})
            elif row[0] == "total":
                result.total = row[17]
        for values in facets.values():
            values.sort(key=lambda v: (-v["count"], v["value"]))
        result.facets = facets
    return result


def _scaled_facets(rows: list[tuple[str, str, int, int]], total: int) -> dict[str, list]:
    """Sample counts scaled to the estimated total (rounded, at least 1)."""
    facets: dict[str, list[dict[str, Any]]] = {name: [] for name in FACETS}
    for facet, value, n, sample_size in rows:
        count = max(1, round(n * total / sample_size)) if sample_size else n
        facets[facet].append({"value": value, "count": count})
    for values in facets.values():
        values.sort(key=lambda v: (-v["count"], v["value"]))
    return facets
