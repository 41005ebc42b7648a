"""Wipe the local app state a settings object points at: its database and its storage names."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from azure.core.exceptions import ResourceNotFoundError
from psycopg import sql

from shared.settings import Settings
from shared.storage import clients


def database_url_for(server_url: str, dbname: str) -> str:
    """The server's URL pointing at another database (query parameters such as sslmode kept)."""
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{dbname}"))


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def database_copy(server_url: str, template: str) -> Iterator[str]:
    """A throwaway copy of `template` (fast: PostgreSQL copies files); yields its URL."""
    name = f"cd_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    try:
        yield database_url_for(server_url, name)
    finally:
        drop_database(server_url, name)


def recreate_database(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    server_url = database_url_for(database_url, "postgres")
    drop_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def delete_storage(settings: Settings) -> None:
    """Delete the containers, queues (and poison queues) and tables of these settings."""
    blobs = clients.blob_service(settings)
    queues = clients.queue_service(settings)
    tables = clients.table_service(settings)
    deletions = [lambda n=name: blobs.delete_container(n) for name in settings.container_names]
    deletions += [
        lambda n=name + suffix: queues.delete_queue(n)
        for name in settings.queue_names
        for suffix in ("", clients.POISON_SUFFIX)
    ]
    deletions += [lambda n=name: tables.delete_table(n) for name in settings.table_names]
    for delete in deletions:
        with contextlib.suppress(ResourceNotFoundError):
            delete()
