"""Splitting a dump while its streaming fetch is still downloading it.

The fetch hands every block it has staged (durable in Blob Storage, in file order) to this
splitter, which decompresses and cuts chunks on a thread of its own while a sender thread
compresses, uploads and enqueues each chunk in order as it is cut
(`chunksender`), so loading starts while the file is still on its way. It sees exactly the
staged bytes: a stream that breaks and resumes with a Range request continues where the staged
blocks end, so the splitter simply goes on; a host that ignores Range starts the fetch over and
the splitter with it, skipping the chunks below the checkpoint. The checkpoint is the split's own
(`next_sequence`, after every chunk), so when the fetching process dies the fetch resumes from its
staged blocks without splitting and the ordinary split then resumes from that checkpoint: no chunk
is enqueued twice (beyond the at-least-once the ledger absorbs) and none is lost.

Only the fetch decides the outcome: the SHA-256 of the staged bytes is checked against CHECKSUM
once the file is whole, and the entity's chunk count reaches the finalize ledger only after that.
Memory: at most `QUEUE_BLOCKS` staged blocks wait for the splitter (the fetch waits meanwhile).
"""

from __future__ import annotations

import io
import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.pipeline import queues
from shared.pipeline.chunksender import OrderedSender
from shared.pipeline.gzipstream import open_gzip
from shared.pipeline.messages import SplitMessage
from shared.pipeline.model import FileStatus
from shared.pipeline.runstore import RunStore
from shared.pipeline.split import send_chunk
from shared.settings import Settings
from shared.storage import clients

if TYPE_CHECKING:
    from shared.dumps.chunking import Chunk

log = logging.getLogger(__name__)

QUEUE_BLOCKS = 2
_PUT_WAIT_SECONDS = 0.2


@dataclass(frozen=True)
class SplitTotals:
    chunks: int
    records: int
    sent: int  # chunks uploaded and enqueued by this splitter (the rest were below its checkpoint)


class _StoppedError(Exception):
    """The fetch abandoned this splitter (restart from byte 0, or the fetch failed)."""


class _PieceReader(io.RawIOBase):
    """The staged blocks, in order, as a file object for the gzip reader."""

    def __init__(self, pieces: queue.Queue[bytes | None], stop: threading.Event) -> None:
        self._pieces = pieces
        self._stop = stop
        self._pending = memoryview(b"")
        self._ended = False
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            if self._ended:
                return 0
            try:
                # Blocks handed over before a stop are still split (their chunks are cut and
                # checkpointed now rather than redone by the split that follows).
                piece = self._pieces.get(timeout=_PUT_WAIT_SECONDS)
            except queue.Empty:
                if self._stop.is_set():
                    raise _StoppedError from None
                continue
            if piece is None:
                self._ended = True
                return 0
            self._pending = memoryview(piece)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.bytes_read += size
        return size

    def drain(self) -> None:
        while self.readinto(bytearray(1 << 20)):
            pass


class StreamingSplit:
    """Decompresses, chunks and enqueues the staged bytes of one file on a thread of its own."""

    def __init__(
        self,
        settings: Settings,
        store: RunStore,
        message: SplitMessage,
        resume_from: int,
        gzip_implementation: str = "isal",
    ) -> None:
        self._settings = settings
        self._store = store
        self._message = message
        self._resume_from = resume_from
        self._gzip = gzip_implementation
        self._pieces: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_BLOCKS)
        self._stop = threading.Event()
        self._reader = _PieceReader(self._pieces, self._stop)
        self._totals: SplitTotals | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"split-{message.entity}", daemon=True
        )
        self._thread.start()

    @property
    def failed(self) -> bool:
        return self.error is not None

    def feed(self, data: bytes) -> None:
        """Hand over one staged block (waits while the splitter is `QUEUE_BLOCKS` behind)."""
        self._put(data)

    def finish(self) -> SplitTotals | None:
        """The file is whole: wait for the last chunk; None if the splitter failed (the caller
        then falls back to the ordinary split, which reports the problem)."""
        self._put(None)
        self._thread.join()
        return self._totals if self.error is None else None

    def abandon(self) -> None:
        """Stop without finishing (the fetch starts over or failed): the blocks already handed
        over are split, then the thread ends (waited for)."""
        self._stop.set()
        self._thread.join()

    def _put(self, item: bytes | None) -> None:
        while self._thread.is_alive():
            try:
                self._pieces.put(item, timeout=_PUT_WAIT_SECONDS)
                return
            except queue.Full:
                continue
        # The splitter ended early (it failed): the fetch goes on without it.

    def _run(self) -> None:
        from shared.dumps.chunking import split_records

        message, settings = self._message, self._settings
        container = clients.container(settings, settings.chunks_container)
        loads = queues.load_queue(settings)
        count = records = 0

        def send_and_checkpoint(item: tuple[Chunk, int, int, int]) -> None:
            chunk, chunks_cut, records_cut, bytes_in = item
            send_chunk(settings, container, loads, message, chunk)
            self._checkpoint(chunks_cut, records_cut, bytes_in)

        sender: OrderedSender[tuple[Chunk, int, int, int]] = OrderedSender(
            send_and_checkpoint, name=f"split-send-{message.entity}"
        )
        try:
            stream = open_gzip(self._reader, self._gzip)  # type: ignore[arg-type]
            for chunk in split_records(stream, message.entity, settings.chunk_target_bytes):
                count = chunk.sequence + 1
                records += chunk.record_count
                if chunk.sequence < self._resume_from:
                    continue  # enqueued by an earlier split of this file
                sender.submit((chunk, count, records, self._reader.bytes_read))
            sender.finish()
            self._reader.drain()
            self._totals = SplitTotals(count, records, sender.sent)
        except _StoppedError:
            try:  # the chunks cut from blocks handed over before the stop are still sent
                sender.finish()
            except Exception as exc:
                log.warning("split while fetching %s stopped: %s", message.entity, exc)
            self.error = _StoppedError()
        except Exception as exc:  # bad gzip, not a dump, storage errors: the split reports them
            log.warning("split while fetching %s stopped: %s", message.entity, exc)
            self.error = exc
        finally:
            sender.abort()

    def _checkpoint(self, count: int, records: int, bytes_in: int) -> None:
        def change(file: FileStatus) -> bool:
            if file.next_sequence >= count:
                return False
            file.next_sequence, file.records_split, file.split_bytes_in = count, records, bytes_in
            return True

        message = self._message
        self._store.update_file(message.run, message.attempt, message.entity, change)
