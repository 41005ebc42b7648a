"""What the pipeline's triggers call: discover and start runs, status, retry, poison handling."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import httpx

from shared.db.connection import connect
from shared.pipeline import lifecycle, queues
from shared.pipeline.entities import CHECKSUM, FILE_KINDS, dump_blob_name, run_id_for
from shared.pipeline.finalize import begin_attempt
from shared.pipeline.index import DumpFile, DumpMonth, find_month, newest_complete, parse_listing
from shared.pipeline.load import record_failure
from shared.pipeline.messages import FetchMessage, LoadMessage
from shared.pipeline.model import (
    ChunkState,
    ChunkStatus,
    FileStatus,
    Run,
    RunState,
    StartDecision,
    decide_start,
)
from shared.pipeline.progress import RunStatus, summarize
from shared.pipeline.runstore import RunConflictError, RunStore
from shared.pipeline.source import get_small, http_client
from shared.settings import Settings

log = logging.getLogger(__name__)

_MAX_INDEX_PAGES = 3  # the official host rate-limits hard: a discovery reads at most 3 pages


class NotFoundError(LookupError):
    pass


class ConflictError(RuntimeError):
    pass


def read_index(settings: Settings, http: httpx.Client | None = None) -> list[DumpFile]:
    """Files listed at DISCOGS_DUMP_BASE_URL and in its newest year folders (≤ 3 requests)."""
    own = http is None
    client = http or http_client(settings)
    try:
        base = settings.discogs_dump_base_url + "/"
        listing = parse_listing(get_small(client, base), base)
        files = list(listing.files)
        for _, url in listing.year_pages[: _MAX_INDEX_PAGES - 1]:
            files += parse_listing(get_small(client, url), url).files
            if newest_complete(files):
                break
        return files
    finally:
        if own:
            client.close()


@dataclass
class StartResult:
    decision: StartDecision
    run: Run | None
    month: DumpMonth | None = None


def start_run(settings: Settings, month: DumpMonth, trigger: str) -> StartResult:
    """Create (or restart) the month's run, unless it is loaded or already running."""
    store = RunStore(settings)
    run_id = run_id_for(month.dump_date)
    existing = store.get_run(run_id)
    decision = decide_start(existing)
    if decision in (StartDecision.LOADED, StartDecision.RUNNING):
        return StartResult(decision, existing, month)
    now = lifecycle.now()
    try:
        if existing is None:
            run = store.create_run(
                Run(run_id=run_id, dump_date=month.dump_date, trigger=trigger, created_at=now)
            )
        else:
            existing.attempt += 1
            existing.state, existing.reason, existing.trigger = RunState.FETCHING, None, trigger
            existing.created_at, existing.finished_at = now, None
            run = store.replace_run(existing)
    except RunConflictError:
        # Another instance started it between our read and our write: it won.
        return StartResult(StartDecision.RUNNING, store.get_run(run_id), month)
    files = [
        FileStatus(
            kind=kind,
            name=month.files[kind].name,
            url=month.files[kind].url,
            listed_size=month.files[kind].size,
            blob=dump_blob_name(month.dump_date, kind),
        )
        for kind in FILE_KINDS
    ]
    store.put_files(run_id, run.attempt, files)
    with connect(settings) as conn:
        begin_attempt(conn, month.dump_date, run.attempt)
    queues.send_fetch(settings, FetchMessage(run=run_id, attempt=run.attempt, file=CHECKSUM))
    log.info("started run %s attempt %s (%s)", run_id, run.attempt, trigger)
    return StartResult(decision, run, month)


def discover(settings: Settings, http: httpx.Client | None = None) -> StartResult | None:
    """The timer's job: start the newest complete month unless loaded or in progress."""
    files = read_index(settings, http)
    month = newest_complete(files)
    if month is None:
        log.info("dump index lists no complete month (%d files)", len(files))
        return None
    return start_run(settings, month, trigger="timer")


def start_requested(
    settings: Settings, month_text: str, http: httpx.Client | None = None
) -> StartResult:
    """POST /api/ingestions: "latest" or a date within the wanted month ("2026-11-01")."""
    files = read_index(settings, http)
    if month_text == "latest":
        month = newest_complete(files)
        if month is None:
            raise NotFoundError("the dump index lists no complete month")
    else:
        wanted = dt.date.fromisoformat(month_text)
        month = find_month(files, wanted.year, wanted.month)
        if month is None:
            raise NotFoundError(f"the dump index lists no dump for {wanted:%Y-%m}")
        if not month.complete:
            missing = ", ".join(month.missing)
            raise ConflictError(f"the {wanted:%Y-%m} dump is incomplete (missing: {missing})")
    result = start_run(settings, month, trigger="http")
    if result.decision == StartDecision.RUNNING:
        raise ConflictError(f"run {run_id_for(month.dump_date)} is already in progress")
    if result.decision == StartDecision.LOADED:
        raise ConflictError(f"run {run_id_for(month.dump_date)} already succeeded")
    return result


def run_status(settings: Settings, run_id: str) -> RunStatus:
    store = RunStore(settings)
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no ingestion run {run_id}")
    files = store.list_files(run_id, run.attempt)
    chunks = store.list_chunks(run_id, run.attempt)
    return summarize(run, files, chunks, lifecycle.now())


def list_runs(settings: Settings) -> list[RunStatus]:
    store = RunStore(settings)
    return [
        summarize(
            run,
            store.list_files(run.run_id, run.attempt),
            store.list_chunks(run.run_id, run.attempt),
            lifecycle.now(),
        )
        for run in store.list_runs()
    ]


def retry_run(settings: Settings, run_id: str) -> list[ChunkStatus]:
    """Re-enqueue the run's failed and poisoned chunks (after their cause was fixed)."""
    store = RunStore(settings)
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no ingestion run {run_id}")
    if not run.active:
        raise ConflictError(
            f"run {run_id} is {run.state}; start a new attempt with POST /api/ingestions"
        )
    retried = []
    for chunk in store.list_chunks(run_id, run.attempt):
        if chunk.state not in (ChunkState.FAILED, ChunkState.POISONED):
            continue
        message = LoadMessage(
            run=run_id, attempt=run.attempt, entity=chunk.entity, seq=chunk.seq, blob=chunk.blob
        )
        queues.send_load(settings, message)
        retried.append(
            store.record_chunk(
                run_id,
                run.attempt,
                chunk.model_copy(
                    update={"state": ChunkState.RETRYING, "updated_at": lifecycle.now()}
                ),
            )
        )
    if not retried:
        raise ConflictError(f"run {run_id} has no failed or poisoned chunks to retry")
    return retried


def note_poisoned(settings: Settings, body: str) -> str:
    """A load message reached the poison queue: make it visible in the run status."""
    from shared.pipeline.messages import MessageError, parse_message

    try:
        message = parse_message(LoadMessage, body)
    except MessageError as exc:
        return f"ignored: {exc}"
    store = RunStore(settings)
    current = store.get_chunk(message.run, message.attempt, message.entity, message.seq)
    if current is not None and current.state == ChunkState.LOADED:
        return "ignored: chunk is loaded"
    error = current.error if current and current.error else "moved to the poison queue"
    attempts = current.attempts if current else 0
    record_failure(store, message, ChunkState.POISONED, attempts, error)
    return f"chunk {message.entity} #{message.seq} poisoned"
