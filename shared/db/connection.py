"""Opening PostgreSQL connections from the settings."""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from shared.identity import POSTGRES_SCOPE, app_credential
from shared.settings import Settings

_migrated_urls: set[str] = set()
_migration_lock = threading.Lock()


def connect(
    settings: Settings,
    *,
    autocommit: bool = False,
    migrate: bool = True,
    credential: Any | None = None,
) -> psycopg.Connection:
    """A new connection; the first one per process applies pending migrations when enabled.

    `prepare_threshold=None` keeps the connection usable behind PgBouncer's transaction pooling.
    With `DATABASE_AUTH=entra` the password is an Entra access token of the app's identity:
    tokens live about an hour, so each new connection asks for one (the credential caches it).
    """
    url = settings.database_url.get_secret_value()
    if migrate and settings.run_migrations_on_start and url not in _migrated_urls:
        _migrate_once(settings, url, credential)
    extra: dict[str, Any] = {}
    if settings.database_auth == "entra":
        source = credential or app_credential(settings.storage_client_id)
        extra["password"] = source.get_token(POSTGRES_SCOPE).token
    return psycopg.connect(
        url,
        autocommit=autocommit,
        prepare_threshold=None,
        connect_timeout=settings.database_connect_timeout_seconds,
        application_name="cratedigger",
        **extra,
    )


def _migrate_once(settings: Settings, url: str, credential: Any | None) -> None:
    from shared.db.migrations import apply_migrations

    with _migration_lock:
        if url in _migrated_urls:
            return
        with connect(settings, autocommit=True, migrate=False, credential=credential) as conn:
            apply_migrations(conn)
        _migrated_urls.add(url)
