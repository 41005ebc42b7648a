"""Statistics: one user's collection, and the database itself.

User statistics count collection copies (instances, removed ones excluded): a record owned twice
counts twice. Genres, styles, labels, formats and artists come from Discogs' snapshot of each item
(always present); countries, credited roles, decades and playing time need the dump, so they cover
the items whose release is loaded (`totals.matched_releases` says how many). A decade is that of the
earliest year of the release's master (the master's year or its earliest dated version), so a
reissue counts in its original decade; without a master the release's own year is used.
Playing time sums the known track durations of each distinct release once (an index track's own
duration replaces those of its sub-tracks).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from shared.queries.served import dump_served, served_dump_date

ROLE_LIMIT = 5
EXACT_COUNT_BELOW = 100_000

_ITEMS = """
    items AS (
        SELECT i.instance_id, i.release_id, i.rating, i.date_added,
            i.basic_information AS bi,
            nullif(CASE WHEN i.basic_information->>'year' ~ '^[0-9]{1,4}$'
                THEN (i.basic_information->>'year')::integer END, 0) AS snapshot_year,
            nullif(CASE WHEN i.basic_information->>'master_id' ~ '^[0-9]{1,18}$'
                THEN (i.basic_information->>'master_id')::bigint END, 0) AS snapshot_master_id
        FROM account.collection_items AS i
        WHERE i.username = %(username)s AND i.removed_at IS NULL
    )"""

_SNAPSHOT_PATHS = {
    "genres": "$.genres[*]",
    "styles": "$.styles[*]",
    "labels": "$.labels[*].name",
    "formats": "$.formats[*].name",
    "artists": "$.artists[*].name",
}


def _counts(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"value": str(v), "count": n} for v, n in conn.execute(query, params)]


def _totals(conn: psycopg.Connection, params: dict[str, Any], served: bool) -> dict[str, int]:
    matched = (
        "(SELECT count(DISTINCT i.release_id) FROM items AS i"
        " JOIN discogs.releases AS r ON r.id = i.release_id)"
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


def _snapshot_breakdown(
    conn: psycopg.Connection, path: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    return _counts(
        conn,
        f"WITH {_ITEMS} SELECT value, count(*) FROM ("
        " SELECT DISTINCT i.instance_id, v #>> '{}' AS value"
        " FROM items AS i CROSS JOIN LATERAL jsonb_path_query(i.bi, %(path)s::jsonpath) AS v"
        ") AS per_item WHERE value IS NOT NULL AND value <> ''"
        " GROUP BY value ORDER BY count(*) DESC, value LIMIT %(top)s",
        {**params, "path": path},
    )


def _countries(conn: psycopg.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    return _counts(
        conn,
        f"WITH {_ITEMS} SELECT r.country, count(*) FROM items AS i"
        " JOIN discogs.releases AS r ON r.id = i.release_id"
        " WHERE r.country IS NOT NULL AND r.country <> ''"
        " GROUP BY r.country ORDER BY count(*) DESC, r.country LIMIT %(top)s",
        params,
    )


def _decades(conn: psycopg.Connection, params: dict[str, Any], served: bool) -> list[dict]:
    if served:
        year = (
            "coalesce(least(nullif(m.year, 0), (SELECT min(v.released_year)"
            " FROM discogs.releases AS v WHERE v.master_id = r.master_id AND v.released_year > 0)),"
            " nullif(r.released_year, 0), i.snapshot_year)"
        )
        source = (
            "items AS i LEFT JOIN discogs.releases AS r ON r.id = i.release_id"
            " LEFT JOIN discogs.masters AS m ON m.id = r.master_id"
        )
    else:
        year, source = "i.snapshot_year", "items AS i"
    rows = conn.execute(
        f"WITH {_ITEMS} SELECT year / 10 * 10 AS decade, count(*) FROM ("
        f" SELECT {year} AS year FROM {source}) AS y WHERE year IS NOT NULL"
        " GROUP BY 1 ORDER BY 1",
        params,
    ).fetchall()
    return [{"value": str(decade), "count": n} for decade, n in rows]


def _roles(conn: psycopg.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"WITH {_ITEMS}, credits AS MATERIALIZED ("
        " SELECT DISTINCT i.instance_id, c.role, c.name"
        " FROM items AS i JOIN discogs.credit_roles AS c ON c.release_id = i.release_id"
        " ), top_roles AS ("
        "  SELECT role, count(DISTINCT instance_id) AS n FROM credits"
        "  WHERE role <> '' AND name IS NOT NULL"
        "  GROUP BY role ORDER BY n DESC, role LIMIT %(role_limit)s"
        " ), ranked AS ("
        "  SELECT c.role, c.name, count(*) AS n,"
        "   row_number() OVER (PARTITION BY c.role ORDER BY count(*) DESC, c.name) AS rank"
        "  FROM credits AS c JOIN top_roles USING (role) WHERE c.name IS NOT NULL"
        "  GROUP BY c.role, c.name"
        " ) SELECT r.role, r.name, r.n FROM ranked AS r JOIN top_roles AS t USING (role)"
        " WHERE r.rank <= %(top)s ORDER BY t.n DESC, r.role, r.rank",
        {**params, "role_limit": ROLE_LIMIT},
    ).fetchall()
    roles: dict[str, list[dict[str, Any]]] = {}
    for role, name, n in rows:
        roles.setdefault(role, []).append({"value": name, "count": n})
    return [{"role": role, "artists": artists} for role, artists in roles.items()]


def _playing_time(conn: psycopg.Connection, params: dict[str, Any]) -> int:
    row = conn.execute(
        f"WITH {_ITEMS} SELECT coalesce(sum(t.duration_seconds), 0)"
        " FROM (SELECT DISTINCT release_id FROM items) AS d"
        " JOIN discogs.release_tracks AS t ON t.release_id = d.release_id"
        " LEFT JOIN discogs.release_tracks AS p"
        "  ON p.release_id = t.release_id AND p.sequence = t.parent_sequence"
        " WHERE t.duration_seconds IS NOT NULL AND p.duration_seconds IS NULL",
        params,
    ).fetchone()
    return int(row[0]) if row else 0


def _duplicates(conn: psycopg.Connection, params: dict[str, Any], served: bool) -> list[dict]:
    if served:
        master = "coalesce(r.master_id, i.snapshot_master_id)"
        title = "coalesce(m.title, i.bi->>'title')"
        source = (
            "items AS i LEFT JOIN discogs.releases AS r ON r.id = i.release_id"
            " LEFT JOIN discogs.masters AS m ON m.id = coalesce(r.master_id, i.snapshot_master_id)"
        )
    else:
        master, title, source = "i.snapshot_master_id", "i.bi->>'title'", "items AS i"
    rows = conn.execute(
        f"WITH {_ITEMS} SELECT master_id, min(title), count(*) AS copies,"
        " array_agg(DISTINCT release_id ORDER BY release_id)"
        f" FROM (SELECT {master} AS master_id, {title} AS title, i.release_id FROM {source}) AS x"
        " WHERE master_id IS NOT NULL GROUP BY master_id HAVING count(*) > 1"
        " ORDER BY copies DESC, master_id LIMIT %(top)s",
        params,
    ).fetchall()
    return [
        {"master_id": m, "title": t, "copies": n, "release_ids": list(ids)} for m, t, n, ids in rows
    ]


def user_stats(conn: psycopg.Connection, username: str, top: int) -> dict[str, Any]:
    """Every statistic of one (resolved) user, from one consistent snapshot."""
    params = {"username": username, "top": top}
    served = dump_served(conn)
    stats: dict[str, Any] = {"username": username, "totals": _totals(conn, params, served)}
    for name, path in _SNAPSHOT_PATHS.items():
        stats[name] = _snapshot_breakdown(conn, path, params)
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
