"""Statistics: one user's collection, and the database itself.

User statistics count collection copies (instances, removed ones excluded): a record owned twice
counts twice. Genres, styles, labels, formats and artists come from Discogs' snapshot of each item
(always present); countries, credited roles, decades and playing time need the dump, so they cover
the items whose release is loaded (`totals.matched_releases` says how many). A decade is that of the
earliest year of the release's master (the master's year or its earliest dated version), so a
reissue counts in its original decade; without a master the release's own year is used.
Playing time sums the known track durations of each distinct release once (an index track's own
duration replaces those of its sub-tracks). Per-release credit roles, playing times and per-master
earliest years are computed once per month at finalize (`sql/api_structures.sql`).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from shared.queries.served import dump_served, served_dump_date

ROLE_LIMIT = 5
EXACT_COUNT_BELOW = 100_000

_ITEMS_BODY = """(
        SELECT i.instance_id, i.release_id, i.rating, i.date_added,
            i.basic_information AS bi,
            nullif(CASE WHEN i.basic_information->>'year' ~ '^[0-9]{1,4}$'
                THEN (i.basic_information->>'year')::integer END, 0) AS snapshot_year,
            nullif(CASE WHEN i.basic_information->>'master_id' ~ '^[0-9]{1,18}$'
                THEN (i.basic_information->>'master_id')::bigint END, 0) AS snapshot_master_id
        FROM account.collection_items AS i
        WHERE i.username = %(username)s AND i.removed_at IS NULL
    )"""
_ITEMS_SNAPSHOT = "items AS " + _ITEMS_BODY
_ITEMS_MATERIALIZED = "items AS MATERIALIZED " + _ITEMS_BODY
# Without the snapshot: queries that only need ids, ratings and dates never detoast it.
_ITEMS = """items AS (
        SELECT i.instance_id, i.release_id, i.rating, i.date_added
        FROM account.collection_items AS i
        WHERE i.username = %(username)s AND i.removed_at IS NULL
    )"""

# breakdown name -> (array key in basic_information, key of the name inside elements or None)
_SNAPSHOT_ARRAYS = {
    "genres": ("genres", None),
    "styles": ("styles", None),
    "labels": ("labels", "name"),
    "formats": ("formats", "name"),
    "artists": ("artists", "name"),
}


# Dump rows are looked up per item (or per distinct release) through their primary keys: the
# OFFSET 0 fence keeps the planner from hash-joining a whole dump table (a sequential scan of
# every release or credit, which grows with the dump) to a collection of a few thousand items.
_RELEASE_OF_ITEM = (
    "SELECT r.master_id, r.released_year FROM discogs.releases AS r WHERE r.id = i.release_id"
)
_COUNTRY_OF_ITEM = "SELECT r.country FROM discogs.releases AS r WHERE r.id = i.release_id"
_MASTER_YEAR = (
    "SELECT y.earliest_year FROM discogs.master_years AS y WHERE y.master_id = r.master_id"
)
_MASTER_TITLE = (
    "SELECT m.title FROM discogs.masters AS m"
    " WHERE m.id = coalesce(r.master_id, i.snapshot_master_id)"
)
_CREDITS_OF_RELEASE = (
    "SELECT c.role, c.name FROM discogs.credit_roles AS c"
    " WHERE c.release_id = copies.release_id AND c.name IS NOT NULL"
)
_PLAYING_TIME = (
    "SELECT p.seconds FROM discogs.release_playing_time AS p WHERE p.release_id = d.release_id"
)


def _lookup(join: str, select: str, alias: str = "x") -> str:
    return f"{join} LATERAL ({select} OFFSET 0) AS {alias} ON TRUE"


def _counts(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"value": str(v), "count": n} for v, n in conn.execute(query, params)]


def _totals(conn: psycopg.Connection, params: dict[str, Any], served: bool) -> dict[str, int]:
    matched = (
        "(SELECT count(*) FROM (SELECT DISTINCT release_id FROM items) AS d"
        f" {_lookup('JOIN', 'SELECT 1 FROM discogs.releases AS r WHERE r.id = d.release_id')})"
        if served
        else "0"
    )
    row = conn.execute(
        f"WITH {_ITEMS} SELECT (SELECT count(*) FROM items),"
        " (SELECT count(DISTINCT release_id) FROM items),"
        " (SELECT count(*) FROM account.wantlist_items"
        "  WHERE username = %(username)s AND removed_at IS NULL),"
        " (SELECT count(*) FROM account.inventory_listings WHERE username = %(username)s"
        "  AND removed_at IS NULL AND status = 'For Sale'),"
        f" {matched}, (SELECT count(*) FROM items WHERE rating > 0)",
        params,
    ).fetchone()
    assert row is not None
    keys = ("items", "releases", "wantlist", "inventory_for_sale", "matched_releases", "rated")
    return dict(zip(keys, row, strict=True))


def _snapshot_breakdowns(conn: psycopg.Connection, params: dict[str, Any]) -> dict[str, list]:
    """Genres, styles, labels, formats and artists in one pass over the items' snapshots."""
    parts = []
    for name, (key, inner) in _SNAPSHOT_ARRAYS.items():
        element = f"e.value->>'{inner}'" if inner else "e.value #>> '{}'"
        parts.append(
            f"SELECT '{name}' AS breakdown, i.instance_id, {element} AS value FROM items AS i"
            f" CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(i.bi->'{key}')"
            f" = 'array' THEN i.bi->'{key}' ELSE '[]'::jsonb END) AS e"
        )
    rows = conn.execute(
        f"WITH {_ITEMS_MATERIALIZED}, v AS (SELECT DISTINCT * FROM ("
        + " UNION ALL ".join(parts)
        + ") AS x WHERE value IS NOT NULL AND value <> ''),"
        " c AS (SELECT breakdown, value, count(*) AS n, row_number() OVER"
        "  (PARTITION BY breakdown ORDER BY count(*) DESC, value) AS rank"
        "  FROM v GROUP BY breakdown, value)"
        " SELECT breakdown, value, n FROM c WHERE rank <= %(top)s ORDER BY breakdown, rank",
        params,
    ).fetchall()
    found: dict[str, list] = {name: [] for name in _SNAPSHOT_ARRAYS}
    for breakdown, value, n in rows:
        found[breakdown].append({"value": value, "count": n})
    return found


