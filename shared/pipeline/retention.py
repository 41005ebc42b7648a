"""Which stored dump months to delete after a successful run (pure)."""

from __future__ import annotations

import datetime as dt


def _month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def months_to_delete(stored: list[dt.date], current: dt.date, keep_months: int) -> list[dt.date]:
    """Dump dates older than the newest `keep_months` months (counting `current`'s month).

    `keep_months=0` keeps nothing, not even the month just loaded (its data is in PostgreSQL).
    Months newer than `current` (a later dump already fetched) are always kept.
    """
    cutoff = _month_index(current) - keep_months
    return sorted(d for d in stored if _month_index(d) <= cutoff)
