"""Sending pipeline messages (base64, as the Functions host's queue trigger expects)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from shared.pipeline.backoff import MAX_DELAY_SECONDS
from shared.pipeline.messages import FetchMessage, LoadMessage, SplitMessage
from shared.settings import Settings
from shared.storage import clients

if TYPE_CHECKING:
    from azure.storage.queue import QueueClient


def _send(client: QueueClient, text: str, delay_seconds: float = 0) -> None:
    delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(delay_seconds)))
    # time_to_live=-1: a rescheduled fetch may wait longer than the default 7-day TTL allows.
    client.send_message(text, visibility_timeout=delay or None, time_to_live=-1)


def send_fetch(settings: Settings, message: FetchMessage, delay_seconds: float = 0) -> None:
    _send(clients.queue(settings, settings.fetch_queue), message.to_json(), delay_seconds)


def send_split(settings: Settings, message: SplitMessage) -> None:
    _send(clients.queue(settings, settings.split_queue), message.to_json())


def load_queue(settings: Settings) -> QueueClient:
    """The load queue's client, for a sender of many loads (a split) to reuse: it saves building
    a client per message (~0.1 ms); the connection pool is the cached service client's either way
    (`shared.storage.clients`)."""
    return clients.queue(settings, settings.load_queue)


def send_load(
    settings: Settings,
    message: LoadMessage,
    delay_seconds: float = 0,
    *,
    client: QueueClient | None = None,
) -> None:
    _send(client or load_queue(settings), message.to_json(), delay_seconds)
