"""host.json options and `%SETTING%` binding expressions, as the Functions host reads them."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$")
_EXPRESSION = re.compile(r"%([^%]+)%")


def parse_timespan(value: str) -> float:
    """`[d.]hh:mm:ss[.fff]` in seconds (the .NET TimeSpan format host.json uses)."""
    match = _TIMESPAN.match(value.strip())
    if not match:
        raise ValueError(f"not a timespan: {value!r}")
    days, hours, minutes, seconds = match.groups()
    return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@dataclass(frozen=True)
class QueueOptions:
    batch_size: int = 16
    new_batch_threshold: int = 8
    max_dequeue_count: int = 5
    visibility_timeout: float = 0.0
    max_polling_interval: float = 60.0


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = QueueOptions()
    function_timeout: float | None = None

    @classmethod
    def load(cls, path: Path = ROOT / "host.json") -> HostConfig:
        data = json.loads(path.read_text())
        extensions = data.get("extensions", {})
        queues = extensions.get("queues", {})
        batch_size = int(queues.get("batchSize", 16))
        default_threshold = batch_size // 2 * (os.cpu_count() or 1)
        timeout = data.get("functionTimeout")
        return cls(
            route_prefix=extensions.get("http", {}).get("routePrefix", "api").strip("/"),
            queues=QueueOptions(
                batch_size=batch_size,
                new_batch_threshold=int(queues.get("newBatchThreshold", default_threshold)),
                max_dequeue_count=int(queues.get("maxDequeueCount", 5)),
                visibility_timeout=parse_timespan(queues.get("visibilityTimeout", "00:00:00")),
                max_polling_interval=parse_timespan(queues.get("maxPollingInterval", "00:01:00")),
            ),
            function_timeout=parse_timespan(timeout) if timeout else None,
        )


def resolve(expression: str, settings: Settings) -> str:
    """Replace `%NAME%` from the environment, then from the settings object's value for NAME."""

    def value_of(match: re.Match[str]) -> str:
        name = match[1]
        if name in os.environ:
            return os.environ[name]
        for field, info in Settings.model_fields.items():
            if name in (info.alias, field.upper()):
                value = getattr(settings, field)
                return value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        raise KeyError(f"binding expression %{name}% names no setting")

    return _EXPRESSION.sub(value_of, expression)
