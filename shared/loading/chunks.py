"""Loading one chunk: parse and COPY every table (at the same time) and the ledger row, in one
transaction."""

from __future__ import annotations

import datetime
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from shared.dumps.chunking import chunk_id
from shared.dumps.entities import entity_tags
from shared.dumps.parser import ParsedChunk, stream_chunk
from shared.dumps.tables import tables_for
from shared.loading.schema import MonthClosedError, ensure_month, import_schema
from shared.loading.scope import referenced_release_ids
from shared.settings import Settings

_COPY_PIECE_BYTES = 1 << 20
_QUEUED_PIECES = 8  # COPY pieces (<= a few MB each) parsed ahead of the COPY thread


@dataclass(frozen=True)
class ChunkResult:
    """What loading one chunk did (also what a repeated delivery returns, from the ledger)."""

    chunk_id: str
    dump_date: datetime.date
    entity: str
    sequence: int
    record_count: int
    loaded_count: int
    quarantined_count: int
    out_of_scope_count: int
    rows_per_table: dict[str, int]
    unknown_elements: dict[str, int]
    anomalies: dict[str, int]
    parse_seconds: float
    copy_seconds: float
    already_loaded: bool = False
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["dump_date"] = self.dump_date.isoformat()
        return data


def load_chunk(
    conn: psycopg.Connection,
    dump_date: datetime.date,
    entity: str,
    sequence: int,
    data: bytes,
    *,
    settings: Settings,
    first_byte_offset: int | None = None,
) -> ChunkResult:
    """Load one chunk of a dump month exactly once; the entry point for queue workers.

    `data` is a chunk as `shared.dumps.chunking.split_records` makes it (a well-formed document
    of whole `entity` records). The month's import schema (`import_YYYYMMDD`) is created on first
    use. All tables' rows and the ledger row (`loader.chunks`) commit in one transaction, so:
    - a chunk already in the ledger is a no-op returning the stored result (`already_loaded`);
    - concurrent deliveries of the same chunk serialise on an advisory lock, one loads;
    - a malformed record goes to `loader.quarantine` (with its byte offset when
      `first_byte_offset` is given) and the rest of the chunk loads.
    Release scope `collection` keeps only releases in `account.referenced_release_ids`.
    The chunk is streamed: a thread COPYs each table's rows batch group by batch group while
    the next batches are parsed (see `_CopyWriter`); a COPY error rolls back the whole chunk
    and is raised (a psycopg error, with a note naming the table and chunk).
    Raises ChunkFormatError (not a dump of `entity`) and MonthClosedError (month finalized).

    Pass an idle connection (autocommit, or no transaction open): each step commits by itself.
    Inside a caller's open transaction everything becomes savepoints and commits with it.
    """
    entity_tags(entity)
    if sequence < 0:
        raise ValueError("sequence must be >= 0")
    status = ensure_month(conn, dump_date, settings.release_scope)
    stored = stored_chunk_result(conn, dump_date, entity, sequence)
    if stored:
        return stored
    _check_open(dump_date, entity, sequence, status)
    keep, notes = release_scope_filter(conn, entity, settings)

    def stream_and_copy() -> tuple[ParsedChunk, float, float]:
        writer = _CopyWriter(conn, import_schema(dump_date), entity, sequence, dump_date)
        started = time.perf_counter()
        try:
            parsed = stream_chunk(
                data,
                entity,
                writer.put,
                first_byte_offset=first_byte_offset or 0,
                keep_release_ids=keep,
                raw_max_bytes=settings.quarantine_raw_max_bytes,
            )
        except BaseException:
            writer.stop()  # the thread leaves the connection before the rollback uses it
            raise
        parsed_at = time.perf_counter()
        writer.finish()
        # parse_seconds: the parse with the COPY running alongside (incl. waits on a full
        # queue); copy_seconds (from parsed_at on): the COPY left after the parse. Their sum
        # stays the chunk's load time, as before streaming (the pipeline benchmark adds them).
        return parsed, parsed_at - started, parsed_at

    return _load_once(
        conn, dump_date, entity, sequence, status, stream_and_copy, notes, len(data),
        first_byte_offset,
    )  # fmt: skip


