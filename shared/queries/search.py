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

Filters are filter keys in the same GIN index as the full text (`_filters`), so the words and
every filter are intersected in one index scan. Each page is one statement (`statement`): it
reads the first BROAD_ABOVE + 1 matches once and, when that is all of them, takes the page, the
facets and the exact total from them.

Broad queries: when more than BROAD_ABOVE documents match (a common word, a wide filter), the cost
of ranking, facets and total would grow with the matching set (5-25 % of all documents for one
word of the synthetic data). Then, and only then (decided inside the statement):
- relevance pages rank a bounded candidate set: the first BROAD_ABOVE exact (folded) title
  matches, the first BROAD_ABOVE documents with every word of the query in their title and the
  first BROAD_ABOVE + 1 matches; exact titles still come first and title matches next;
- other sorts stay exact: an ordered walk of the sort key's index that stops after the page;
- facets are counted over a sample (the first BROAD_ABOVE + 1 matches) and scaled to the
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


# Which entity types carry each filterable attribute (the documents of api_structures.sql): a
# filter without `type` matches the keys of every type that has the attribute.
_KEY_TYPES: dict[str, tuple[str, ...]] = {
    "g": ("release", "master"),
    "s": ("release", "master"),
    "f": ("release", "master"),
    "l": ("release",),
    "c": ("release",),
    "d": ("release", "master"),
}
_MAX_DECADES = 6  # a wider year range narrows too little to be worth its keys


@dataclass
class _Filters:
    """A query's filters as SQL conditions on `d`: `keys` on the filter keys (answered by the
    search index together with the full-text condition), `rest` checked on the rows."""

    keys: list[sql.Composable] = field(default_factory=list)
    rest: list[sql.Composable] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def _filters(query: SearchQuery) -> _Filters:
    """The filters as conditions. Equality filters are filter keys (`<type>:<g|s|f|l|c|d>:<value>`,
    `t:<type>`; see api_structures.sql) so that one scan of the combined index (tsv, filter_keys)
    intersects them with the full-text match, instead of one bitmap per filter ANDed after each
    was read whole. The year range also narrows by decade keys and stays exact on the rows."""
    f = _Filters()
    types = (query.type,) if query.type else None
    required: list[sql.Composable] = []  # keys a document must all have (with `type`)
    # (key code, parameter, value, the value as it is in the key: countries are lower case)
    values = (
        ("g", "genre", query.genre, sql.Placeholder("genre")),
        ("s", "style", query.style, sql.Placeholder("style")),
        ("f", "format", query.format, sql.Placeholder("format")),
        ("l", "label", query.label, sql.Placeholder("label")),
        ("c", "country", query.country, sql.SQL("lower(%(country)s)")),
    )
    for code, name, value, keyed_value in values:
        if value is None:
            continue
        f.params[name] = value
        keyed = [
            sql.SQL("{} || {}").format(sql.Literal(f"{t}:{code}:"), keyed_value)
            for t in (types or _KEY_TYPES[code])
        ]
        if types:
            required += keyed
        else:
            f.keys.append(sql.SQL("d.filter_keys && ARRAY[{}]").format(sql.SQL(", ").join(keyed)))
    if types and not required:
        required.append(sql.Literal(f"t:{query.type}"))
    if required:
        f.keys.append(sql.SQL("d.filter_keys @> ARRAY[{}]").format(sql.SQL(", ").join(required)))
    if query.type:
        # also as a column condition: the ordered walks of a broad query use the indexes that
        # start with entity_type
        f.rest.append(sql.SQL("d.entity_type = %(type)s"))
        f.params["type"] = query.type
    decades = _decades(query.year_from, query.year_to)
    if decades:
        f.keys.append(sql.SQL("d.filter_keys && %(decades)s::text[]"))
        f.params["decades"] = [
            f"{t}:d:{decade}" for t in (types or _KEY_TYPES["d"]) for decade in decades
        ]
    if query.year_from is not None:
        f.rest.append(sql.SQL("d.year >= %(year_from)s"))
        f.params["year_from"] = query.year_from
    if query.year_to is not None:
        f.rest.append(sql.SQL("d.year <= %(year_to)s"))
        f.params["year_to"] = query.year_to
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
        f.rest.append(member if flag else sql.SQL("NOT {}").format(member))
        f.params["username"] = query.username
    return f


