"""A database-enforced cap on concurrent loaders: LOADER_MAX_CONNECTIONS numbered slots.

Each loader takes one session-level advisory lock out of `slots` before it loads (the lock dies
with its connection, so a killed loader frees its slot). With every slot taken the loader does
not wait: its message is re-enqueued with a short delay, so the cap holds however far the
platform scales the load function out. Needs a direct (session) connection, not PgBouncer's
transaction pooling, which is how loaders connect anyway (COPY and DDL need it).
"""

from __future__ import annotations

import psycopg

_SLOT_LOCK_CLASS = 0x6C6F6164  # "load"


class NoFreeSlotError(RuntimeError):
    pass


def take_slot(conn: psycopg.Connection, slots: int) -> int:
    """Lock the lowest free slot for this session; raises NoFreeSlotError when all are taken."""
    row = conn.execute(
        """
        SELECT slot FROM generate_series(0, %s - 1) AS slot
         WHERE pg_try_advisory_lock(%s, slot) LIMIT 1
        """,
        (slots, _SLOT_LOCK_CLASS),
    ).fetchone()
    if row is None:
        raise NoFreeSlotError(f"all {slots} loader slots (LOADER_MAX_CONNECTIONS) are busy")
    return int(row[0])