def _load_once(
    conn: psycopg.Connection,
    dump_date: datetime.date,
    entity: str,
    sequence: int,
    status: str,
    fill: Callable[[], tuple[ParsedChunk, float, float]],
    notes: list[str],
    data_bytes: int,
    first_byte_offset: int | None,
) -> ChunkResult:
    """The exactly-once transaction of a chunk: under the chunk's advisory lock, unless the
    ledger already has it, `fill()` COPYs the rows (returning the ParsedChunk, parse seconds and
    the perf_counter time the copy time counts from); then quarantine and ledger rows."""
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('cratedigger-chunk'), hashtext(%s))",
            (chunk_id(dump_date, entity, sequence),),
        )
        stored = _stored_result(conn, dump_date, entity, sequence)
        if stored:
            return stored  # another delivery won the race
        _check_open(dump_date, entity, sequence, status)
        parsed, parse_seconds, copy_from = fill()
        _insert_quarantine(conn, dump_date, entity, sequence, parsed)
        copy_seconds = time.perf_counter() - copy_from
        result = _result(dump_date, entity, sequence, parsed, parse_seconds, copy_seconds, notes)
        _insert_ledger(conn, result, data_bytes, first_byte_offset)
    return result


class _CopyWriter:
    """The COPY half of a streamed chunk: a thread holding the connection COPYs each piece
    `stream_chunk` emits while the main thread parses the next batch (psycopg releases the
    GIL while PostgreSQL works). One connection runs one COPY at a time, so each piece is its
    own COPY statement, in the order emitted. The bounded queue keeps memory to a few pieces.

    A COPY error is kept and raised to the parser at its next `put` (so parsing stops) or by
    `finish`; after an error the thread only drains the queue, so `put` never blocks forever.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        schema: str,
        entity: str,
        sequence: int,
        dump_date: datetime.date,
    ) -> None:
        self._statements = {
            table: _copy_statement(schema, table, columns)
            for table, columns in tables_for(entity).items()
        }
        self._chunk = chunk_id(dump_date, entity, sequence)
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(_QUEUED_PIECES)
        self.error: BaseException | None = None
        # Made here (no I/O): the thread then cannot fail outside the try of its loop.
        self._cursor = conn.cursor()
        self._thread = threading.Thread(target=self._run, name="copy-writer", daemon=True)
        self._thread.start()

    def put(self, table: str, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put((table, data))

    def finish(self) -> None:
        """Wait for every piece to be COPYed; raise the COPY error if there was one."""
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._cursor.close()

    def _run(self) -> None:
        # Everything that can fail is inside the try, so the thread always drains the queue to
        # its end marker (a `put` never waits for a dead thread).
        while (item := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain: the chunk fails as a whole
            table, data = item
            try:
                _copy(self._cursor, self._statements[table], data)
            except BaseException as exc:  # re-raised in the main thread
                exc.add_note(
                    f"COPY into {table} of chunk {self._chunk} failed: the chunk's "
                    "transaction is rolled back, nothing of it is kept"
                )
                self.error = exc


def stored_chunk_result(
    conn: psycopg.Connection, dump_date: datetime.date, entity: str, sequence: int
) -> ChunkResult | None:
    """The ledger's result for a chunk already loaded, else None."""
    with conn.transaction():
        return _stored_result(conn, dump_date, entity, sequence)


def release_scope_filter(
    conn: psycopg.Connection, entity: str, settings: Settings
) -> tuple[frozenset[int] | None, list[str]]:
    """(release ids to keep or None for all, notes) for `parse_chunk(keep_release_ids=…)`."""
    if settings.release_scope != "collection" or entity != "releases":
        return None, []
    with conn.transaction():
        keep, exists = referenced_release_ids(conn)
    if exists:
        return keep, []
    return keep, [
        "release scope is 'collection' but account.referenced_release_ids does not exist yet: "
        "the scope is empty, no release is kept"
    ]


def _check_open(dump_date: datetime.date, entity: str, sequence: int, status: str) -> None:
    if status != "loading":
        raise MonthClosedError(
            f"dump {dump_date} is already finalized ({status}); chunk "
            f"{chunk_id(dump_date, entity, sequence)} was never loaded"
        )


def _copy_statement(schema: str, table: str, columns: tuple[str, ...] | list[str]) -> sql.Composed:
    return sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        sql.Identifier(schema),
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
    )


