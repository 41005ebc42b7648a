"""Which dump month is served, and whether one is served at all."""

from __future__ import annotations

from datetime import date

import psycopg


def dump_served(conn: psycopg.Connection) -> bool:
    """True when the `discogs` schema holds a swapped-in month (its releases table exists)."""
    row = conn.execute("SELECT to_regclass('discogs.releases') IS NOT NULL").fetchone()
    return bool(row and row[0])


def search_available(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT to_regclass('discogs.search_documents') IS NOT NULL").fetchone()
    return bool(row and row[0])


def release_facts_available(conn: psycopg.Connection) -> bool:
    """Whether the served month has its per-release facts for the user statistics (a month
    finalized before they existed does not, until its API structures are rebuilt)."""
    row = conn.execute("SELECT to_regclass('discogs.release_facts') IS NOT NULL").fetchone()
    return bool(row and row[0])


def served_dump_date(conn: psycopg.Connection) -> date | None:
    """The served month's dump date from the loader's bookkeeping, when a month is served."""
    if not dump_served(conn):
        return None
    exists = conn.execute("SELECT to_regclass('loader.months') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute(
        "SELECT max(dump_date) FROM loader.months WHERE status = 'served'"
    ).fetchone()
    return row[0] if row else None
