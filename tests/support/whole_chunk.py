"""The whole-chunk loading path (`parse_chunk`, then COPY every table), what `load_chunk` did
before streaming. Only tests and the streaming A/B benchmark compare against it, so it lives
here, built from the loader's own exactly-once transaction and COPY helpers."""

from __future__ import annotations

import datetime
import time

import psycopg

from shared.dumps.parser import ParsedChunk
from shared.dumps.tables import tables_for
from shared.loading.chunks import ChunkResult, _copy, _copy_statement, _load_once
from shared.loading.schema import ensure_month, import_schema
from shared.settings import Settings


def write_parsed_chunk(
    conn: psycopg.Connection,
    dump_date: datetime.date,
    entity: str,
    sequence: int,
    parsed: ParsedChunk,
    *,
    settings: Settings,
    data_bytes: int,
    first_byte_offset: int | None = None,
    parse_seconds: float = 0.0,
    notes: list[str] | None = None,
) -> ChunkResult:
    """The database half of `load_chunk` for a chunk parsed beforehand: same transaction,
    ledger and exactly-once rules, each table COPYed whole."""
    status = ensure_month(conn, dump_date, settings.release_scope)
    schema = import_schema(dump_date)

    def copy_tables() -> tuple[ParsedChunk, float, float]:
        started = time.perf_counter()
        with conn.cursor() as cursor:
            for table, columns in tables_for(entity).items():
                data = parsed.copy_data.get(table)
                if data:
                    _copy(cursor, _copy_statement(schema, table, columns), data)
        return parsed, parse_seconds, started

    return _load_once(
        conn, dump_date, entity, sequence, status, copy_tables, notes or [], data_bytes,
        first_byte_offset,
    )  # fmt: skip
