"""Sending cut chunks on a thread of their own, in order, a bounded number in flight.

The split's own thread decompresses the dump and cuts chunks; this thread compresses, uploads
and enqueues each chunk and then checkpoints it. python-isal releases the GIL while it
(de)compresses and the blob upload waits on the network, so the two overlap instead of taking
turns. Order is kept (one sender thread), so the checkpoint `next_sequence` still means "every
chunk below this one is uploaded and enqueued", exactly as when the split sent them itself.
Memory: at most `IN_FLIGHT_CHUNKS` cut chunks wait, plus the one being sent.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

IN_FLIGHT_CHUNKS = 2
_WAIT_SECONDS = 0.2

T = TypeVar("T")
Q = TypeVar("Q")
_END = object()


def put_while_alive(items: queue.Queue[Q], item: Q, consumer: threading.Thread) -> None:
    """Put `item` on a bounded queue, waiting while it is full, unless its `consumer` thread
    has ended (failed: nobody would take it, and a plain `put` would wait forever); then the
    item is dropped and the caller learns of the failure from the consumer."""
    while consumer.is_alive():
        try:
            items.put(item, timeout=_WAIT_SECONDS)
            return
        except queue.Full:
            continue


class OrderedSender(Generic[T]):
    """Runs `send(item)` for every submitted item, in submission order, on one thread.

    A failure of `send` stops the thread; the next `submit` or `finish` raises it in the caller,
    so a storage error or a lost checkpoint race ends the split just as it did inline.
    """

    def __init__(self, send: Callable[[T], None], name: str = "chunk-sender") -> None:
        self._send = send
        self._items: queue.Queue[object] = queue.Queue(maxsize=IN_FLIGHT_CHUNKS)
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> None:
        """Queue one item (waits while `IN_FLIGHT_CHUNKS` are queued); raises a send failure."""
        self._put(item)
        self._raise_error()

    def finish(self) -> None:
        """Wait until everything submitted is sent; raises a send failure."""
        self._put(_END)
        self._thread.join()
        self._raise_error()

    def abort(self) -> None:
        """Stop after the item being sent; drop the rest (they are above the checkpoint, so a
        later split sends them). Never raises."""
        self._stop.set()
        self._thread.join()

    def _put(self, item: object) -> None:
        put_while_alive(self._items, item, self._thread)

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._items.get(timeout=_WAIT_SECONDS)
            except queue.Empty:
                continue
            if item is _END:
                return
            try:
                self._send(item)  # type: ignore[arg-type]
            except BaseException as exc:  # handed to the caller's thread
                self.error = exc
                return
            self.sent += 1