def _decades(year_from: int | None, year_to: int | None) -> list[int]:
    """The decades a closed year range touches, when few enough to narrow the search."""
    if year_from is None or year_to is None or year_to < year_from:
        return []
    first, last = year_from // 10 * 10, year_to // 10 * 10
    if (last - first) // 10 + 1 > _MAX_DECADES:
        return []
    return list(range(first, last + 1, 10))


@dataclass(frozen=True)
class _Text:
    """The folded query and what it matches by: its tsquery, the filter keys of its words as
    title words (`w:`) and of it as a whole title (`x:`)."""

    folded: str
    tsquery: str
    title_words: list[list[str]]  # every group must have one of its words in the title
    title_key: str


def _fold(conn: psycopg.Connection, text: str) -> _Text:
    row = conn.execute(
        "SELECT qn, websearch_to_tsquery('simple', qn)::text,"
        " ARRAY(SELECT 'w:' || w FROM unnest(tsvector_to_array(to_tsvector('simple', qn))) AS w),"
        " 'x:' || md5(left(qn, 200))"
        " FROM (SELECT public.fold_text(%(q)s) AS qn) AS folded",
        {"q": text},
    ).fetchone()
    assert row is not None
    return _Text(row[0], row[1], [[word] for word in row[2]], row[3])


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _corrected(conn: psycopg.Connection, text: _Text) -> _Text | None:
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
        {"qn": text.folded, "alternatives": ALTERNATIVES},
    ).fetchall()
    groups: dict[int, list[str]] = {}
    for n, word in rows:
        groups.setdefault(n, []).append(word)
    if not groups:
        return None
    tsquery = " & ".join(
        "(" + " | ".join(_lexeme(w) for w in words) + ")" for words in groups.values()
    )
    title_words = [["w:" + w for w in words] for words in groups.values()]
    return _Text(text.folded, tsquery, title_words, text.title_key)


Mode = Literal["text", "fuzzy"]


@dataclass(frozen=True)
class Statement:
    """The one statement of a search page, with its parameters.

    It reads the first BROAD_ABOVE + 1 matching documents once (`m`: one scan of the search
    index, the expensive part) and takes from them the page, the facet counts and the count, as
    rows tagged `hit` (with their ordinal), `facet` and `total`. When more than BROAD_ABOVE
    documents match, the page comes instead from bounded ranking candidates (relevance) or an
    ordered walk of the sort key's index (other sorts), and `m` is the facets' sample; which
    branch runs is decided inside the statement by the count, so nothing is scanned twice.
    """

    statement: sql.Composable
    params: dict[str, Any]
    with_facets: bool
    filters: sql.Composable  # the whole match condition, for the broad total's estimate


_COLUMNS = (
    "entity_type, entity_id, title, subtitle, year, country, genres, styles, formats, labels,"
    " master_id, score"
)


