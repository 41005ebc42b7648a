"""When to try again: `Retry-After` parsing and the backoff schedule for rescheduled fetches.

Functions never sleep for these delays: the message is re-enqueued with a visibility delay.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

# A queue message can be invisible for at most 7 days.
MAX_DELAY_SECONDS = 7 * 24 * 3600
DEFAULT_RETRY_AFTER_SECONDS = 3600.0  # what data.discogs.com sends in practice (~3574 s)
MAX_FETCH_TRIES = 6  # rescheduled network failures of one file before the run fails


def parse_retry_after(value: str | None, now: dt.datetime) -> float:
    """Seconds to wait per a `Retry-After` header (delta-seconds or HTTP-date)."""
    if not value:
        return DEFAULT_RETRY_AFTER_SECONDS
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_DELAY_SECONDS))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return float(min(max(0.0, (when - now).total_seconds()), MAX_DELAY_SECONDS))


def reschedule_delay(tries: int, base: float = 30.0, cap: float = 3600.0) -> float:
    """Exponential backoff for a file's n-th rescheduled fetch: 30 s, 60 s, 120 s, … ≤ 1 h."""
    return min(cap, base * (2 ** max(0, tries - 1)))
