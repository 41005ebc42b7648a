"""Persisted user statistics (table account.user_stats, migration 0401).

A cold computation over a 10,000-item collection takes most of a second, too long for a request.
The statistics are therefore computed when the data behind them changes (a sync job finishes, a
new month is swapped in) and stored with the fingerprint of the data they were computed from,
read in the same snapshot as the computation. The endpoint reads the current fingerprint in its
own snapshot and uses a stored row only when the fingerprints are equal, so what it returns is
exactly what a fresh computation would return; on any mismatch it computes afresh.
"""

from __future__ import annotations

import datetime
import decimal
import json
import logging
import time
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from shared.db.connection import connect
from shared.queries.stats import user_stats, user_stats_fingerprint
from shared.settings import Settings

log = logging.getLogger(__name__)
DEFAULT_TOP = 10  # the endpoint's default `top` (shared/api/params.py UserStatsParams)


def _fingerprint_text(fingerprint: tuple[str, ...]) -> str:
    return json.dumps(fingerprint)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact: pydantic reads it back as the same Decimal
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def stored_user_stats(
    conn: psycopg.Connection, username: str, top: int, fingerprint: tuple[str, ...]
) -> dict[str, Any] | None:
    """The stored statistics if they were computed from exactly the data of `fingerprint`."""
    row = conn.execute(
        "SELECT stats FROM account.user_stats"
        " WHERE username = %(u)s AND top = %(top)s AND fingerprint = %(f)s",
        {"u": username, "top": top, "f": _fingerprint_text(fingerprint)},
    ).fetchone()
    return row[0] if row else None


def refresh_user_stats(conn: psycopg.Connection, username: str, top: int = DEFAULT_TOP) -> float:
    """Compute one user's statistics and store them with their fingerprint; returns the
    computation time in ms. `conn` must be in autocommit mode: fingerprint, statistics and the
    write share one REPEATABLE READ transaction of their own, so the stored pair is consistent
    even while a sync writes."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        started = time.perf_counter()
        fingerprint = user_stats_fingerprint(conn, username)
        computed = user_stats(conn, username, top)
        elapsed = (time.perf_counter() - started) * 1000
        conn.execute(
            "INSERT INTO account.user_stats"
            " (username, top, fingerprint, stats, computed_at, compute_ms)"
            " VALUES (%(u)s, %(top)s, %(f)s, %(s)s, now(), %(ms)s)"
            " ON CONFLICT (username, top) DO UPDATE SET fingerprint = excluded.fingerprint,"
            "  stats = excluded.stats, computed_at = excluded.computed_at,"
            "  compute_ms = excluded.compute_ms",
            {
                "u": username,
                "top": top,
                "f": _fingerprint_text(fingerprint),
                "s": Jsonb(computed, dumps=lambda v: json.dumps(v, default=_json_default)),
                "ms": elapsed,
            },
        )
    return elapsed


def refresh_all_user_stats(conn: psycopg.Connection) -> dict[str, float]:
    """Every synced user's statistics (after a month swap: the dump side changed for all)."""
    usernames = [r[0] for r in conn.execute("SELECT username FROM account.users ORDER BY 1")]
    return {username: refresh_user_stats(conn, username) for username in usernames}


def refresh_quietly(settings: Settings, username: str | None = None) -> None:
    """Refresh after a sync (one user) or a swap (all users) on a connection of its own. Never
    fails its caller: the data is already committed, and a missing or outdated row only means
    the endpoint computes cold."""
    try:
        with connect(settings, autocommit=True) as conn:
            if username is None:
                refresh_all_user_stats(conn)
            else:
                refresh_user_stats(conn, username)
    except Exception:
        log.exception("user statistics not refreshed (%s)", username or "all users")
