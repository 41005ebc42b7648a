"""The month ledger in PostgreSQL and the exactly-once finalize decision.

Whether a month is complete is decided from the database, never from queue messages. A loader
first counts without any lock (most chunks are not the last one: no lock, no write); when the
month looks complete, inside one transaction the month's row is locked (`FOR UPDATE`), the
loaded chunks are counted again against the
expected counts that each split recorded after its SHA-256 matched, and only if all four entities
are complete does the finalize run — still inside that transaction, so a crash rolls the decision
back and the next delivery decides again, while a concurrent loader waits on the lock and then
sees the month finalized.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import psycopg
from psycopg.types.json import Jsonb

from shared.pipeline.entities import ENTITIES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinalizeOutcome:
    ok: bool
    detail: str


FinalizeFn = Callable[[psycopg.Connection, dict[str, int]], FinalizeOutcome]


class Decision(StrEnum):
    NOT_READY = "not_ready"
    STALE = "stale"  # the message belongs to an older attempt
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def begin_attempt(conn: psycopg.Connection, dump_date: dt.date, attempt: int) -> None:
    """Start the month's ledger for a (new) attempt; an older attempt's ledger is dropped."""
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO pipeline.months (dump_date, attempt) VALUES (%s, %s)
            ON CONFLICT (dump_date) DO UPDATE
               SET attempt = EXCLUDED.attempt, expected_chunks = '{}'::jsonb,
                   finalize_state = 'waiting', finalize_detail = NULL,
                   started_at = now(), finalized_at = NULL
             WHERE pipeline.months.attempt < EXCLUDED.attempt
            """,
            (dump_date, attempt),
        )
        conn.execute(
            "DELETE FROM pipeline.loaded_chunks WHERE dump_date = %s AND attempt < %s",
            (dump_date, attempt),
        )


def record_loaded(
    conn: psycopg.Connection,
    dump_date: dt.date,
    attempt: int,
    entity: str,
    sequence: int,
    records: int,
    quarantined: int = 0,
    unknown_elements: int = 0,
) -> bool:
    """Note a loaded chunk (idempotent); True if this call recorded it."""
    cursor = conn.execute(
        """
        INSERT INTO pipeline.loaded_chunks
               (dump_date, attempt, entity, sequence, records, quarantined, unknown_elements)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT DO NOTHING
        """,
        (dump_date, attempt, entity, sequence, records, quarantined, unknown_elements),
    )
    return cursor.rowcount == 1


def loaded_chunk(
    conn: psycopg.Connection, dump_date: dt.date, attempt: int, entity: str, sequence: int
) -> tuple[int, int, int] | None:
    """(records, quarantined, unknown elements) of a chunk already in the ledger, else None."""
    row = conn.execute(
        """
        SELECT records, quarantined, unknown_elements FROM pipeline.loaded_chunks
         WHERE dump_date = %s AND attempt = %s AND entity = %s AND sequence = %s
        """,
        (dump_date, attempt, entity, sequence),
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def set_expected(
    conn: psycopg.Connection, dump_date: dt.date, attempt: int, entity: str, chunks: int
) -> None:
    with conn.transaction():
        conn.execute(
            """
            UPDATE pipeline.months
               SET expected_chunks = expected_chunks || %s
             WHERE dump_date = %s AND attempt = %s
            """,
            (Jsonb({entity: chunks}), dump_date, attempt),
        )


def loaded_counts(conn: psycopg.Connection, dump_date: dt.date, attempt: int) -> dict[str, int]:
    rows = conn.execute(
        """
        SELECT entity, count(*) FROM pipeline.loaded_chunks
         WHERE dump_date = %s AND attempt = %s GROUP BY entity
        """,
        (dump_date, attempt),
    ).fetchall()
    return dict(rows)


def _complete_unlocked(conn: psycopg.Connection, dump_date: dt.date, attempt: int) -> bool:
    """Whether the month may be complete, read without the month row's lock: a loader whose
    chunk is not the last one (nearly all of them) then needs no lock and writes nothing. It
    is safe because every loader commits its ledger row before it asks: of two loaders ending
    the last two chunks at once, the one that asks second sees both rows, and the locked check
    below still decides alone."""
    with conn.transaction():
        row = conn.execute(
            "SELECT expected_chunks FROM pipeline.months WHERE dump_date = %s AND attempt = %s",
            (dump_date, attempt),
        ).fetchone()
        if row is None:
            return True  # stale or unknown: the locked check says which
        return _all_loaded(conn, dump_date, attempt, row[0])


def _all_loaded(
    conn: psycopg.Connection, dump_date: dt.date, attempt: int, expected: dict[str, int]
) -> bool:
    """Whether every entity's expected count is published and all its chunks are loaded."""
    if set(expected) != set(ENTITIES):
        return False
    counts = loaded_counts(conn, dump_date, attempt)
    return all(counts.get(entity, 0) >= expected[entity] for entity in ENTITIES)


def try_finalize(
    conn: psycopg.Connection, dump_date: dt.date, attempt: int, finalize: FinalizeFn
) -> tuple[Decision, str | None]:
    """Finalize the month if (and only if) every expected chunk is loaded and nobody did yet."""
    if not _complete_unlocked(conn, dump_date, attempt):
        return Decision.NOT_READY, None
    with conn.transaction():
        row = conn.execute(
            """
            SELECT attempt, expected_chunks, finalize_state, finalize_detail
              FROM pipeline.months WHERE dump_date = %s FOR UPDATE
            """,
            (dump_date,),
        ).fetchone()
        if row is None or row[0] != attempt:
            return Decision.STALE, None
        _, expected, state, detail = row
        if state != "waiting":
            return Decision(state), detail
        if not _all_loaded(conn, dump_date, attempt, expected):
            return Decision.NOT_READY, None
        try:
            with conn.transaction():  # a savepoint: a failed finalize leaves the ledger intact
                outcome = finalize(conn, dict(expected))
        except Exception as exc:  # any finalize error fails the run with its message
            log.exception("finalize of %s failed", dump_date)
            outcome = FinalizeOutcome(False, f"{type(exc).__name__}: {exc}")
        conn.execute(
            """
            UPDATE pipeline.months
               SET finalize_state = %s, finalize_detail = %s, finalized_at = now()
             WHERE dump_date = %s
            """,
            ("succeeded" if outcome.ok else "failed", outcome.detail[:2000], dump_date),
        )
        return (Decision.SUCCEEDED if outcome.ok else Decision.FAILED), outcome.detail