def statement(query: SearchQuery, text: _Text | None, mode: Mode = "text") -> Statement:
    """The statement of one search page for a query, its folded text and matching mode."""
    f = _filters(query)
    params = dict(f.params)
    match: list[sql.Composable] = []
    if text is None:
        score = sql.SQL("NULL::float8")
    else:
        params["qn"], params["tsq"], params["title_key"] = text.folded, text.tsquery, text.title_key
        exact = sql.SQL("CASE WHEN d.title_key = left(%(qn)s, 200) THEN 2 ELSE 0 END")
        if mode == "fuzzy":
            match.append(sql.SQL("(d.tsv @@ %(tsq)s::tsquery OR %(qn)s <%% d.search_text)"))
            score = sql.SQL(
                "({exact} + CASE WHEN d.tsv @@ %(tsq)s::tsquery"
                "   THEN ts_rank(d.tsv, %(tsq)s::tsquery) ELSE 0 END"
                " + word_similarity(%(qn)s, d.title_key)"
                " + 0.5 * word_similarity(%(qn)s, d.search_text))::float8"
            ).format(exact=exact)
        else:
            match.append(sql.SQL("d.tsv @@ %(tsq)s::tsquery"))
            score = sql.SQL("({exact} + 1 + ts_rank(d.tsv, %(tsq)s::tsquery))::float8").format(
                exact=exact
            )
    conditions = match + f.keys + f.rest
    filters = sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE")
    # enough to tell a broad query (BROAD_ABOVE) and a rare one (FUZZY_BELOW) apart
    params["probe"] = max(BROAD_ABOVE + 1, FUZZY_BELOW)
    params["broad_above"] = BROAD_ABOVE
    params["limit"] = query.limit + 1
    params["facet_limit"] = FACET_LIMIT
    direction = sql.SQL("DESC" if _descending(query) else "ASC")
    order = sql.SQL("sort_key {dir}, entity_type {dir}, entity_id {dir}").format(dir=direction)
    page_filter = sql.SQL("TRUE")
    if query.after is not None:
        page_filter = sql.SQL("(sort_key, entity_type, entity_id) {} (%(k)s, %(t)s, %(i)s)").format(
            sql.SQL("<" if _descending(query) else ">")
        )
        params["k"], params["t"], params["i"] = query.after

    def scored(source: sql.Composable) -> sql.Composable:
        return sql.SQL(
            "SELECT {columns}, decade, {key} AS sort_key"
            " FROM (SELECT d.*, {score} AS score FROM {source}) AS d"
        ).format(columns=sql.SQL(_COLUMNS), key=_sort_key(query), score=score, source=source)

    first = scored(
        sql.SQL("discogs.search_documents AS d WHERE {} LIMIT %(probe)s").format(filters)
    )
    if text is not None and query.sort == "relevance":
        legs = sql.SQL(" UNION ALL ").join(
            scored(source) for source in _candidates(text, f, match, filters, params)
        )
        broad_page = sql.SQL(
            "SELECT DISTINCT ON (entity_type, entity_id) * FROM ({legs}) AS c"
            " WHERE NOT EXISTS (SELECT FROM m"
            "  WHERE m.entity_type = c.entity_type AND m.entity_id = c.entity_id)"
            " UNION ALL SELECT * FROM m"
        ).format(legs=legs)
    else:
        broad_page = sql.SQL(
            "SELECT * FROM ({walk}) AS w WHERE {page_filter} ORDER BY {order} LIMIT %(limit)s"
        ).format(
            walk=scored(sql.SQL("discogs.search_documents AS d WHERE {}").format(filters)),
            page_filter=page_filter,
            order=order,
        )
    with_facets = query.facets and query.after is None
    facets = (
        sql.SQL(
            " UNION ALL SELECT 'facet', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
            "  NULL, NULL, NULL, NULL, facet, value, n FROM c WHERE rank <= %(facet_limit)s"
        )
        if with_facets
        else sql.SQL("")
    )
    page_sql = sql.SQL(
        "WITH m AS MATERIALIZED ({first}),"
        " found AS (SELECT count(*) AS n FROM m),"
        " pool AS (SELECT * FROM m WHERE (SELECT n FROM found) <= %(broad_above)s"
        "  UNION ALL SELECT * FROM ({broad_page}) AS b"
        "  WHERE (SELECT n FROM found) > %(broad_above)s),"
        " page AS (SELECT {columns}, sort_key, row_number() OVER (ORDER BY {order}) AS ordinal"
        "  FROM pool WHERE {page_filter} ORDER BY {order} LIMIT %(limit)s),"
        " v AS ({values}),"
        " c AS ({counts})"
        " SELECT 'hit' AS kind, {columns}, sort_key, ordinal, NULL AS facet, NULL AS value,"
        "  NULL::bigint AS n FROM page"
        "{facets}"
        " UNION ALL SELECT 'total', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        "  NULL, NULL, NULL, NULL, NULL, NULL, n FROM found"
    ).format(
        first=first,
        broad_page=broad_page,
        columns=sql.SQL(_COLUMNS),
        order=order,
        page_filter=page_filter,
        values=_VALUES,
        counts=_COUNTS,
        facets=facets,
    )
    return Statement(page_sql, params, with_facets, filters)


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


