"""Queue triggers: poll a queue the way the Functions host does.

Per function: fetch up to `batchSize` messages (10-minute invisibility, renewed while running),
fetch more when in-flight work drops to `newBatchThreshold`; decode base64; on success delete; on
failure make the message visible again after `visibilityTimeout`, or after `maxDequeueCount`
attempts move its body unchanged to `<queue>-poison`. Empty polls back off up to
`maxPollingInterval`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient
from azure.storage.queue import QueueMessage as StoredMessage

from tests.support.funchost.config import QueueOptions
from tests.support.funchost.functions import FunctionSpec

log = logging.getLogger("funchost.queues")

INVISIBILITY_SECONDS = 600
_RENEW_EVERY_SECONDS = INVISIBILITY_SECONDS / 2
_FIRST_POLL_DELAY = 0.1


class QueuePoller:
    def __init__(
        self,
        spec: FunctionSpec,
        options: QueueOptions,
        connection_string: str,
        invoke: Callable[[FunctionSpec, object, str], object],
        stop: threading.Event,
    ) -> None:
        self.spec = spec
        self.options = options
        self.invoke = invoke
        self.stop_event = stop
        self.queue = QueueClient.from_connection_string(connection_string, spec.queue_name)
        self.poison = QueueClient.from_connection_string(
            connection_string, f"{spec.queue_name}-poison"
        )
        self.capacity = options.batch_size + options.new_batch_threshold
        self.pool = ThreadPoolExecutor(self.capacity, thread_name_prefix=f"queue-{spec.name}")
        self.in_flight = 0
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._poll, name=f"poll-{spec.name}", daemon=True)

    def start(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self.queue.create_queue()
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=10)
        self.pool.shutdown(wait=True, cancel_futures=False)

    def _poll(self) -> None:
        delay = _FIRST_POLL_DELAY
        while not self.stop_event.is_set():
            with self.changed:
                if self.in_flight > self.options.new_batch_threshold:
                    self.changed.wait(timeout=0.5)
                    continue
            try:
                messages = list(
                    self.queue.receive_messages(
                        messages_per_page=self.options.batch_size,
                        max_messages=self.options.batch_size,
                        visibility_timeout=INVISIBILITY_SECONDS,
                    )
                )
            except Exception:
                log.exception("polling %s failed", self.spec.queue_name)
                messages = []
            if not messages:
                self.stop_event.wait(delay)
                delay = min(delay * 2, self.options.max_polling_interval)
                continue
            delay = _FIRST_POLL_DELAY
            for message in messages:
                with self.changed:
                    self.in_flight += 1
                self.pool.submit(self._process, message)

    def _process(self, stored: StoredMessage) -> None:
        receipt = [stored.pop_receipt]
        renewer = _VisibilityRenewer(self.queue, stored.id, receipt)
        try:
            succeeded = self._run(stored)
            renewer.cancel()
            if succeeded:
                self.queue.delete_message(stored.id, receipt[0])
            elif stored.dequeue_count >= self.options.max_dequeue_count:
                log.warning(
                    "message %s failed %d times: moving it to %s-poison",
                    stored.id,
                    stored.dequeue_count,
                    self.spec.queue_name,
                )
                with contextlib.suppress(ResourceExistsError):
                    self.poison.create_queue()
                self.poison.send_message(stored.content)
                self.queue.delete_message(stored.id, receipt[0])
            else:
                self.queue.update_message(
                    stored.id, receipt[0], visibility_timeout=int(self.options.visibility_timeout)
                )
        except Exception:
            log.exception("settling message %s of %s failed", stored.id, self.spec.queue_name)
        finally:
            renewer.cancel()
            with self.changed:
                self.in_flight -= 1
                self.changed.notify_all()

    def _run(self, stored: StoredMessage) -> bool:
        try:
            body = base64.b64decode(stored.content, validate=True)
        except (binascii.Error, ValueError, TypeError):
            log.error(
                "message %s on %s is not base64 (the host's messageEncoding); it fails",
                stored.id,
                self.spec.queue_name,
            )
            return False
        message = QueueMessage(
            id=stored.id,
            body=body,
            dequeue_count=stored.dequeue_count,
            expiration_time=stored.expires_on,
            insertion_time=stored.inserted_on,
            time_next_visible=stored.next_visible_on,
            pop_receipt=stored.pop_receipt,
        )
        try:
            self.invoke(
                self.spec, message, f"New queue message detected on '{self.spec.queue_name}'"
            )
        except Exception:
            return False
        return True


class _VisibilityRenewer:
    """Keeps a message invisible while a long invocation runs (the host renews it too)."""

    def __init__(self, queue: QueueClient, message_id: str, receipt: list[str]) -> None:
        self.queue, self.message_id, self.receipt = queue, message_id, receipt
        self.cancelled = threading.Event()
        self.timer = threading.Timer(_RENEW_EVERY_SECONDS, self._renew)
        self.timer.daemon = True
        self.timer.start()

    def _renew(self) -> None:
        if self.cancelled.is_set():
            return
        with contextlib.suppress(Exception):
            updated = self.queue.update_message(
                self.message_id, self.receipt[0], visibility_timeout=INVISIBILITY_SECONDS
            )
            self.receipt[0] = updated.pop_receipt
        self.timer = threading.Timer(_RENEW_EVERY_SECONDS, self._renew)
        self.timer.daemon = True
        self.timer.start()

    def cancel(self) -> None:
        self.cancelled.set()
        self.timer.cancel()
