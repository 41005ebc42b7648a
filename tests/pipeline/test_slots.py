"""The loader connection cap (LOADER_MAX_CONNECTIONS) is enforced in PostgreSQL."""

from __future__ import annotations

import pytest

from shared.db.connection import connect
from shared.pipeline.runstore import RunStore
from shared.pipeline.service import discover
from shared.pipeline.slots import NoFreeSlotError, take_slot
from shared.settings import Settings
from shared.storage import clients
from tests.pipeline.conftest import STAMP, Driver


def test_slots_are_exclusive_and_freed_with_the_connection(settings: Settings) -> None:
    first, second = connect(settings, autocommit=True), connect(settings, autocommit=True)
    try:
        assert {take_slot(first, 2), take_slot(second, 2)} == {0, 1}
        with connect(settings, autocommit=True) as third, pytest.raises(NoFreeSlotError):
            take_slot(third, 2)
        second.close()  # a killed loader's connection frees its slot too
        with connect(settings, autocommit=True) as third:
            assert take_slot(third, 2) == 1
    finally:
        first.close()
        second.close()


def test_a_load_beyond_the_cap_is_deferred_not_failed(driver: Driver) -> None:
    assert discover(driver.settings) is not None
    driver.run_until_idle([driver.settings.fetch_queue, driver.settings.split_queue])
    settings = driver.settings = driver.settings.model_copy(update={"loader_max_connections": 2})
    load_queue = clients.queue(settings, settings.load_queue)
    queued = load_queue.get_queue_properties().approximate_message_count
    holders = [connect(settings, autocommit=True) for _ in range(2)]
    try:
        for holder in holders:
            take_slot(holder, 2)  # both slots held by other loaders
        received = driver.receive(settings.load_queue)
        assert received is not None
        outcome = driver.handle(settings.load_queue, received.body)
        assert outcome.startswith("deferred") and "busy" in outcome
        received.delete()
    finally:
        for holder in holders:
            holder.close()
    # Nothing failed and nothing was lost: the message waits, re-enqueued with a delay.
    assert load_queue.get_queue_properties().approximate_message_count == queued
    assert RunStore(settings).list_chunks(STAMP, 1) == []
