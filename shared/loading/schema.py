"""Names of the per-month schemas and creating a month's import tables."""

from __future__ import annotations

import datetime
from importlib import resources

import psycopg
from psycopg import sql

SERVED_SCHEMA = "discogs"
PREVIOUS_SCHEMA = "discogs_previous"
_IMPORT_PREFIX = "import_"
_RETIRED_PREFIX = "discogs_retired_"


def import_schema(dump_date: datetime.date) -> str:
    """The schema a month loads into until finalize swaps it in, e.g. `import_20261101`."""
    return f"{_IMPORT_PREFIX}{dump_date:%Y%m%d}"


def retired_schema(dump_date: datetime.date) -> str:
    return f"{_RETIRED_PREFIX}{dump_date:%Y%m%d}"


def read_sql(name: str) -> str:
    return resources.files("shared.loading").joinpath("sql", name).read_text(encoding="utf-8")


def set_search_path(conn: psycopg.Connection, schema: str) -> None:
    """Point unqualified names at `schema` for the current transaction (public stays reachable
    for pg_trgm's operator classes)."""
    conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", (schema,)
    ).fetchone()
    return bool(row and row[0])


class MonthClosedError(RuntimeError):
    """A chunk arrived for a month that is already finalized (served or retired)."""


def ensure_month(conn: psycopg.Connection, dump_date: datetime.date, release_scope: str) -> str:
    """Create the month's import schema and tables once (concurrent callers serialise on an
    advisory lock); returns the month's status (`loading`, `served`, …)."""
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('cratedigger-month'), hashtext(%s))",
            (dump_date.isoformat(),),
        )
        row = conn.execute(
            "SELECT status FROM loader.months WHERE dump_date = %s", (dump_date,)
        ).fetchone()
        if row:
            return str(row[0])
        schema = import_schema(dump_date)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        set_search_path(conn, schema)
        conn.execute(read_sql("import_tables.sql"))
        conn.execute(
            "INSERT INTO loader.months (dump_date, schema_name, release_scope) VALUES (%s, %s, %s)",
            (dump_date, schema, release_scope),
        )
        return "loading"
