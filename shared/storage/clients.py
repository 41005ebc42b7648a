"""Clients for the app's Blob containers, queues and tables.

Locally (and in tests) storage is reached with a connection string (Azurite); in Azure with the
function app's managed identity (`AzureWebJobsStorage__accountName` + `__clientId`), so no key is
ever configured there. Queue messages are base64-encoded because that is what the Functions host's
queue trigger expects.

The three service clients are made once per process per storage account (`functools.lru_cache`
keyed by how the account is reached, not by the whole Settings): a new client per call meant a
new HTTP session, connection and proxy lookup for every storage request. The container, queue and
table clients handed out share their service client's transport (connection pool); SDK clients
are safe to share between threads.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableClient, TableServiceClient
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

from shared.identity import app_credential
from shared.settings import Settings

POISON_SUFFIX = "-poison"


def _account_url(account_name: str | None, service: str) -> str:
    return f"https://{account_name}.{service}.core.windows.net"


def _account(settings: Settings) -> tuple[str | None, str | None, str | None]:
    """How the storage account is reached: the cache key of the service clients."""
    return (
        settings.storage_connection_string,
        settings.storage_account_name,
        settings.storage_client_id,
    )


def blob_service(settings: Settings) -> BlobServiceClient:
    return _blob_service(*_account(settings))


@functools.lru_cache(maxsize=8)
def _blob_service(
    connection_string: str | None, account_name: str | None, client_id: str | None
) -> BlobServiceClient:
    if connection_string:
        return BlobServiceClient.from_connection_string(connection_string)
    return BlobServiceClient(
        _account_url(account_name, "blob"), credential=app_credential(client_id)
    )


def container(settings: Settings, name: str) -> ContainerClient:
    return blob_service(settings).get_container_client(name)


def queue_service(settings: Settings) -> QueueServiceClient:
    return _queue_service(*_account(settings))


@functools.lru_cache(maxsize=8)
def _queue_service(
    connection_string: str | None, account_name: str | None, client_id: str | None
) -> QueueServiceClient:
    if connection_string:
        return QueueServiceClient.from_connection_string(connection_string)
    return QueueServiceClient(
        _account_url(account_name, "queue"), credential=app_credential(client_id)
    )


def queue(settings: Settings, name: str, *, base64: bool = True) -> QueueClient:
    """A queue client; with `base64` (default) it speaks the Functions host's message encoding."""
    encoding: dict[str, Any] = {}
    if base64:
        encoding = {
            "message_encode_policy": TextBase64EncodePolicy(),
            "message_decode_policy": TextBase64DecodePolicy(),
        }
    return queue_service(settings).get_queue_client(name, **encoding)


def table_service(settings: Settings) -> TableServiceClient:
    return _table_service(*_account(settings))


@functools.lru_cache(maxsize=8)
def _table_service(
    connection_string: str | None, account_name: str | None, client_id: str | None
) -> TableServiceClient:
    if connection_string:
        return TableServiceClient.from_connection_string(connection_string)
    return TableServiceClient(
        endpoint=_account_url(account_name, "table"), credential=app_credential(client_id)
    )


def table(settings: Settings, name: str) -> TableClient:
    return table_service(settings).get_table_client(name)


def ensure_storage(settings: Settings) -> None:
    """Create the containers, queues (with their poison queues) and tables the app uses.

    Idempotent. In Azure, Terraform provisions the same names; locally this runs at start.
    """
    blobs = blob_service(settings)
    for name in settings.container_names:
        with contextlib.suppress(ResourceExistsError):
            blobs.create_container(name)
    queues = queue_service(settings)
    for name in settings.queue_names:
        for queue_name in (name, name + POISON_SUFFIX):
            with contextlib.suppress(ResourceExistsError):
                queues.create_queue(queue_name)
    tables = table_service(settings)
    for name in settings.table_names:
        tables.create_table_if_not_exists(name)
