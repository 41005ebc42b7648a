"""The import-table DDL and the parser's column lists agree (COPY names the parser's columns)."""

from __future__ import annotations

import datetime

import psycopg

from shared.db.connection import connect
from shared.dumps.tables import ALL_TABLES, ENTITY_TABLES, tables_for
from shared.loading.schema import ensure_month, import_schema
from shared.settings import Settings


def test_import_tables_have_exactly_the_parser_columns(settings: Settings) -> None:
    month = datetime.date(2026, 11, 1)
    with connect(settings, autocommit=True) as conn:
        assert ensure_month(conn, month, "all") == "loading"
        assert ensure_month(conn, month, "all") == "loading"  # idempotent
        columns = _columns(conn, import_schema(month))
    assert set(columns) == set(ALL_TABLES)
    for entity in ENTITY_TABLES:
        for table, expected in tables_for(entity).items():
            assert columns[table] == set(expected), table


def test_bookkeeping_tables_exist(settings: Settings) -> None:
    with connect(settings, autocommit=True) as conn:
        names = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'loader'"
            ).fetchall()
        }
    assert names == {"months", "chunks", "quarantine", "unknown_elements", "finalize_slices"}


def _columns(conn: psycopg.Connection, schema: str) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for table, column in conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
        (schema,),
    ).fetchall():
        result.setdefault(table, set()).add(column)
    return result
