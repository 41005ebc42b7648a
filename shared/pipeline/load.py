"""The load worker: one chunk into PostgreSQL exactly once, then the finalize check.

`load_chunk` (parsing issue) commits a chunk's rows with its ledger row, so a loader killed half
way leaves nothing behind and the redelivered message loads the chunk cleanly; a duplicate
message gets the stored result and loads nothing. The pipeline's own ledger row (what the
finalize decision counts) is written right after, idempotently. Failures are recorded on the
chunk's status row on every attempt (with the error), and as poisoned on the last one.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from azure.core.exceptions import ResourceNotFoundError

from shared.db.connection import connect
from shared.pipeline import lifecycle, queues
from shared.pipeline.chunkblob import download_chunk
from shared.pipeline.completion import finalize_if_complete
from shared.pipeline.entities import dump_date_of
from shared.pipeline.finalize import FinalizeFn, loaded_chunk, record_loaded
from shared.pipeline.messages import LoadMessage
from shared.pipeline.model import ChunkState, ChunkStatus
from shared.pipeline.runstore import RunStore
from shared.pipeline.slots import NoFreeSlotError, take_slot
from shared.settings import Settings
from shared.storage import clients

if TYPE_CHECKING:
    from shared.loading import ChunkResult

log = logging.getLogger(__name__)

# Must equal host.json extensions.queues.maxDequeueCount (tests/pipeline/test_host_json.py).
MAX_DEQUEUE_COUNT = 5
_MAX_ERROR = 2000
_BUSY_DELAY_SECONDS = (5.0, 15.0)  # spread deferred loads out


@dataclass
class LoadOptions:
    finalizer: FinalizeFn | None = None


def _counts(result: ChunkResult) -> tuple[int, int, int]:
    """(records loaded, records quarantined, unknown elements seen) of one chunk."""
    return (
        result.loaded_count,
        result.quarantined_count,
        sum(result.unknown_elements.values()),
    )


def handle_load(
    settings: Settings, message: LoadMessage, dequeue_count: int, options: LoadOptions
) -> str:
    store = RunStore(settings)
    if lifecycle.current_run(store, message.run, message.attempt) is None:
        return "ignored: run not active in this attempt"
    started = time.perf_counter()
    try:
        data = _download(settings, message)
        conn = connect(settings, autocommit=True)
    except Exception as exc:
        _record_failed(store, message, dequeue_count, exc)
        raise
    # One connection per chunk for the load and the finalize check after it (a new PostgreSQL
    # session per step was a measurable share of a small chunk's time). Autocommit: load_chunk
    # commits its own short transactions; wrapping it in ours would hold its per-month advisory
    # lock until our commit and serialise every loader of the month.
    with conn:
        try:
            take_slot(conn, settings.loader_max_connections)
            outcome = _load_chunk(conn, settings, message, data)
        except NoFreeSlotError:
            delay = random.uniform(*_BUSY_DELAY_SECONDS)
            queues.send_load(settings, message, delay_seconds=delay)
            return f"deferred {delay:.0f} s: every loader slot is busy"
        except Exception as exc:
            _record_failed(store, message, dequeue_count, exc)
            raise
        records, quarantined, unknown = outcome
        store.record_chunk(
            message.run,
            message.attempt,
            ChunkStatus(
                entity=message.entity,
                seq=message.seq,
                blob=message.blob,
                state=ChunkState.LOADED,
                records=records,
                quarantined=quarantined,
                unknown_elements=unknown,
                seconds=round(time.perf_counter() - started, 3),
                attempts=dequeue_count,
                updated_at=lifecycle.now(),
            ),
        )
        decision = finalize_if_complete(
            settings, store, message.run, message.attempt, options.finalizer, conn=conn
        )
    return f"loaded {message.entity} #{message.seq}: {records} records; finalize {decision}"


def _record_failed(
    store: RunStore, message: LoadMessage, dequeue_count: int, exc: Exception
) -> None:
    state = ChunkState.POISONED if dequeue_count >= MAX_DEQUEUE_COUNT else ChunkState.FAILED
    record_failure(store, message, state, dequeue_count, f"{type(exc).__name__}: {exc}")


def _download(settings: Settings, message: LoadMessage) -> bytes | None:
    try:
        blob = clients.container(settings, settings.chunks_container).get_blob_client(message.blob)
        # Gzip (split since chunkblob) or plain XML (older runs); a corrupt gzip chunk raises
        # ChunkBlobError, which fails the delivery and, on the last one, poisons the chunk.
        return download_chunk(blob)
    except ResourceNotFoundError:
        return None  # cleaned up after an earlier delivery loaded it? the ledger knows


def _load_chunk(
    conn: psycopg.Connection, settings: Settings, message: LoadMessage, data: bytes | None
) -> tuple[int, int, int]:
    from shared.loading import load_chunk

    dump_date = dump_date_of(message.run)
    stored = loaded_chunk(conn, dump_date, message.attempt, message.entity, message.seq)
    if stored is not None:
        return stored  # a duplicate delivery: report what the first one loaded
    if data is None:
        raise RuntimeError(f"chunk blob {message.blob} is missing")
    # Exactly once: the chunk's rows and the loader's ledger row commit together; a delivery
    # after that commit gets the stored result back instead of loading again.
    result = load_chunk(
        conn,
        dump_date,
        message.entity,
        message.seq,
        data,
        settings=settings,
        first_byte_offset=message.offset,
    )
    counts = _counts(result)
    # Then the pipeline's own (idempotent) ledger row, which the finalize decision counts.
    # A crash in between is repaired by the redelivery, which gets the stored result.
    with conn.transaction():
        record_loaded(conn, dump_date, message.attempt, message.entity, message.seq, *counts)
    return counts


def record_failure(
    store: RunStore, message: LoadMessage, state: ChunkState, attempts: int, error: str
) -> None:
    log.error(
        "load of %s #%s failed (attempt %s): %s", message.entity, message.seq, attempts, error
    )
    store.record_chunk(
        message.run,
        message.attempt,
        ChunkStatus(
            entity=message.entity,
            seq=message.seq,
            blob=message.blob,
            state=state,
            attempts=attempts,
            error=error[:_MAX_ERROR],
            updated_at=lifecycle.now(),
        ),
    )