def _countries(conn: psycopg.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    return _counts(
        conn,
        f"WITH {_ITEMS} SELECT r.country, count(*) FROM items AS i"
        f" {_lookup('JOIN', _COUNTRY_OF_ITEM, 'r')}"
        " WHERE r.country IS NOT NULL AND r.country <> ''"
        " GROUP BY r.country ORDER BY count(*) DESC, r.country LIMIT %(top)s",
        params,
    )


def _decades(conn: psycopg.Connection, params: dict[str, Any], served: bool) -> list[dict]:
    if served:
        year = "coalesce(y.earliest_year, nullif(r.released_year, 0), i.snapshot_year)"
        source = (
            f"items AS i {_lookup('LEFT JOIN', _RELEASE_OF_ITEM, 'r')}"
            f" {_lookup('LEFT JOIN', _MASTER_YEAR, 'y')}"
        )
    else:
        year, source = "i.snapshot_year", "items AS i"
    rows = conn.execute(
        f"WITH {_ITEMS_SNAPSHOT} SELECT year / 10 * 10 AS decade, count(*) FROM ("
        f" SELECT {year} AS year FROM {source}) AS y WHERE year IS NOT NULL"
        " GROUP BY 1 ORDER BY 1",
        params,
    ).fetchall()
    return [{"value": str(decade), "count": n} for decade, n in rows]


def _roles(conn: psycopg.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The most credited roles and, for each, the artists credited on most items. Work is done
    per distinct release (credit_roles holds each release's roles once) and weighted by how many
    copies of the release the user owns, so it equals counting items."""
    rows = conn.execute(
        f"WITH {_ITEMS}, copies AS (SELECT release_id, count(*) AS n FROM items GROUP BY 1),"
        " credits AS MATERIALIZED ("
        "  SELECT DISTINCT copies.release_id, c.role, c.name, copies.n FROM copies"
        f"  {_lookup('JOIN', _CREDITS_OF_RELEASE, 'c')}"
        " ), top_roles AS ("
        "  SELECT role, sum(n) AS n FROM (SELECT DISTINCT release_id, role, n FROM credits) AS r"
        "  GROUP BY role ORDER BY n DESC, role LIMIT %(role_limit)s"
        " ), ranked AS ("
        "  SELECT c.role, c.name, sum(c.n) AS n,"
        "   row_number() OVER (PARTITION BY c.role ORDER BY sum(c.n) DESC, c.name) AS rank"
        "  FROM credits AS c JOIN top_roles USING (role) GROUP BY c.role, c.name"
        " ) SELECT r.role, r.name, r.n FROM ranked AS r JOIN top_roles AS t USING (role)"
        " WHERE r.rank <= %(top)s ORDER BY t.n DESC, r.role, r.rank",
        {**params, "role_limit": ROLE_LIMIT},
    ).fetchall()
    roles: dict[str, list[dict[str, Any]]] = {}
    for role, name, n in rows:
        roles.setdefault(role, []).append({"value": name, "count": int(n)})
    return [{"role": role, "artists": artists} for role, artists in roles.items()]


def _playing_time(conn: psycopg.Connection, params: dict[str, Any]) -> int:
    row = conn.execute(
        f"WITH {_ITEMS} SELECT coalesce(sum(p.seconds), 0)"
        " FROM (SELECT DISTINCT release_id FROM items) AS d"
        f" {_lookup('JOIN', _PLAYING_TIME, 'p')}",
        params,
    ).fetchone()
    return int(row[0]) if row else 0


def _duplicates(conn: psycopg.Connection, params: dict[str, Any], served: bool) -> list[dict]:
    if served:
        master = "coalesce(r.master_id, i.snapshot_master_id)"
        title = "coalesce(m.title, i.bi->>'title')"
        source = (
            f"items AS i {_lookup('LEFT JOIN', _RELEASE_OF_ITEM, 'r')}"
            f" {_lookup('LEFT JOIN', _MASTER_TITLE, 'm')}"
        )
    else:
        master, title, source = "i.snapshot_master_id", "i.bi->>'title'", "items AS i"
    rows = conn.execute(
        f"WITH {_ITEMS_SNAPSHOT} SELECT master_id, min(title), count(*) AS copies,"
        " array_agg(DISTINCT release_id ORDER BY release_id)"
        f" FROM (SELECT {master} AS master_id, {title} AS title, i.release_id FROM {source}) AS x"
        " WHERE master_id IS NOT NULL GROUP BY master_id HAVING count(*) > 1"
        " ORDER BY copies DESC, master_id LIMIT %(top)s",
        params,
    ).fetchall()
    return [
        {"master_id": m, "title": t, "copies": n, "release_ids": list(ids)} for m, t, n, ids in rows
    ]


def user_stats_fingerprint(conn: psycopg.Connection, username: str) -> tuple[str, ...]:
    """What a user's statistics depend on: row counts and last changes of the account data, and
    the identity of the served month's releases table (it changes with every swap)."""
    row = conn.execute(
        "SELECT"
        " (SELECT (count(*), max(updated_at), max(removed_at))::text"
        "  FROM account.collection_items WHERE username = %(u)s),"
        " (SELECT (count(*), max(updated_at), max(removed_at))::text"
        "  FROM account.wantlist_items WHERE username = %(u)s),"
        " (SELECT (count(*), max(updated_at), max(removed_at), max(sold_at))::text"
        "  FROM account.inventory_listings WHERE username = %(u)s),"
        " (SELECT (count(*), max(fetched_at))::text"
        "  FROM account.collection_values WHERE username = %(u)s),"
        " to_regclass('discogs.releases')::oid::text,"
        " to_regclass('discogs.master_years')::oid::text",
        {"u": username},
    ).fetchone()
    return tuple(str(value) for value in row or ())


def user_stats(conn: psycopg.Connection, username: str, top: int) -> dict[str, Any]:
    """Every statistic of one (resolved) user, from one consistent snapshot."""
    params = {"username": username, "top": top}
    served = dump_served(conn)
    stats: dict[str, Any] = {"username": username, "totals": _totals(conn, params, served)}
    stats.update(_snapshot_breakdowns(conn, params))
    stats["countries"] = _countries(conn, params) if served else []
    stats["decades"] = _decades(conn, params, served)
    stats["roles"] = _roles(conn, params) if served else []
    stats["playing_time_seconds"] = _playing_time(conn, params) if served else 0
    stats["duplicates"] = _duplicates(conn, params, served)
    stats["additions_per_month"] = [
        {"month": month, "count": n}
        for month, n in conn.execute(
            f"WITH {_ITEMS} SELECT to_char(date_added AT TIME ZONE 'UTC', 'YYYY-MM'), count(*)"
            " FROM items WHERE date_added IS NOT NULL GROUP BY 1 ORDER BY 1",
            params,
        )
    ]
    stats["ratings"] = [
        {"rating": rating, "count": n}
        for rating, n in conn.execute(
            f"WITH {_ITEMS} SELECT rating, count(*) FROM items GROUP BY 1 ORDER BY 1", params
        )
    ]
    cursor = conn.cursor(row_factory=dict_row)
    stats["value_over_time"] = cursor.execute(
        "SELECT fetched_at, minimum, median, maximum, currency FROM account.collection_values"
        " WHERE username = %(username)s ORDER BY fetched_at",
        params,
    ).fetchall()
    return stats


def database_stats(conn: psycopg.Connection) -> dict[str, Any]:
    """Rows and bytes per table of the served, account and loader schemas; the served month."""
    tables = []
    for schema, table, estimate, size in conn.execute(
        "SELECT n.nspname, c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)"
        " FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('discogs', 'account', 'loader')"
        " ORDER BY n.nspname, c.relname"
    ).fetchall():
        rows = estimate
        if estimate < EXACT_COUNT_BELOW:
            counted = conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
            ).fetchone()
            rows = counted[0] if counted else 0
        tables.append({"schema_name": schema, "table": table, "rows": rows, "bytes": size})
    last = None
    if conn.execute("SELECT to_regclass('loader.months') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
        row = conn.execute(
            "SELECT dump_date, status, created_at, finalized_at FROM loader.months"
            " ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        if row:
            last = dict(
                zip(("dump_date", "status", "created_at", "finalized_at"), row, strict=True)
            )
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return {
        "served_dump": served_dump_date(conn),
        "last_ingestion": last,
        "database_bytes": size[0] if size else 0,
        "tables": tables,
    }
