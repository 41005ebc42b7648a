"""Fixtures for pipeline tests: a local dump host serving the real 2020-08-06 samples, settings
pointing at it, and a small driver that delivers queued messages to the handlers the way the
Functions host would (base64 messages, dequeue counts, a poison queue after maxDequeueCount)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.pipeline.fetch import FetchOptions, handle_fetch
from shared.pipeline.load import MAX_DEQUEUE_COUNT, LoadOptions, handle_load
from shared.pipeline.messages import FetchMessage, LoadMessage, SplitMessage, parse_message
from shared.pipeline.split import SplitOptions, handle_split
from shared.settings import Settings
from shared.storage import clients
from tests.support.dump_host import DumpHost

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "discogs" / "20200806"
STAMP = "20200806"


@pytest.fixture
def dump_host() -> Iterator[DumpHost]:
    with DumpHost.serving({STAMP: SAMPLES}) as host:
        yield host


@pytest.fixture
def pipeline_env(
    settings_env: dict[str, str], dump_host: DumpHost, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    extra = {
        "DISCOGS_DUMP_BASE_URL": dump_host.base_url,
        "DISCOGS_TIMEOUT_SECONDS": "10",
        "CHUNK_TARGET_BYTES": str(1024 * 1024),
    }
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    settings_env.update(extra)
    return settings_env


@pytest.fixture
def pipeline_settings(pipeline_env: dict[str, str], settings: Settings) -> Settings:
    return settings


@dataclass
class Delivered:
    queue: str
    body: str
    dequeue_count: int


class Driver:
    """Delivers queued pipeline messages to the handlers, like the Functions host would."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fetch_options = FetchOptions(block_bytes=64 * 1024, inline_retries=3)
        self.split_options = SplitOptions()
        self.load_options = LoadOptions()
        self.log: list[tuple[str, str]] = []

    def receive(self, queue_name: str, *, visibility: int = 30) -> Delivered | None:
        client = clients.queue(self.settings, queue_name, base64=False)
        for message in client.receive_messages(max_messages=1, visibility_timeout=visibility):
            body = base64.b64decode(message.content).decode()
            return _Received(queue_name, body, message.dequeue_count, client, message)
        return None

    def handle(self, queue_name: str, body: str, dequeue_count: int = 1) -> str:
        s = self.settings
        if queue_name == s.fetch_queue:
            out = handle_fetch(s, parse_message(FetchMessage, body), self.fetch_options)
        elif queue_name == s.split_queue:
            out = handle_split(s, parse_message(SplitMessage, body), self.split_options)
        elif queue_name == s.load_queue:
            out = handle_load(s, parse_message(LoadMessage, body), dequeue_count, self.load_options)
        else:
            raise AssertionError(queue_name)
        self.log.append((queue_name, out))
        return out

    def step(self, queue_name: str) -> str | None:
        """Deliver one message; a handler exception leaves it for redelivery (or poisons it)."""
        received = self.receive(queue_name)
        if received is None:
            return None
        try:
            out = self.handle(queue_name, received.body, received.dequeue_count)
        except Exception as exc:
            if received.dequeue_count >= MAX_DEQUEUE_COUNT:
                clients.queue(self.settings, queue_name + "-poison").send_message(received.body)
                received.delete()
            else:
                received.release()
            self.log.append((queue_name, f"raised {type(exc).__name__}: {exc}"))
            return f"raised {exc}"
        received.delete()
        return out

    def run_until_idle(
        self,
        queues: list[str] | None = None,
        max_steps: int = 500,
        stop: Callable[[], bool] | None = None,
    ) -> int:
        s = self.settings
        names = queues or [s.fetch_queue, s.split_queue, s.load_queue]
        steps = 0
        while steps < max_steps:
            progressed = False
            for name in names:
                if self.step(name) is not None:
                    steps += 1
                    progressed = True
                if stop and stop():
                    return steps
            if not progressed:
                return steps
        raise AssertionError(f"pipeline did not go idle in {max_steps} steps: {self.log[-5:]}")


class _Received(Delivered):
    def __init__(self, queue: str, body: str, dequeue_count: int, client, message) -> None:
        super().__init__(queue, body, dequeue_count)
        self._client, self._message = client, message

    def delete(self) -> None:
        self._client.delete_message(self._message)

    def release(self) -> None:
        self._client.update_message(self._message, visibility_timeout=0)


@pytest.fixture
def driver(pipeline_settings: Settings) -> Driver:
    return Driver(pipeline_settings)
