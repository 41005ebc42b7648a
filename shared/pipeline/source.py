"""Reading dump files and index pages from the dump host over HTTP (httpx).

The official host is rate limited (429 with a Retry-After of about an hour), may not honour
Range requests and omits Content-Length; every outcome is mapped to one of three exceptions so
callers can decide: reschedule later (`RateLimitedError`), retry (`TransientSourceError`) or give up
(`SourceError`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from shared.pipeline.backoff import parse_retry_after
from shared.settings import Settings

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+|\*)?/?(\d+|\*)?")


class SourceError(RuntimeError):
    """A permanent failure (404, 403, …): retrying the same request will not help."""


class TransientSourceError(RuntimeError):
    """A network error or a 5xx: worth retrying."""


class RateLimitedError(RuntimeError):
    def __init__(self, url: str, retry_after: float) -> None:
        super().__init__(f"{url} answered 429; retry after {retry_after:.0f} s")
        self.retry_after = retry_after


@dataclass
class OpenedStream:
    response: httpx.Response
    start: int  # the byte the body starts at: the requested offset, or 0 if Range was ignored
    total: int | None  # the full file size when the host said so


def http_client(settings: Settings) -> httpx.Client:
    return httpx.Client(
        headers={"User-Agent": settings.discogs_user_agent},
        timeout=httpx.Timeout(settings.discogs_timeout_seconds),
        follow_redirects=True,
    )


def _raise_for_status(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status == 429:
        raise RateLimitedError(url, parse_retry_after(response.headers.get("Retry-After"), _now()))
    if status >= 500 or status == 408:
        raise TransientSourceError(f"{url} answered {status}")
    if status >= 400:
        raise SourceError(f"{url} answered {status}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def final_url(client: httpx.Client, url: str) -> str:
    """Where `url` ends up after redirects (HEAD): Copy Blob needs the final URL."""
    try:
        response = client.head(url)
    except httpx.TransportError as exc:
        raise TransientSourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
    _raise_for_status(response, url)
    return str(response.url)


def get_small(client: httpx.Client, url: str) -> bytes:
    """A small document (index page, CHECKSUM file) in one request."""
    try:
        response = client.get(url)
    except httpx.TransportError as exc:
        raise TransientSourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
    _raise_for_status(response, url)
    return response.content


@contextlib.contextmanager
def open_stream(client: httpx.Client, url: str, offset: int = 0) -> Iterator[OpenedStream]:
    """Stream `url` from `offset` (a Range request when > 0); `start` says what was honoured."""
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with client.stream("GET", url, headers=headers) as response:
            _raise_for_status(response, url)
            start, total = 0, None
            if response.status_code == 206:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                if not match or int(match[1]) != offset:
                    raise TransientSourceError(f"{url}: unexpected Content-Range for {offset}")
                start = offset
                if match[3] and match[3] != "*":
                    total = int(match[3])
            elif length := response.headers.get("Content-Length"):
                total = int(length)
            yield OpenedStream(response, start, total)
    except httpx.TransportError as exc:
        raise TransientSourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
