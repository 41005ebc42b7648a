"""Database connections for API reads: one small psycopg pool per process and database.

A new PostgreSQL connection costs a TCP (and in Azure a TLS) handshake plus authentication, more
than most API queries themselves; a function instance serves many requests, so it keeps a few
connections open. Each request gets one REPEATABLE READ, READ ONLY transaction (every query of
a response sees the same snapshot, e.g. all statistics of one user) with the statement timeout of
the settings and without JIT; `prepare_threshold=None` keeps it usable behind PgBouncer's
transaction pooling.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import IsolationLevel
from psycopg_pool import ConnectionPool

from shared.db.connection import connect
from shared.identity import POSTGRES_SCOPE, app_credential
from shared.settings import Settings

POOL_MAX_SIZE = 4  # the host runs a few requests per worker process at once
POOL_MAX_IDLE_SECONDS = 300.0
WORK_MEM = "16MB"
# Connections are recycled now and then, so rotated credentials and failovers are picked up.
POOL_MAX_LIFETIME_SECONDS = 45 * 60.0

_pools: dict[str, ConnectionPool] = {}
_lock = threading.Lock()


def _configure(conn: psycopg.Connection) -> None:
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True


def _connection_kwargs(settings: Settings) -> dict[str, Any]:
    """Per new connection, like shared.db.connection.connect: with DATABASE_AUTH=entra the
    password is a fresh Entra access token of the app's identity (tokens live about an hour,
    pooled connections longer; the credential caches and renews the token)."""
    kwargs: dict[str, Any] = {
        "prepare_threshold": None,
        "connect_timeout": settings.database_connect_timeout_seconds,
        "application_name": "cratedigger-api",
    }
    if settings.database_auth == "entra":
        credential = app_credential(settings.storage_client_id)
        kwargs["password"] = credential.get_token(POSTGRES_SCOPE).token
    return kwargs


def _pool(settings: Settings) -> ConnectionPool:
    url = settings.database_url.get_secret_value()
    with _lock:
        pool = _pools.get(url)
        if pool is None:
            connect(settings, autocommit=True).close()  # applies pending migrations once
            pool = ConnectionPool(
                url,
                kwargs=lambda: _connection_kwargs(settings),
                min_size=0,
                max_size=POOL_MAX_SIZE,
                max_idle=POOL_MAX_IDLE_SECONDS,
                max_lifetime=POOL_MAX_LIFETIME_SECONDS,
                timeout=settings.database_connect_timeout_seconds,
                configure=_configure,
                check=ConnectionPool.check_connection,
                name="cratedigger-api",
                open=True,
            )
            _pools[url] = pool
        return pool


@contextmanager
def read_transaction(settings: Settings) -> Iterator[psycopg.Connection]:
    """A pooled connection inside one read-only snapshot transaction with a statement timeout."""
    with _pool(settings).connection() as conn:
        # JIT compiles for 100-400 ms whenever the planner's cost estimate is high, which set-
        # returning functions (unnest, regexp_split_to_table, jsonb_path_query) inflate: far more
        # than these queries take to run, so API transactions never use it.
        # work_mem: statistics hash tens of thousands of rows; the 4 MB default spills to disk.
        conn.execute(
            "SELECT set_config('statement_timeout', %s, true), set_config('jit', 'off', true),"
            " set_config('work_mem', %s, true)",
            (str(settings.database_statement_timeout_ms), WORK_MEM),
        )
        yield conn


def close_pools() -> None:
    """Close every pool (tests, and processes that shut down cleanly)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()
