"""The fetch worker: one file of a run into Blob Storage, then hand it to the split.

Order of preference: a server-side copy (Azure; nothing flows through the function), else a
streamed GET staged block by block. A broken stream resumes from the staged blocks with a Range
request when the host honours it and restarts from byte 0 when it does not. Short network hiccups
are retried at once a few times; then the message is rescheduled with backoff. A 429 reschedules
the message by its Retry-After. No code path sleeps.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import httpx
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobClient

from shared.pipeline import lifecycle, queues
from shared.pipeline.backoff import MAX_FETCH_TRIES, reschedule_delay
from shared.pipeline.blocks import (
    DEFAULT_BLOCK_BYTES,
    BlockWriter,
    ResumePoint,
    block_id,
    resume_point,
)
from shared.pipeline.checksums import ChecksumFormatError, parse_checksums
from shared.pipeline.completion import finalize_if_complete
from shared.pipeline.entities import CHECKSUM, ENTITIES
from shared.pipeline.fetchsplit import StreamingSplit
from shared.pipeline.messages import FetchMessage, SplitMessage
from shared.pipeline.model import FileState, FileStatus, check_digest
from shared.pipeline.runstore import RunConflictError, RunStore
from shared.pipeline.servercopy import CopyProgress, CopyUnavailableError, ServerCopy
from shared.pipeline.source import (
    RateLimitedError,
    SourceError,
    TransientSourceError,
    final_url,
    get_small,
    http_client,
    open_stream,
)
from shared.pipeline.split import SplitTotals, complete_split
from shared.settings import Settings
from shared.storage import clients

log = logging.getLogger(__name__)

COPY_TIMEOUT = dt.timedelta(hours=2)  # a server-side copy slower than streaming is stuck
FETCH_LEASE = dt.timedelta(minutes=5)  # a streaming fetch stages a block every few seconds
DONE_STATES = frozenset(
    {FileState.FETCHED, FileState.VERIFIED, FileState.SPLITTING, FileState.SPLIT}
)


@dataclass
class FetchOptions:
    block_bytes: int = DEFAULT_BLOCK_BYTES
    inline_retries: int = 3  # immediate resumes within one invocation before rescheduling
    server_copy: ServerCopy | None = None  # None: stream only (Azurite cannot copy from a URL)
    copy_poll_seconds: float = 20.0
    http: httpx.Client | None = field(default=None, repr=False)
    # Decompress, chunk and enqueue while streaming (fetchsplit); the function app turns it on.
    split_while_fetching: bool = False
    gzip_implementation: str = "isal"


def use_server_copy(settings: Settings) -> bool:
    """Copy Blob from a URL works in Azure only; Azurite refuses external sources."""
    conn = (settings.storage_connection_string or "").lower()
    return "usedevelopmentstorage" not in conn and "devstoreaccount1" not in conn


def handle_fetch(settings: Settings, message: FetchMessage, options: FetchOptions) -> str:
    """Process one fetch message; returns a short outcome for the log."""
    store = RunStore(settings)
    if lifecycle.current_run(store, message.run, message.attempt) is None:
        return "ignored: run not active in this attempt"
    file = store.get_file(message.run, message.attempt, message.file)
    if file is None or file.state in DONE_STATES or file.state == FileState.FAILED:
        return f"ignored: file is {file.state if file else 'unknown'}"
    http = options.http or http_client(settings)
    try:
        if message.file == CHECKSUM:
            return _fetch_checksum(settings, store, message, file, http)
        return _fetch_data_file(settings, store, message, file, http, options)
    except RateLimitedError as exc:
        _mark_waiting(store, message, exc.retry_after, str(exc))
        queues.send_fetch(settings, message, delay_seconds=exc.retry_after)
        return f"rescheduled in {exc.retry_after:.0f} s: rate limited"
    except TransientSourceError as exc:
        tries = message.tries + 1
        if tries > MAX_FETCH_TRIES:
            lifecycle.fail_file(store, message.run, message.attempt, message.file, str(exc))
            return f"failed after {tries} tries: {exc}"
        delay = reschedule_delay(tries)
        _mark_waiting(store, message, delay, str(exc))
        queues.send_fetch(settings, message.model_copy(update={"tries": tries}), delay)
        return f"rescheduled in {delay:.0f} s: {exc}"
    except SourceError as exc:
        lifecycle.fail_file(store, message.run, message.attempt, message.file, str(exc))
        return f"failed: {exc}"
    finally:
        if options.http is None:
            http.close()


def _mark_waiting(store: RunStore, message: FetchMessage, delay: float, reason: str) -> None:
    retry_at = lifecycle.now() + dt.timedelta(seconds=delay)

    def change(file: FileStatus) -> bool:
        file.state, file.retry_at, file.error = FileState.WAITING, retry_at, reason
        return True

    store.update_file(message.run, message.attempt, message.file, change)


def _dump_blob(settings: Settings, file: FileStatus) -> BlobClient:
    return clients.container(settings, settings.dumps_container).get_blob_client(file.blob)


# --- the CHECKSUM file ----------------------------------------------------------------------
def _fetch_checksum(
    settings: Settings,
    store: RunStore,
    message: FetchMessage,
    file: FileStatus,
    http: httpx.Client,
) -> str:
    body = get_small(http, file.url)
    _dump_blob(settings, file).upload_blob(body, overwrite=True)
    try:
        sums = parse_checksums(body)
    except ChecksumFormatError as exc:
        lifecycle.fail_file(store, message.run, message.attempt, CHECKSUM, str(exc))
        return f"failed: {exc}"
    data_files = {f.kind: f for f in store.list_files(message.run, message.attempt)}
    missing = [data_files[e].name for e in ENTITIES if data_files[e].name not in sums]
    if missing:
        reason = f"CHECKSUM has no entry for {', '.join(missing)}"
        lifecycle.fail_file(store, message.run, message.attempt, CHECKSUM, reason)
        return f"failed: {reason}"
    for entity in ENTITIES:
        digest = sums[data_files[entity].name]

        def set_expected(f: FileStatus, digest: str = digest) -> bool:
            f.expected_sha256 = digest
            return True

        store.update_file(message.run, message.attempt, entity, set_expected)

    def verified(f: FileStatus) -> bool:
        f.state, f.bytes_fetched, f.error, f.retry_at = FileState.VERIFIED, len(body), None, None
        return True

    store.update_file(message.run, message.attempt, CHECKSUM, verified)
    for entity in ENTITIES:
        queues.send_fetch(
            settings, FetchMessage(run=message.run, attempt=message.attempt, file=entity)
        )
    return f"checksums for {len(sums)} files; data fetches enqueued"


# --- data files -----------------------------------------------------------------------------
def _fetch_data_file(
    settings: Settings,
    store: RunStore,
    message: FetchMessage,
    file: FileStatus,
    http: httpx.Client,
    options: FetchOptions,
) -> str:
    blob = _dump_blob(settings, file)
    if options.server_copy is not None and not file.copy_failed:
        outcome = _server_copy(settings, store, message, file, blob, http, options)
        if outcome is not None:
            return outcome
        file = store.get_file(message.run, message.attempt, message.file) or file
    return _stream(settings, store, message, file, blob, http, options)


def _server_copy(
    settings: Settings,
    store: RunStore,
    message: FetchMessage,
    file: FileStatus,
    blob: BlobClient,
    http: httpx.Client,
    options: FetchOptions,
) -> str | None:
    """Start or poll a server-side copy; None means fall back to streaming."""
    copier = options.server_copy
    assert copier is not None
    if file.copy_id is None:
        try:
            copy_id = copier.start(final_url(http, file.url), blob)
        except CopyUnavailableError as exc:
            log.warning("server-side copy of %s unavailable, streaming: %s", file.name, exc)
            _update(store, message, copy_failed=True, error=f"copy unavailable: {exc}")
            return None
        _update(
            store, message, state=FileState.COPYING, copy_id=copy_id, started_at=lifecycle.now()
        )
        queues.send_fetch(settings, message, delay_seconds=options.copy_poll_seconds)
        return "server-side copy started"
    progress = copier.progress(blob, file.copy_id)
    started = file.started_at or lifecycle.now()
    if progress.state == "pending" and lifecycle.now() - started > COPY_TIMEOUT:
        copier.abort(blob, file.copy_id)
        progress = CopyProgress("failed", detail=f"still pending after {COPY_TIMEOUT}; aborted")
    if progress.state == "pending":
        _update(store, message, bytes_fetched=progress.copied)
        queues.send_fetch(settings, message, delay_seconds=options.copy_poll_seconds)
        return f"server-side copy pending ({progress.copied} bytes)"
    if progress.state == "failed":
        log.warning("server-side copy of %s failed, streaming: %s", file.name, progress.detail)
        _update(store, message, copy_failed=True, error=f"copy failed: {progress.detail}")
        return None
    size = blob.get_blob_properties().size
    return _finish(settings, store, message, file, size=size, sha256=None)


def _update(store: RunStore, message: FetchMessage, **values: object) -> FileStatus:
    def change(f: FileStatus) -> bool:
        for key, value in values.items():
            setattr(f, key, value)
        return True

    return store.update_file(message.run, message.attempt, message.file, change)


def _committed_size(blob: BlobClient, attempt: int) -> int | None:
    """The size of a blob this attempt already committed (crash after commit), else None."""
    try:
        committed, _ = blob.get_block_list("committed")
    except ResourceNotFoundError:
        return None
    if not committed or committed[0].id != block_id(attempt, 0):
        return None
    return sum(b.size for b in committed)


def _stream(
    settings: Settings,
    store: RunStore,
    message: FetchMessage,
    file: FileStatus,
    blob: BlobClient,
    http: httpx.Client,
    options: FetchOptions,
) -> str:
    if (size := _committed_size(blob, message.attempt)) is not None:
        return _finish(settings, store, message, file, size=size, sha256=None)
    # Claim the file (ETag-checked): a duplicate message must not stream it a second time
    # while another instance is at it. A crashed fetcher stops beating; its own message comes
    # back after the visibility timeout, by which time the lease has lapsed.
    now = lifecycle.now()
    beat = file.heartbeat_at
    if file.state == FileState.FETCHING and beat and now - beat < FETCH_LEASE:
        return "ignored: another instance is streaming this file"
    file.state, file.heartbeat_at, file.started_at = FileState.FETCHING, now, file.started_at or now
    try:
        file = store.save_file(message.run, message.attempt, file)
    except RunConflictError:
        return "ignored: another instance claimed this file"
    start = resume_point(blob, message.attempt)
    resumes = restarts = 0
    # Split while fetching only when every byte passes through this invocation (a fetch that
    # resumes staged blocks after a crash cannot read them back: the ordinary split follows).
    inline = options.split_while_fetching and start.offset == 0
    splitter = _splitter(settings, store, message, options) if inline else None

    def on_block(offset: int) -> None:
        _update(store, message, bytes_fetched=offset, heartbeat_at=lifecycle.now())

    def on_staged(data: bytes) -> None:
        if splitter is not None:
            splitter.feed(data)

    def new_writer(at: ResumePoint) -> BlockWriter:
        return BlockWriter(
            blob,
            message.attempt,
            options.block_bytes,
            at,
            hashing=True,
            on_block=on_block,
            on_staged=on_staged if inline else None,
        )

    writer = new_writer(start)
    try:
        for attempt_number in range(options.inline_retries + 1):
            try:
                with open_stream(http, file.url, writer.offset) as opened:
                    if writer.offset and opened.start == 0:
                        # The host ignored Range: start over cleanly (same block ids are
                        # overwritten), and the splitter with it (from its checkpoint).
                        restarts += 1
                        if splitter is not None:
                            splitter.abandon()
                            splitter = _splitter(settings, store, message, options)
                        writer = new_writer(ResumePoint(0, 0))
                    elif writer.offset:
                        resumes += 1
                    writer.write_all(opened.response.iter_raw())
                    size = writer.commit()
                    if opened.total is not None and size != opened.total:
                        raise TransientSourceError(
                            f"{file.url}: got {size} of {opened.total} bytes"
                        )
                break
            except TransientSourceError as exc:
                writer.discard_partial()
                log.warning("fetch of %s broke at %d bytes: %s", file.name, writer.offset, exc)
                if attempt_number == options.inline_retries:
                    _update(
                        store,
                        message,
                        fetch_resumes=file.fetch_resumes + resumes,
                        fetch_restarts=file.fetch_restarts + restarts,
                    )
                    raise
        totals = splitter.finish() if splitter is not None else None
    except BaseException:
        if splitter is not None:
            splitter.abandon()
        raise
    _update(
        store,
        message,
        fetch_resumes=file.fetch_resumes + resumes,
        fetch_restarts=file.fetch_restarts + restarts,
    )
    return _finish(settings, store, message, file, size=size, sha256=writer.sha256, split=totals)


def _split_message(message: FetchMessage) -> SplitMessage:
    """The split of the file this fetch fetches."""
    return SplitMessage(run=message.run, attempt=message.attempt, entity=message.file)


def _splitter(
    settings: Settings, store: RunStore, message: FetchMessage, options: FetchOptions
) -> StreamingSplit:
    """A splitter resuming from the file's split checkpoint (0 for a new file)."""
    current = store.get_file(message.run, message.attempt, message.file)
    resume_from = current.next_sequence if current else 0
    return StreamingSplit(
        settings, store, _split_message(message), resume_from, options.gzip_implementation
    )


