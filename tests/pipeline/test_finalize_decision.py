"""The exactly-once finalize decision on a real PostgreSQL: loaders whose chunk is not the last
take no lock; the last one finalizes once, however many ask at the same time."""

from __future__ import annotations

import datetime as dt
import threading

import psycopg
import pytest

from shared.pipeline.entities import ENTITIES
from shared.pipeline.finalize import (
    Decision,
    FinalizeOutcome,
    begin_attempt,
    record_loaded,
    set_expected,
    try_finalize,
)

MONTH = dt.date(2026, 11, 1)
CHUNKS = 3  # per entity


@pytest.fixture
def month(database_url: str) -> str:
    with psycopg.connect(database_url, autocommit=True) as conn:
        from shared.db.migrations import apply_migrations

        apply_migrations(conn)
        begin_attempt(conn, MONTH, 1)
        for entity in ENTITIES:
            set_expected(conn, MONTH, 1, entity, CHUNKS)
    return database_url


class Finalizer:
    """Counts its runs (the finalize of the month itself is tested in tests/dumps)."""

    def __init__(self) -> None:
        self.runs = 0
        self._lock = threading.Lock()

    def __call__(self, conn: psycopg.Connection, expected: dict[str, int]) -> FinalizeOutcome:
        with self._lock:
            self.runs += 1
        return FinalizeOutcome(True, "finalized")


LAST = [(entity, CHUNKS - 1) for entity in ENTITIES]


def _load_all_but(conn: psycopg.Connection, missing: list[tuple[str, int]]) -> None:
    for entity in ENTITIES:
        for seq in range(CHUNKS):
            if (entity, seq) not in missing:
                record_loaded(conn, MONTH, 1, entity, seq, 10)


def test_a_chunk_that_is_not_the_last_takes_no_lock(month: str) -> None:
    finalize = Finalizer()
    with (
        psycopg.connect(month, autocommit=True) as loader,
        psycopg.connect(month) as holder,
    ):
        _load_all_but(loader, missing=LAST[:1])
        # Another session holds the month row: a locking check would wait, this one must not.
        holder.execute("SELECT 1 FROM pipeline.months WHERE dump_date = %s FOR UPDATE", (MONTH,))
        loader.execute("SET lock_timeout = '200ms'")
        assert try_finalize(loader, MONTH, 1, finalize) == (Decision.NOT_READY, None)
        holder.rollback()
    assert finalize.runs == 0


def test_the_last_chunk_finalizes_once_and_later_deliveries_see_it(month: str) -> None:
    finalize = Finalizer()
    with psycopg.connect(month, autocommit=True) as loader:
        _load_all_but(loader, missing=[])
        assert try_finalize(loader, MONTH, 1, finalize) == (Decision.SUCCEEDED, "finalized")
        assert try_finalize(loader, MONTH, 1, finalize) == (Decision.SUCCEEDED, "finalized")
        assert try_finalize(loader, MONTH, 0, finalize)[0] == Decision.STALE
    assert finalize.runs == 1


def test_loaders_ending_the_last_chunks_at_once_finalize_exactly_once(month: str) -> None:
    finalize = Finalizer()
    with psycopg.connect(month, autocommit=True) as conn:
        _load_all_but(conn, missing=LAST)
    start = threading.Barrier(len(LAST))
    decisions: list[Decision] = []

    def loader(entity: str, seq: int) -> None:
        with psycopg.connect(month, autocommit=True) as conn:
            start.wait()
            record_loaded(conn, MONTH, 1, entity, seq, 10)
            decisions.append(try_finalize(conn, MONTH, 1, finalize)[0])

    threads = [threading.Thread(target=loader, args=chunk) for chunk in LAST]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert finalize.runs == 1, decisions
    assert Decision.SUCCEEDED in decisions
    assert set(decisions) <= {Decision.SUCCEEDED, Decision.NOT_READY}
