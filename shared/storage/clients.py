"""Clients for the app's Blob containers, queues and tables.

Locally (and in tests) storage is reached with a connection string (Azurite); in Azure with the
function app's managed identity (`AzureWebJobsStorage__accountName` + `__clientId`), so no key is
ever configured there. Queue messages are base64-encoded because that is what the Functions host's
queue trigger expects.
"""

from __future__ import annotations

import contextlib
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


def _account_url(settings: Settings, service: str) -> str:
    return f"https://{settings.storage_account_name}.{service}.core.windows.net"


def blob_service(settings: Settings) -> BlobServiceClient:
    if settings.storage_connection_string:
        return BlobServiceClient.from_connection_string(settings.storage_connection_string)
    return BlobServiceClient(
        _account_url(settings, "blob"), credential=app_credential(settings.storage_client_id)
    )


def container(settings: Settings, name: str) -> ContainerClient:
    return blob_service(settings).get_container_client(name)


def queue_service(settings: Settings) -> QueueServiceClient:
    if settings.storage_connection_string:
        return QueueServiceClient.from_connection_string(settings.storage_connection_string)
    return QueueServiceClient(
        _account_url(settings, "queue"), credential=app_credential(settings.storage_client_id)
    )


def queue(settings: Settings, name: str, *, base64: bool = True) -> QueueClient:
    """A queue client; with `base64` (default) it speaks the Functions host's message encoding."""
    encoding: dict[str, Any] = {}
    if base64:
        encoding = {
            "message_encode_policy": TextBase64EncodePolicy(),
            "message_decode_policy": TextBase64DecodePolicy(),
        }
    if settings.storage_connection_string:
        return QueueClient.from_connection_string(
            settings.storage_connection_string, name, **encoding
        )
    return QueueClient(
        _account_url(settings, "queue"),
        name,
        credential=app_credential(settings.storage_client_id),
        **encoding,
    )


def table_service(settings: Settings) -> TableServiceClient:
    if settings.storage_connection_string:
        return TableServiceClient.from_connection_string(settings.storage_connection_string)
    return TableServiceClient(
        endpoint=_account_url(settings, "table"),
        credential=app_credential(settings.storage_client_id),
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
