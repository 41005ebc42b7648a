"""Cache-Control per kind of data: how long a response stays true decides how long it is kept.

- dump: Discogs dump data changes when a new month is swapped in (monthly); an hour in shared
  caches and a day of stale-while-revalidate keeps load low while a new month shows within hours.
- account: synced data changes at every sync (hourly by default) and is one user's: private, short.
- live: job states, database stats and errors change any moment: never stored.
"""

from __future__ import annotations

from enum import StrEnum


class CacheKind(StrEnum):
    DUMP = "dump"
    ACCOUNT = "account"
    LIVE = "live"


CACHE_CONTROL: dict[CacheKind, str] = {
    CacheKind.DUMP: "public, max-age=3600, stale-while-revalidate=86400",
    CacheKind.ACCOUNT: "private, max-age=60",
    CacheKind.LIVE: "no-store",
}


def cache_control(kind: CacheKind) -> str:
    return CACHE_CONTROL[kind]