def _finish(
    settings: Settings,
    store: RunStore,
    message: FetchMessage,
    file: FileStatus,
    *,
    size: int,
    sha256: str | None,
    split: SplitTotals | None = None,
) -> str:
    """Record the fetched file, verify it when its hash is known, and enqueue its split (or, when
    it was split while fetching, publish its chunk count)."""
    if sha256 is not None and (reason := check_digest(file.expected_sha256, sha256)):
        _update(store, message, bytes_fetched=size, sha256=sha256)
        lifecycle.fail_file(store, message.run, message.attempt, message.file, reason)
        return f"failed: {reason}"
    if split is not None and sha256 is not None:
        _update(store, message, bytes_fetched=size, sha256=sha256, error=None, retry_at=None)
        complete_split(
            settings, store, _split_message(message), split.chunks, split.records, sha256
        )
        lifecycle.note_fetched(store, message.run, message.attempt)
        finalize_if_complete(settings, store, message.run, message.attempt)
        return (
            f"verified and split while fetching: {size} bytes, {split.chunks} chunks "
            f"({split.sent} enqueued now, {split.records} records)"
        )
    state = FileState.VERIFIED if sha256 else FileState.FETCHED
    _update(
        store, message, state=state, bytes_fetched=size, sha256=sha256, error=None, retry_at=None
    )
    queues.send_split(settings, _split_message(message))
    lifecycle.note_fetched(store, message.run, message.attempt)
    return f"{state}: {size} bytes; split enqueued"
