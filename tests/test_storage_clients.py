"""The storage helpers reuse one service client per account and keep the host's queue encoding."""

from __future__ import annotations

import base64

from shared.settings import Settings
from shared.storage import clients


def test_service_clients_are_made_once_per_account(settings: Settings) -> None:
    other = settings.model_copy(update={"runs_table": settings.runs_table + "x"})
    assert clients.blob_service(other) is clients.blob_service(settings)
    assert clients.queue_service(other) is clients.queue_service(settings)
    assert clients.table_service(other) is clients.table_service(settings)
    elsewhere = settings.model_copy(
        update={"storage_connection_string": None, "storage_account_name": "elsewhere"}
    )
    assert clients.table_service(elsewhere) is not clients.table_service(settings)
    assert clients.table(elsewhere, "runs").url.startswith("https://elsewhere.table.")


def test_queue_clients_share_the_connection_pool_and_keep_the_host_encoding(
    settings: Settings,
) -> None:
    service = clients.queue_service(settings)
    encoded = clients.queue(settings, settings.load_queue)
    raw = clients.queue(settings, settings.load_queue, base64=False)
    assert encoded._pipeline._transport._transport is service._pipeline._transport

    encoded.send_message("héllo")
    [message] = raw.receive_messages()
    assert base64.b64decode(message.content).decode() == "héllo"
    raw.send_message(base64.b64encode(b"back").decode())
    assert [m.content for m in encoded.receive_messages(visibility_timeout=1)] == ["back"]
