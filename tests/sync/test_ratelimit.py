"""The shared limiter: one budget across instances, ETag-checked, on real Azurite tables."""

from __future__ import annotations

import threading
import time

from shared.discogs.ratelimit import PARTITION, ROW, SharedRateLimiter
from shared.storage.clients import table


def _limiter(settings, budget=5, window=1.0, **kwargs) -> SharedRateLimiter:
    return SharedRateLimiter(
        table(settings, settings.rate_limit_table), budget=budget, window_seconds=window, **kwargs
    )


def test_budget_is_shared_between_instances(settings):
    first, second = _limiter(settings), _limiter(settings)
    taken = [first.acquire() for _ in range(3)] + [second.acquire() for _ in range(2)]
    assert first.used_in_window() == 5
    sixth = second.acquire()  # the sixth request has to wait for the oldest to leave the window
    assert sixth >= taken[0] + 1.0
    assert second.waited_seconds > 0 and first.waited_seconds == 0


def test_concurrent_instances_never_exceed_the_budget(settings):
    granted: list[float] = []
    lock = threading.Lock()
    budget, window = 8, 1.0

    def worker():
        limiter = _limiter(settings, budget=budget, window=window)
        for _ in range(6):
            taken = limiter.acquire()
            with lock:
                granted.append(taken)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted.sort()
    assert len(granted) == 24
    for index, moment in enumerate(granted):
        in_window = [t for t in granted[: index + 1] if t > moment - window]
        assert len(in_window) <= budget


def test_low_remaining_sets_a_shared_brake(settings):
    first, second = _limiter(settings, budget=50, window=2.0), _limiter(settings)
    first.observe_remaining(10, 60)  # plenty left: no brake
    assert first._read()[0].brake_until == 0
    first.observe_remaining(0, 60)
    brake = second._read()[0].brake_until
    expected_wait = brake - time.time()
    assert expected_wait > 0.1  # (2 s / 60) * 6 = 0.2 s
    taken = second.acquire()
    assert taken >= brake


class _CountedTable:
    """The real table client, with the names of the calls made through it recorded."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name):
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self.calls.append(name)
            return attribute(*args, **kwargs)

        return counted


def test_an_uncontended_request_costs_one_table_round_trip(settings):
    counted = _CountedTable(table(settings, settings.rate_limit_table))
    limiter = SharedRateLimiter(counted, budget=10, window_seconds=60.0)
    limiter.acquire()
    assert counted.calls == ["get_entity", "create_entity"]  # nothing known yet

    counted.calls.clear()
    limiter.acquire()
    limiter.acquire()
    assert counted.calls == ["update_entity", "update_entity"]

    _limiter(settings, budget=10, window=60.0).acquire()  # another instance writes in between
    counted.calls.clear()
    limiter.acquire()
    assert counted.calls == ["update_entity", "get_entity", "update_entity"]  # lost race, re-read
    assert limiter.used_in_window() == 5

    counted.delete_entity(PARTITION, ROW)  # the entity went away: read again and start over
    counted.calls.clear()
    limiter.acquire()
    assert counted.calls == ["update_entity", "get_entity", "create_entity"]
    assert limiter.used_in_window() == 1
