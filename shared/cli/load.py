"""Load local Discogs dump files into the database (same chunk, ledger and finalize path as the
queue workers, without queues).

    python -m shared.cli load discogs_20261101_releases.xml.gz [...] [--json] [--chunk-bytes N]

Entity from the file name or root element; dump date from the `discogs_YYYYMMDD_` name or
`--dump-date`. Progress goes to stderr, the summary to stdout (`--json`: one JSON object).
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import sys
import time
from collections.abc import Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from pathlib import Path
from typing import BinaryIO

import psycopg

from shared.db.connection import connect
from shared.dumps.chunking import split_records
from shared.dumps.entities import ENTITIES
from shared.dumps.files import DumpFile, DumpFileError, inspect_dump, open_dump
from shared.loading import (
    ChunkResult,
    FinalizeError,
    MonthClosedError,
    finalize_month,
    load_chunk,
)
from shared.settings import Settings, get_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help=".xml.gz or .xml dump files")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--chunk-bytes", type=int, default=None, help="chunk size (default CHUNK_TARGET_BYTES)"
    )
    parser.add_argument(
        "--dump-date",
        type=datetime.date.fromisoformat,
        default=None,
        help="YYYY-MM-DD, when the file names do not carry it",
    )
    parser.add_argument(
        "--no-finalize", action="store_true", help="load chunks only; do not publish the month"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="parse+COPY processes (each with its own connection; this process splits)",
    )


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        files = [inspect_dump(path) for path in args.paths]
    except (DumpFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dates = {args.dump_date or file.dump_date for file in files}
    if None in dates or len(dates) != 1:
        print(
            "error: all files must belong to one dump date (from discogs_YYYYMMDD_ names or "
            "--dump-date)",
            file=sys.stderr,
        )
        return 2
    dump_date = dates.pop()
    assert dump_date is not None
    files.sort(key=lambda file: ENTITIES.index(file.entity))
    chunk_bytes = args.chunk_bytes or settings.chunk_target_bytes
    if args.workers < 1:
        print("error: --workers must be >= 1", file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary: dict[str, object] = {
        "dump_date": dump_date.isoformat(),
        "workers": args.workers,
        "chunk_bytes": chunk_bytes,
        "entities": {},
    }
    expected: dict[str, int] = {}
    pool = _worker_pool(args.workers) if args.workers > 1 else None
    try:
        with connect(settings, autocommit=True) as conn:
            for file in files:
                entity_summary = _load_file(
                    conn, file, dump_date, chunk_bytes, settings, pool, args.workers
                )
                summary["entities"][file.entity] = entity_summary  # type: ignore[index]
                expected[file.entity] = int(entity_summary["chunks"])
            if not args.no_finalize:
                _progress("finalizing: keys, indexes, ANALYZE, swap …\n")
                result = finalize_month(
                    conn, dump_date, expected_chunks=expected, settings=settings
                )
                summary["finalize"] = result.to_json()
                summary["rows_per_table"] = result.rows_per_table
    except (DumpFileError, FinalizeError, MonthClosedError, ValueError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    finally:
        if pool is not None:
            pool.shutdown()
    summary["seconds"] = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        _print_summary(summary)
    return 0


def _load_file(
    conn: object,
    file: DumpFile,
    dump_date: datetime.date,
    chunk_bytes: int,
    settings: Settings,
    pool: ProcessPoolExecutor | None,
    workers: int,
) -> dict[str, object]:
    records = loaded = quarantined = out_of_scope = chunks = 0
    rows: dict[str, int] = {}
    unknown: dict[str, int] = {}
    started = time.perf_counter()
    with open_dump(file.path, file.entity) as (_, stream):
        for result in _results(conn, stream, file, dump_date, chunk_bytes, settings, pool, workers):
            chunks += 1
            records += result.record_count
            loaded += result.loaded_count
            quarantined += result.quarantined_count
            out_of_scope += result.out_of_scope_count
            for table, count in result.rows_per_table.items():
                rows[table] = rows.get(table, 0) + count
            for path, count in result.unknown_elements.items():
                unknown[path] = unknown.get(path, 0) + count
            for note in result.notes:
                _progress(f"\nnote: {note}\n")
            position = getattr(stream, "compressed_position", None) or stream.tell()
            elapsed = time.perf_counter() - started
            _progress(
                f"\r{file.path.name}: {_bar(position / max(file.size, 1))} "
                f"{records:,} records, {chunks} chunks, {records / max(elapsed, 1e-9):,.0f}/s"
                + (" (already loaded)" if result.already_loaded else "")
            )
    _progress("\n")
    return {
        "file": str(file.path),
        "chunks": chunks,
        "records": records,
        "loaded": loaded,
        "quarantined": quarantined,
        "out_of_scope": out_of_scope,
        "rows_per_table": rows,
        "unknown_elements": unknown,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _results(
    conn: object,
    stream: BinaryIO,
    file: DumpFile,
    dump_date: datetime.date,
    chunk_bytes: int,
    settings: Settings,
    pool: ProcessPoolExecutor | None,
    workers: int,
) -> Iterator[ChunkResult]:
    """Chunk results in completion order; with a pool at most 2 chunks per worker are in flight
    (memory stays bounded by the chunk size, whatever the dump size)."""
    chunks = split_records(stream, file.entity, chunk_bytes)
    if pool is None:
        # load_chunk overlaps each chunk's parse with its COPY itself; a thread reads (gunzips
        # and splits) the next chunk meanwhile (zlib releases the GIL). One chunk read ahead.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="split") as reader:
            ahead = reader.submit(next, chunks, None)
            while (chunk := ahead.result()) is not None:
                ahead = reader.submit(next, chunks, None)
                yield load_chunk(
                    conn,  # type: ignore[arg-type]
                    dump_date,
                    file.entity,
                    chunk.sequence,
                    chunk.data,
                    settings=settings,
                    first_byte_offset=chunk.first_byte_offset,
                )
        return
    pending: set[Future[ChunkResult]] = set()
    for chunk in chunks:
        if len(pending) >= 2 * workers:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
        pending.add(
            pool.submit(
                _load_in_worker,
                dump_date,
                file.entity,
                chunk.sequence,
                chunk.data,
                chunk.first_byte_offset,
            )
        )
    for future in as_completed(pending):
        yield future.result()


_worker_connection: psycopg.Connection | None = None


def _worker_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _load_in_worker(
    dump_date: datetime.date, entity: str, sequence: int, data: bytes, first_byte_offset: int
) -> ChunkResult:
    """Runs in a pool process: one connection per process, opened on first use."""
    global _worker_connection
    settings = get_settings()
    if _worker_connection is None or _worker_connection.closed:
        _worker_connection = connect(settings, autocommit=True)
    return load_chunk(
        _worker_connection,
        dump_date,
        entity,
        sequence,
        data,
        settings=settings,
        first_byte_offset=first_byte_offset,
    )


def _bar(fraction: float, width: int = 24) -> str:
    done = min(width, int(fraction * width))
    return "[" + "#" * done + "." * (width - done) + f"] {min(fraction, 1.0):4.0%}"


def _progress(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _print_summary(summary: dict[str, object]) -> None:
    print(f"dump {summary['dump_date']} loaded in {summary['seconds']} s")
    for entity, data in summary["entities"].items():  # type: ignore[attr-defined]
        print(
            f"  {entity}: {data['records']:,} records, {data['quarantined']} quarantined, "
            f"{data['chunks']} chunks, {data['seconds']} s"
        )
        for path, count in data["unknown_elements"].items():
            print(f"    unknown element {path}: {count}")
    for table, count in (summary.get("rows_per_table") or {}).items():  # type: ignore[attr-defined]
        print(f"  {table}: {count:,} rows")
    for warning in (summary.get("finalize") or {}).get("warnings", []):  # type: ignore[attr-defined]
        print(f"  warning: {warning}")
