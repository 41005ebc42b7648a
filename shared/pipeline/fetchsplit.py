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

import logging
import queue
import threading
from collections.abc import Iterator

from shared.pipeline.blobstream import HashingReader
from shared.pipeline.chunksender import put_while_alive
from shared.pipeline.messages import SplitMessage
from shared.pipeline.model import FileStatus
from shared.pipeline.runstore import RunStore
from shared.pipeline.split import SplitTotals, cut_and_send
from shared.settings import Settings

log = logging.getLogger(__name__)

QUEUE_BLOCKS = 2
_PUT_WAIT_SECONDS = 0.2


class _StoppedError(Exception):
    """The fetch abandoned this splitter (restart from byte 0, or the fetch failed)."""


def _staged_blocks(pieces: queue.Queue[bytes | None], stop: threading.Event) -> Iterator[bytes]:
    """The blocks the fetch hands over, in order, until it hands over None (the file is whole)."""
    while True:
        try:
            # Blocks handed over before a stop are still split (their chunks are cut and
            # checkpointed now rather than redone by the split that follows).
            piece = pieces.get(timeout=_PUT_WAIT_SECONDS)
        except queue.Empty:
            if stop.is_set():
                raise _StoppedError from None
            continue
        if piece is None:
            return
        yield piece


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
        # Not hashing: the fetch hashes the staged bytes itself (BlockWriter).
        self._reader = HashingReader(_staged_blocks(self._pieces, self._stop), hashing=False)
        self._totals: SplitTotals | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"split-{message.entity}", daemon=True
        )
        self._thread.start()

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
        # If the splitter ended early (it failed), the fetch goes on without it.
        put_while_alive(self._pieces, item, self._thread)

    def _run(self) -> None:
        try:
            self._totals = cut_and_send(
                self._settings,
                self._message,
                self._reader,
                self._resume_from,
                self._checkpoint,
                gzip_implementation=self._gzip,
                # the chunks cut from blocks handed over before the stop are still sent
                send_before_raising=(_StoppedError,),
            )
        except _StoppedError as exc:
            self.error = exc
        except Exception as exc:  # bad gzip, not a dump, storage errors: the split reports them
            log.warning("split while fetching %s stopped: %s", self._message.entity, exc)
            self.error = exc

    def _checkpoint(self, count: int, records: int, bytes_in: int) -> None:
        def change(file: FileStatus) -> bool:
            if file.next_sequence >= count:
                return False
            file.next_sequence, file.records_split, file.split_bytes_in = count, records, bytes_in
            return True

        message = self._message
        self._store.update_file(message.run, message.attempt, message.entity, change)
