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
from shared.pipeline.messages import (
    FetchMessage,
    LoadMessage,
    MessageError,
    SplitMessage,
    parse_message,
)
from shared.pipeline.model import (
    ChunkState,
    ChunkStatus,
    FileState,
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
from shared.storage import clients

log = logging.getLogger(__name__)

_MAX_INDEX_PAGES = 3  # the official host rate-limits hard: a discovery reads at most 3 pages


class NotFoundError(LookupError):
    pass


class ConflictError(RuntimeError):
    """The request conflicts with a run's state; `run_id` names that run where there is one."""

    def __init__(self, message: str, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


def read_index(
    settings: Settings, http: httpx.Client | None = None, *, year: int | None = None
) -> list[DumpFile]:
    """Files listed at DISCOGS_DUMP_BASE_URL and in its year folders (≤ 3 requests): the folder
    of `year` when given, else the newest folders until one holds a complete month."""
    own = http is None
    client = http or http_client(settings)
    try:
        base = settings.discogs_dump_base_url + "/"
        listing = parse_listing(get_small(client, base), base)
        files = list(listing.files)
        pages = listing.year_pages
        if not pages and not files:
            # A landing page without folder links: ask for this and last year's folders.
            this_year = lifecycle.now().year
            pages = [(y, f"{base}?prefix=data%2F{y}%2F") for y in (this_year, this_year - 1)]
        if year is not None:
            pages = [(y, url) for y, url in pages if y == year]
        for _, url in pages[: _MAX_INDEX_PAGES - 1]:
            files += parse_listing(get_small(client, url), url).files
            if year is None and newest_complete(files):
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
    if month_text == "latest":
        month = newest_complete(read_index(settings, http))
        if month is None:
            raise NotFoundError("the dump index lists no complete month")
    else:
        wanted = dt.date.fromisoformat(month_text)
        month = find_month(read_index(settings, http, year=wanted.year), wanted.year, wanted.month)
        if month is None:
            raise NotFoundError(f"the dump index lists no dump for {wanted:%Y-%m}")
        if not month.complete:
            missing = ", ".join(month.missing)
            raise ConflictError(f"the {wanted:%Y-%m} dump is incomplete (missing: {missing})")
    result = start_run(settings, month, trigger="http")
    run_id = run_id_for(month.dump_date)
    if result.decision == StartDecision.RUNNING:
        raise ConflictError(f"run {run_id} is already in progress", run_id)
    if result.decision == StartDecision.LOADED:
        raise ConflictError(f"run {run_id} already succeeded", run_id)
    return result


def run_status(settings: Settings, run_id: str) -> RunStatus:
    store = RunStore(settings)
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no ingestion run {run_id}")
    files = store.list_files(run_id, run.attempt)
    _note_poisoned(settings, store, run)
    chunks = store.list_chunks(run_id, run.attempt)
    return summarize(run, files, chunks, lifecycle.now())


def _poison_queue(settings: Settings) -> str:
    return settings.load_queue + clients.POISON_SUFFIX


def _note_poisoned(settings: Settings, store: RunStore, run: Run) -> int:
    """Mark chunks whose load message sits in the poison queue (e.g. the host died on the last
    attempt, before the handler could record it) as poisoned; returns how many were new."""
    marked = 0
    client = clients.queue(settings, _poison_queue(settings))
    for queued in client.peek_messages(max_messages=32):
        try:
            message = parse_message(LoadMessage, queued.content)
        except MessageError:
            continue
        if (message.run, message.attempt) != (run.run_id, run.attempt):
            continue
        current = store.get_chunk(run.run_id, run.attempt, message.entity, message.seq)
        if current is not None and current.state in (ChunkState.LOADED, ChunkState.POISONED):
            continue
        error = current.error if current and current.error else "moved to the poison queue"
        record_failure(
            store, message, ChunkState.POISONED, current.attempts if current else 0, error
        )
        marked += 1
    return marked


def _take_poisoned(
    settings: Settings, run: Run, limit: int = 5000
) -> dict[tuple[str, int], LoadMessage]:
    """Remove this run's messages from the load poison queue (others are left visible)."""
    client = clients.queue(settings, _poison_queue(settings))
    taken: dict[tuple[str, int], LoadMessage] = {}
    seen = 0
    while seen < limit:
        # Other runs' messages stay invisible for 30 s, so each message is read once here.
        batch = list(client.receive_messages(max_messages=32, visibility_timeout=30))
        if not batch:
            break
        for queued in batch:
            seen += 1
            try:
                message = parse_message(LoadMessage, queued.content)
            except MessageError:
                continue
            if (message.run, message.attempt) == (run.run_id, run.attempt):
                taken[(message.entity, message.seq)] = message
                client.delete_message(queued)
    return taken


def list_runs(settings: Settings, limit: int = 24) -> list[RunStatus]:
    """The newest `limit` runs (two years of monthly dumps), newest first."""
    store = RunStore(settings)
    return [
        summarize(
            run,
            store.list_files(run.run_id, run.attempt),
            store.list_chunks(run.run_id, run.attempt),
            lifecycle.now(),
        )
        for run in store.list_runs()[:limit]
    ]


@dataclass
class RetryResult:
    chunks: list[tuple[str, int]]  # (entity, sequence) re-enqueued for loading
    files: list[str]  # "<kind>: fetch" or "<kind>: split" re-enqueued for a stalled file


def retry_run(settings: Settings, run_id: str) -> RetryResult:
    """Re-enqueue the run's failed and poisoned chunks (after their cause was fixed), and the
    fetch or split of any file whose message was lost (e.g. a crash right after a state change)."""
    store = RunStore(settings)
    run = store.get_run(run_id)
    if run is None:
        raise NotFoundError(f"no ingestion run {run_id}")
    if not run.active:
        raise ConflictError(
            f"run {run_id} is {run.state}; start a new attempt with POST /api/ingestions", run_id
        )
    messages = _take_poisoned(settings, run)
    failed = {
        (c.entity, c.seq): c
        for c in store.list_chunks(run_id, run.attempt)
        if c.state in (ChunkState.FAILED, ChunkState.POISONED)
    }
    for key, chunk in failed.items():
        messages.setdefault(
            key,
            LoadMessage(
                run=run_id, attempt=run.attempt, entity=chunk.entity, seq=chunk.seq, blob=chunk.blob
            ),
        )
    files = _unstick_files(settings, store, run)
    if not messages and not files:
        raise ConflictError(f"run {run_id} has no failed or poisoned chunks to retry", run_id)
    loads = queues.load_queue(settings)  # one client for every re-queued chunk
    for (entity, seq), message in sorted(messages.items()):
        current = failed.get((entity, seq))
        store.record_chunk(
            run_id,
            run.attempt,
            ChunkStatus(
                entity=entity,
                seq=seq,
                blob=message.blob,
                state=ChunkState.RETRYING,
                attempts=current.attempts if current else 0,
                error=current.error if current else None,
                updated_at=lifecycle.now(),
            ),
        )
        queues.send_load(settings, message, client=loads)
    return RetryResult(sorted(messages), files)


_LOST_AFTER = dt.timedelta(minutes=15)  # a rescheduled fetch this late has lost its message


def _unstick_files(settings: Settings, store: RunStore, run: Run) -> list[str]:
    """Enqueue again the next step of files that wait for a message that is not coming.

    Safe against a message that is merely slow: a second fetch of a streaming file is refused by
    its lease, a second split by the file's ETag-checked claim, a finished step is a no-op."""
    files = {f.kind: f for f in store.list_files(run.run_id, run.attempt)}
    checksum = files.get(CHECKSUM)
    now = lifecycle.now()
    sent = []
    for kind, file in files.items():
        lost_wait = (
            file.state == FileState.WAITING
            and file.retry_at is not None
            and now - file.retry_at > _LOST_AFTER
        )
        ready = kind == CHECKSUM or (checksum is not None and checksum.state == FileState.VERIFIED)
        if (file.state == FileState.PENDING and ready) or lost_wait:
            queues.send_fetch(
                settings, FetchMessage(run=run.run_id, attempt=run.attempt, file=kind)
            )
            sent.append(f"{kind}: fetch")
        elif kind != CHECKSUM and file.state in (FileState.FETCHED, FileState.VERIFIED):
            queues.send_split(
                settings, SplitMessage(run=run.run_id, attempt=run.attempt, entity=kind)
            )
            sent.append(f"{kind}: split")
    return sorted(sent)
