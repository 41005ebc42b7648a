"""Which dump month is served, and whether one is served at all."""

from __future__ import annotations

from datetime import date

import psycopg


def table_exists(conn: psycopg.Connection, name: str) -> bool:
    """Whether the schema-qualified table `name` exists (in this transaction's view)."""
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def dump_served(conn: psycopg.Connection) -> bool:
    """True when the `discogs` schema holds a swapped-in month (its releases table exists)."""
    return table_exists(conn, "discogs.releases")


def release_facts_available(conn: psycopg.Connection) -> bool:
    """Whether the served month has its per-release facts for the user statistics (a month
    finalized before they existed does not, until its API structures are rebuilt)."""
    return table_exists(conn, "discogs.release_facts")


# `loader.months` always exists (migration 0100); the subquery runs only when the `discogs`
# schema holds a swapped-in month.
_SERVED_DUMP_DATE = (
    "CASE WHEN to_regclass('discogs.releases') IS NOT NULL"
    " THEN (SELECT max(dump_date) FROM loader.months WHERE status = 'served') END"
)


def served_dump_date(conn: psycopg.Connection) -> date | None:
    """The served month's dump date from the loader's bookkeeping, when a month is served."""
    row = conn.execute(f"SELECT {_SERVED_DUMP_DATE}").fetchone()
    return row[0] if row else None


def search_state(conn: psycopg.Connection) -> tuple[bool, bool, date | None]:
    """Whether the served month has its search documents, whether they have this version's search
    index (a month built by an older version has not, until its API structures are rebuilt), and
    its dump date: what every search response needs besides the search itself, in one round
    trip."""
    row = conn.execute(
        "SELECT to_regclass('discogs.search_documents') IS NOT NULL,"
        f" to_regclass('discogs.search_documents_match') IS NOT NULL, {_SERVED_DUMP_DATE}"
    ).fetchone()
    return (bool(row[0]), bool(row[1]), row[2]) if row else (False, False, None)
