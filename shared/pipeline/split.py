"""The split worker: stream a fetched dump blob, decompress it, cut chunks, enqueue their loads.

Each chunk is uploaded and its load message sent as soon as it is cut, so loading starts long
before the split ends. Chunks are stored gzip-compressed (`chunkblob`: ~5x fewer bytes to upload)
and sent by a sender thread of their own (`chunksender`), so compressing and uploading one chunk
overlaps decompressing and cutting the next; the sender keeps their order. After every chunk the
split checkpoints `next_sequence` (ETag-checked); a restarted split re-reads the stream but skips
chunks below the checkpoint instead of uploading and enqueueing them again (gzip cannot be entered
mid-stream, so the decompression is redone; the chunking is deterministic, so the same sequence
numbers cut the same bytes). The SHA-256 of the compressed bytes is computed on the way and checked
against CHECKSUM before the entity's chunk count is published to the finalize ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from shared.db.connection import connect
from shared.pipeline import lifecycle, queues
from shared.pipeline.blobstream import HashingReader
from shared.pipeline.chunkblob import upload_chunk
from shared.pipeline.chunksender import OrderedSender
from shared.pipeline.completion import finalize_if_complete
from shared.pipeline.entities import chunk_blob_name, dump_date_of
from shared.pipeline.finalize import FinalizeFn, set_expected
from shared.pipeline.gzipstream import GZIP_ERRORS, open_gzip
from shared.pipeline.messages import LoadMessage, SplitMessage
from shared.pipeline.model import FileState, FileStatus, check_digest
from shared.pipeline.runstore import RunConflictError, RunStore
from shared.settings import Settings
from shared.storage import clients

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient
    from azure.storage.queue import QueueClient

    from shared.dumps.chunking import Chunk

log = logging.getLogger(__name__)

_SPLITTABLE = frozenset({FileState.FETCHED, FileState.VERIFIED, FileState.SPLITTING})


@dataclass
class SplitOptions:
    gzip_implementation: str = "isal"
    stop_after_chunks: int | None = None  # tests: simulate a split killed half way
    finalizer: FinalizeFn | None = None


class SplitInterruptedError(RuntimeError):
    pass


@dataclass(frozen=True)
class SplitTotals:
    chunks: int
    records: int
    sent: int  # chunks uploaded and enqueued by this split (the rest were below its checkpoint)


def handle_split(settings: Settings, message: SplitMessage, options: SplitOptions) -> str:
    store = RunStore(settings)
    if lifecycle.current_run(store, message.run, message.attempt) is None:
        return "ignored: run not active in this attempt"
    file = store.get_file(message.run, message.attempt, message.entity)
    if file is None or file.state not in _SPLITTABLE:
        return f"ignored: file is {file.state if file else 'unknown'}"
    verified_by_fetch = file.state == FileState.VERIFIED or (
        file.state == FileState.SPLITTING and file.sha256 is not None
    )
    if file.state == FileState.SPLITTING:
        file.split_restarts += 1
    file.state = FileState.SPLITTING
    try:
        file = store.save_file(message.run, message.attempt, file)
    except RunConflictError:
        return "ignored: another split claimed this file"
    resume_from = file.next_sequence

    blob = clients.container(settings, settings.dumps_container).get_blob_client(file.blob)
    reader = HashingReader(blob.download_blob(max_concurrency=1).chunks())
    from shared.dumps.chunking import ChunkFormatError

    def checkpoint(chunks_cut: int, records_cut: int, bytes_in: int) -> None:
        # ETag-checked against our own last write: a second split of this file loses the race.
        nonlocal file
        file.next_sequence, file.split_bytes_in = chunks_cut, bytes_in
        file.records_split = records_cut
        file = store.save_file(message.run, message.attempt, file)

    try:
        totals = cut_and_send(
            settings,
            message,
            reader,
            resume_from,
            checkpoint,
            gzip_implementation=options.gzip_implementation,
            stop_after_chunks=options.stop_after_chunks,
        )
    except RunConflictError:
        return "stopped: another split of this file is running"
    except GZIP_ERRORS as exc:
        reason = (
            f"{file.name} is not a valid gzip stream (compressed byte {reader.bytes_read} of "
            f"{file.bytes_fetched}): {type(exc).__name__}: {exc}"
        )
        lifecycle.fail_file(store, message.run, message.attempt, message.entity, reason)
        return f"failed: {reason}"
    except ChunkFormatError as exc:  # not a dump of this entity
        reason = f"{file.name} cannot be split: {exc}"
        lifecycle.fail_file(store, message.run, message.attempt, message.entity, reason)
        return f"failed: {reason}"
    count, records = totals.chunks, totals.records

    sha256 = reader.sha256
    if reason := check_digest(file.expected_sha256, sha256):
        lifecycle.fail_file(store, message.run, message.attempt, message.entity, reason)
        return f"failed: {reason}"
    if verified_by_fetch and file.sha256 and file.sha256 != sha256:
        reason = f"blob changed after fetch: {file.sha256} then {sha256}"
        lifecycle.fail_file(store, message.run, message.attempt, message.entity, reason)
        return f"failed: {reason}"
    complete_split(settings, store, message, count, records, sha256)
    finalize_if_complete(settings, store, message.run, message.attempt, options.finalizer)
    return f"split into {count} chunks ({totals.sent} enqueued now, {records} records)"


class ChunkSource(Protocol):
    """Compressed dump bytes in file order (a blob being read, or blocks being fetched)."""

    bytes_read: int

    def read(self, size: int = -1, /) -> bytes: ...

    def readinto(self, buffer: bytearray | memoryview, /) -> int: ...

    def drain(self) -> None: ...


# (chunks cut so far, records cut so far, compressed bytes read so far), after a chunk is sent.
Checkpoint = Callable[[int, int, int], None]


def cut_and_send(
    settings: Settings,
    message: SplitMessage,
    reader: ChunkSource,
    resume_from: int,
    checkpoint: Checkpoint,
    *,
    gzip_implementation: str,
    stop_after_chunks: int | None = None,
    send_before_raising: tuple[type[BaseException], ...] = (),
) -> SplitTotals:
    """Decompress `reader`, cut its chunks, and send (upload and enqueue) those from
    `resume_from` on, in order, on a sender thread that checkpoints after each one.

    Both splits (`handle_split` and the split while fetching) cut through here. A failure
    propagates once the sender has stopped; what it had not sent yet is dropped (it is above the
    checkpoint, so the next split sends it), except on `send_before_raising`, where the chunks
    already cut are sent first.
    """
    from shared.dumps.chunking import split_records

    container = clients.container(settings, settings.chunks_container)
    loads = queues.load_queue(settings)

    def send_and_checkpoint(item: tuple[Chunk, int, int, int]) -> None:
        # On the sender thread, in order: the checkpoint never runs ahead of what is sent.
        chunk, chunks_cut, records_cut, bytes_in = item
        send_chunk(settings, container, loads, message, chunk)
        checkpoint(chunks_cut, records_cut, bytes_in)

    sender: OrderedSender[tuple[Chunk, int, int, int]] = OrderedSender(
        send_and_checkpoint, name=f"split-send-{message.entity}"
    )
    count = records = submitted = 0
    try:
        stream = open_gzip(reader, gzip_implementation)  # type: ignore[arg-type]
        for chunk in split_records(stream, message.entity, settings.chunk_target_bytes):
            count = chunk.sequence + 1
            records += chunk.record_count
            if chunk.sequence < resume_from:
                continue  # cut and enqueued by an earlier, interrupted split
            sender.submit((chunk, count, records, reader.bytes_read))
            submitted += 1
            if stop_after_chunks is not None and submitted >= stop_after_chunks:
                sender.finish()
                raise SplitInterruptedError(f"stopped after {submitted} chunks (test hook)")
        sender.finish()
        reader.drain()
    except send_before_raising:
        sender.finish()
        raise
    finally:
        sender.abort()  # a no-op once finished; otherwise stops sending what is left
    return SplitTotals(count, records, sender.sent)


def send_chunk(
    settings: Settings,
    container: ContainerClient,
    loads: QueueClient,
    message: SplitMessage,
    chunk: Chunk,
) -> None:
    """Upload one chunk and enqueue its load (the split, and the split while fetching); the
    container and load queue clients are the caller's, made once per split, not per chunk."""
    name = chunk_blob_name(message.run, message.attempt, message.entity, chunk.sequence)
    upload_chunk(container.get_blob_client(name), chunk.data)  # gzip: ~5x fewer bytes
    queues.send_load(
        settings,
        LoadMessage(
            run=message.run,
            attempt=message.attempt,
            entity=message.entity,
            seq=chunk.sequence,
            blob=name,
            offset=chunk.first_byte_offset,
        ),
        client=loads,
    )


def complete_split(
    settings: Settings,
    store: RunStore,
    message: SplitMessage,
    count: int,
    records: int,
    sha256: str,
) -> None:
    """Record a whole, verified split and publish the entity's chunk count to the ledger."""

    def change(f: FileStatus) -> bool:
        f.state, f.chunks, f.next_sequence = FileState.SPLIT, count, count
        f.records_split, f.sha256, f.split_at = records, sha256, lifecycle.now()
        f.split_bytes_in = f.bytes_fetched
        return True

    store.update_file(message.run, message.attempt, message.entity, change)
    with connect(settings) as conn:
        set_expected(conn, dump_date_of(message.run), message.attempt, message.entity, count)