def _copy(cursor: psycopg.Cursor, statement: sql.Composed, data: bytes) -> None:
    if cursor.connection.info.encoding != "utf-8":  # e.g. a SQL_ASCII database: psycopg encodes
        data = data.decode().encode(cursor.connection.info.encoding)
    with cursor.copy(statement) as copy, memoryview(data) as view:
        # UTF-8 bytes (the parser's output) go out as they are, in pieces: rows may span
        # pieces (COPY is a stream); slices of a memoryview copy nothing.
        for start in range(0, len(data), _COPY_PIECE_BYTES):
            copy.write(view[start : start + _COPY_PIECE_BYTES])


def _insert_quarantine(
    conn: psycopg.Connection,
    dump_date: datetime.date,
    entity: str,
    sequence: int,
    parsed: ParsedChunk,
) -> None:
    if not parsed.quarantined:
        return
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO loader.quarantine (dump_date, entity, sequence, byte_offset, record_id, "
            "error, raw_record, raw_bytes, raw_truncated) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    dump_date,
                    entity,
                    sequence,
                    bad.byte_offset,
                    bad.record_id,
                    bad.error,
                    bad.raw,
                    bad.raw_bytes,
                    bad.truncated,
                )
                for bad in parsed.quarantined
            ],
        )


def _result(
    dump_date: datetime.date,
    entity: str,
    sequence: int,
    parsed: ParsedChunk,
    parse_seconds: float,
    copy_seconds: float,
    notes: list[str],
) -> ChunkResult:
    return ChunkResult(
        chunk_id=chunk_id(dump_date, entity, sequence),
        dump_date=dump_date,
        entity=entity,
        sequence=sequence,
        record_count=parsed.record_count,
        loaded_count=parsed.loaded_count,
        quarantined_count=len(parsed.quarantined),
        out_of_scope_count=parsed.out_of_scope_count,
        rows_per_table=dict(parsed.row_counts),
        unknown_elements=dict(parsed.unknown),
        anomalies=dict(parsed.anomalies),
        parse_seconds=round(parse_seconds, 6),
        copy_seconds=round(copy_seconds, 6),
        notes=notes,
    )


def _insert_ledger(
    conn: psycopg.Connection, result: ChunkResult, data_bytes: int, first_byte_offset: int | None
) -> None:
    conn.execute(
        "INSERT INTO loader.chunks (dump_date, entity, sequence, record_count, loaded_count, "
        "quarantined_count, out_of_scope_count, rows_per_table, unknown_elements, anomalies, "
        "data_bytes, first_byte_offset, parse_seconds, copy_seconds) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            result.dump_date,
            result.entity,
            result.sequence,
            result.record_count,
            result.loaded_count,
            result.quarantined_count,
            result.out_of_scope_count,
            Jsonb(result.rows_per_table),
            Jsonb(result.unknown_elements),
            Jsonb({**result.anomalies, **({"notes": result.notes} if result.notes else {})}),
            data_bytes,
            first_byte_offset,
            result.parse_seconds,
            result.copy_seconds,
        ),
    )


def _stored_result(
    conn: psycopg.Connection, dump_date: datetime.date, entity: str, sequence: int
) -> ChunkResult | None:
    row = conn.execute(
        "SELECT record_count, loaded_count, quarantined_count, out_of_scope_count, "
        "rows_per_table, unknown_elements, anomalies, parse_seconds, copy_seconds "
        "FROM loader.chunks WHERE dump_date = %s AND entity = %s AND sequence = %s",
        (dump_date, entity, sequence),
    ).fetchone()
    if row is None:
        return None
    anomalies = dict(row[6])
    notes = anomalies.pop("notes", [])
    return ChunkResult(
        chunk_id=chunk_id(dump_date, entity, sequence),
        dump_date=dump_date,
        entity=entity,
        sequence=sequence,
        record_count=row[0],
        loaded_count=row[1],
        quarantined_count=row[2],
        out_of_scope_count=row[3],
        rows_per_table=dict(row[4]),
        unknown_elements=dict(row[5]),
        anomalies=anomalies,
        parse_seconds=row[7],
        copy_seconds=row[8],
        already_loaded=True,
        notes=list(notes) if isinstance(notes, list) else [str(notes)],
    )


__all__ = [
    "ChunkResult",
    "load_chunk",
    "release_scope_filter",
    "stored_chunk_result",
]
