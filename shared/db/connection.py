"""Opening PostgreSQL connections from the settings."""

from __future__ import annotations

import threading

import psycopg

from shared.settings import Settings

_migrated_urls: set[str] = set()
_migration_lock = threading.Lock()


def connect(
    settings: Settings, *, autocommit: bool = False, migrate: bool = True
) -> psycopg.Connection:
    """A new connection; the first one per process applies pending migrations when enabled.

    `prepare_threshold=None` keeps the connection usable behind PgBouncer's transaction pooling.
    """
    url = settings.database_url.get_secret_value()
    if migrate and settings.run_migrations_on_start and url not in _migrated_urls:
        _migrate_once(settings, url)
    return psycopg.connect(
        url,
        autocommit=autocommit,
        prepare_threshold=None,
        connect_timeout=settings.database_connect_timeout_seconds,
        application_name="cratedigger",
    )


def _migrate_once(settings: Settings, url: str) -> None:
    from shared.db.migrations import apply_migrations

    with _migration_lock:
        if url in _migrated_urls:
            return
        with connect(settings, autocommit=True, migrate=False) as conn:
            apply_migrations(conn)
        _migrated_urls.add(url)