def _candidates(
    text: _Text,
    f: _Filters,
    match: list[sql.Composable],
    filters: sql.Composable,
    params: dict[str, Any],
) -> list[sql.Composable]:
    """Where a broad query's ranking candidates besides `m` (the first BROAD_ABOVE + 1 matches)
    come from, as FROM clauses of `d`: the first BROAD_ABOVE exact (folded) titles and the first
    BROAD_ABOVE documents with every word of the query in their title, each satisfying the
    query and all filters; so exact titles still come first and title matches next. Both are
    scans of the search index on their own keys (`x:`, `w:`) and the filters' keys. The title
    words' scan leaves the full-text match and the row filters to the rows it took: a common
    title word's documents nearly all match the query anyway, and intersecting its long posting
    list with the query's in the index costs several times more than reading its first rows."""
    sources = [
        sql.SQL(
            "discogs.search_documents AS d WHERE d.filter_keys @> ARRAY[%(title_key)s] AND {}"
            " LIMIT %(broad_above)s"
        ).format(filters)
    ]
    if text.title_words:
        inner = list(f.keys)
        for n, group in enumerate(text.title_words):
            params[f"title_words_{n}"] = group
            inner.append(
                sql.SQL("d.filter_keys && %({})s::text[]").format(sql.SQL(f"title_words_{n}"))
            )
        outer = match + f.rest
        sources.append(
            sql.SQL(
                "(SELECT * FROM discogs.search_documents AS d WHERE {} LIMIT %(broad_above)s)"
                " AS d WHERE {}"
            ).format(
                sql.SQL(" AND ").join(inner),
                sql.SQL(" AND ").join(outer) if outer else sql.SQL("TRUE"),
            )
        )
    return sources


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


def _total(rows: list[tuple]) -> int:
    return next(int(r[17]) for r in rows if r[0] == "total")


def run(conn: psycopg.Connection, query: SearchQuery) -> tuple[Statement, list[tuple]]:
    """The statement a search page runs, chosen by the matching mode, and its rows. The mode
    depends only on the query and the served data, so every page of a query uses the same."""
    text = _fold(conn, query.q) if query.q else None
    chosen = statement(query, text)
    rows = conn.execute(chosen.statement, chosen.params).fetchall()
    if text is None or _total(rows) >= FUZZY_BELOW:
        return chosen, rows
    corrected = _corrected(conn, text)
    if corrected is not None:
        retry = statement(query, corrected)
        retry_rows = conn.execute(retry.statement, retry.params).fetchall()
        if _total(retry_rows) >= FUZZY_BELOW:
            return retry, retry_rows
    fuzzy = statement(query, text, "fuzzy")
    return fuzzy, conn.execute(fuzzy.statement, fuzzy.params).fetchall()


def search(conn: psycopg.Connection, query: SearchQuery) -> SearchResult:
    chosen, rows = run(conn, query)
    hits = sorted((r for r in rows if r[0] == "hit"), key=lambda r: r[14])
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
    if not chosen.with_facets:
        return result
    found = _total(rows)
    facets: dict[str, list[dict[str, Any]]] = {name: [] for name in FACETS}
    for row in rows:
        if row[0] == "facet":
            facets[row[15]].append({"value": row[16], "count": row[17]})
    if found > BROAD_ABOVE:
        # More than BROAD_ABOVE documents match (counted): the estimate is at least that, and
        # the facets were counted over the first `found` of them.
        total = max(_estimate(conn, chosen.filters, chosen.params), found)
        sample = [(name, v["value"], v["count"], found) for name, vs in facets.items() for v in vs]
        result.total, result.exhaustive = total, False
        result.facets = _scaled_facets(sample, total)
        return result
    for values in facets.values():
        values.sort(key=lambda v: (-v["count"], v["value"]))
    result.total, result.exhaustive, result.facets = found, True, facets
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
