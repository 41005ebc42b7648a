"""Sending pipeline messages (base64, as the Functions host's queue trigger expects)."""

from __future__ import annotations

import math

from shared.pipeline.backoff import MAX_DELAY_SECONDS
from shared.pipeline.messages import FetchMessage, LoadMessage, SplitMessage
from shared.settings import Settings
from shared.storage import clients


def _send(settings: Settings, queue_name: str, text: str, delay_seconds: float = 0) -> None:
    delay = min(MAX_DELAY_SECONDS, max(0, math.ceil(delay_seconds)))
    # time_to_live=-1: a rescheduled fetch may wait longer than the default 7-day TTL allows.
    clients.queue(settings, queue_name).send_message(
        text, visibility_timeout=delay or None, time_to_live=-1
    )


def send_fetch(settings: Settings, message: FetchMessage, delay_seconds: float = 0) -> None:
    _send(settings, settings.fetch_queue, message.to_json(), delay_seconds)


def send_split(settings: Settings, message: SplitMessage) -> None:
    _send(settings, settings.split_queue, message.to_json())


def send_load(settings: Settings, message: LoadMessage, delay_seconds: float = 0) -> None:
    _send(settings, settings.load_queue, message.to_json(), delay_seconds)
