import base64
import time

import pytest

from shared.storage import clients
from tests.funchost.conftest import build_test_app
from tests.support.funchost import LocalFunctionHost


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def host(settings, recorder, fast_config):
    with LocalFunctionHost(
        build_test_app(recorder), settings, config=fast_config, timers=False
    ) as h:
        yield h


def _raw_messages(settings, name: str) -> list[str]:
    raw = clients.queue(settings, name, base64=False)
    return [m.content for m in raw.peek_messages(max_messages=32)]


def test_a_message_is_processed_once_and_deleted(host, settings, recorder):
    clients.queue(settings, settings.load_queue).send_message("hello")
    _wait(lambda: recorder.bodies == ["hello"])
    _wait(lambda: _raw_messages(settings, settings.load_queue) == [])
    assert recorder.dequeue_counts == [1]


def test_a_message_failing_once_then_succeeding_is_processed_once(host, settings, recorder):
    clients.queue(settings, settings.load_queue).send_message("fail-once")
    _wait(lambda: recorder.bodies == ["fail-once"])
    assert recorder.attempts["fail-once"] == 2
    assert recorder.dequeue_counts == [1, 2]
    _wait(lambda: _raw_messages(settings, settings.load_queue) == [])
    time.sleep(1.0)  # nothing further may arrive
    assert recorder.bodies == ["fail-once"]
    assert _raw_messages(settings, settings.load_queue + "-poison") == []


def test_a_message_failing_max_dequeue_count_times_lands_in_poison_intact(host, settings, recorder):
    body = 'always-fail {"chunk": 7, "unicode": "Björk"}'
    clients.queue(settings, settings.load_queue).send_message(body)
    poison = settings.load_queue + "-poison"
    _wait(lambda: _raw_messages(settings, poison) != [])
    assert recorder.attempts[body] == 3  # maxDequeueCount of the test host config
    [stored] = _raw_messages(settings, poison)
    assert base64.b64decode(stored).decode() == body
    assert _raw_messages(settings, settings.load_queue) == []


def test_a_message_that_is_not_base64_ends_in_poison_without_running(host, settings, recorder):
    clients.queue(settings, settings.load_queue, base64=False).send_message("plain text!")
    _wait(lambda: _raw_messages(settings, settings.load_queue + "-poison") == ["plain text!"])
    assert recorder.attempts == {}


def test_batches_are_processed_concurrently_and_all_complete(host, settings, recorder):
    queue = clients.queue(settings, settings.load_queue)
    for n in range(7):
        queue.send_message(f"m{n}")
    _wait(lambda: sorted(recorder.bodies) == [f"m{n}" for n in range(7)])
