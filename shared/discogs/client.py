"""A small httpx client for the Discogs endpoints the account sync reads.

Every request goes through the shared rate limiter first, carries the token header and the
User-Agent from settings, and has explicit connect/read timeouts. 429 (sent without Retry-After),
5xx, timeouts, connection errors and unreadable bodies are retried with exponential backoff and
jitter a bounded number of times (a function has a time limit); 401/403/404 are not retried and
raise errors that say what is wrong. Every attempt counts in `requests_used`.
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import ValidationError

from shared.discogs.errors import (
    BadTokenError,
    DiscogsError,
    DiscogsUnavailableError,
    PrivateResourceError,
    UnexpectedResponseError,
    UnknownResourceError,
)
from shared.discogs.models import (
    CollectionValue,
    FieldsResponse,
    FoldersResponse,
    ItemsPage,
    Pagination,
    UserProfile,
)
from shared.discogs.ratelimit import SharedRateLimiter
from shared.discogs.usernames import validate_username
from shared.settings import Settings
from shared.storage.clients import table_service

PER_PAGE = 100
_RETRY_STATUSES = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}


@dataclass(frozen=True)
class Pacing:
    """Timing of the limiter window and the retries. Production uses the defaults; tests scale
    every duration down together (`scaled`) so the semantics stay the same, only faster."""

    window_seconds: float = 60.0
    max_attempts: int = 4
    backoff_seconds: float = 2.0
    backoff_429_seconds: float = 10.0
    backoff_max_seconds: float = 60.0

    def scaled(self, factor: float) -> Pacing:
        return replace(
            self,
            window_seconds=self.window_seconds * factor,
            backoff_seconds=self.backoff_seconds * factor,
            backoff_429_seconds=self.backoff_429_seconds * factor,
            backoff_max_seconds=self.backoff_max_seconds * factor,
        )


def shared_limiter(settings: Settings, pacing: Pacing) -> SharedRateLimiter:
    """The app-wide limiter on RATE_LIMIT_TABLE (created if missing, e.g. for the CLI)."""
    # The SDK already ignores "exists" here and hands back the table's client.
    rate_limit_table = table_service(settings).create_table_if_not_exists(settings.rate_limit_table)
    return SharedRateLimiter(
        rate_limit_table,
        budget=settings.discogs_requests_per_minute,
        window_seconds=pacing.window_seconds,
    )


class _RetryableError(Exception):
    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class DiscogsClient:
    def __init__(
        self,
        settings: Settings,
        *,
        limiter: SharedRateLimiter | None = None,
        pacing: Pacing | None = None,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pacing = pacing or Pacing()
        self.limiter = limiter or shared_limiter(settings, self.pacing)
        self.base_url = settings.discogs_api_base_url
        self._host = urlsplit(self.base_url).netloc
        headers = {
            "User-Agent": settings.discogs_user_agent,
            "Accept": "application/vnd.discogs.v2.discogs+json",
        }
        token = settings.discogs_token.get_secret_value()
        if token:
            headers["Authorization"] = f"Discogs token={token}"
        timeout = settings.discogs_timeout_seconds
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )
        self._rng = rng or random.Random()
        self._sleep = sleep
        self.requests_used = 0
        self.retries = 0
        self.last_ratelimit_remaining: int | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DiscogsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- endpoints ----------------------------------------------------------------------------

    def profile(self, username: str) -> tuple[UserProfile, dict[str, Any]]:
        raw = self.get_json(f"/users/{_user(username)}")
        return _validate(UserProfile, raw), raw

    def folders(self, username: str) -> FoldersResponse:
        raw = self.get_json(f"/users/{_user(username)}/collection/folders")
        return _validate(FoldersResponse, raw)

    def fields(self, username: str) -> FieldsResponse:
        raw = self.get_json(f"/users/{_user(username)}/collection/fields")
        return _validate(FieldsResponse, raw)

    def collection_value(self, username: str) -> tuple[CollectionValue, dict[str, Any]]:
        raw = self.get_json(f"/users/{_user(username)}/collection/value")
        return _validate(CollectionValue, raw), raw

    def collection_url(self, username: str, *, sort: str, order: str) -> str:
        # Folder 0 ("All") lists every item once, each with its real folder_id.
        return self._list_url(
            f"/users/{_user(username)}/collection/folders/0/releases", sort=sort, order=order
        )

    def wantlist_url(self, username: str, *, sort: str, order: str) -> str:
        return self._list_url(f"/users/{_user(username)}/wants", sort=sort, order=order)

    def inventory_url(self, username: str, *, sort: str, order: str) -> str:
        return self._list_url(f"/users/{_user(username)}/inventory", sort=sort, order=order)

    def page(self, url: str, list_key: str) -> ItemsPage:
        """One page of a paginated list (`releases`, `wants` or `listings`)."""
        body = self.get_json(url)
        items = body.get(list_key)
        if not isinstance(items, list) or not isinstance(body.get("pagination"), dict):
            raise UnexpectedResponseError(
                f"page without `pagination` or `{list_key}` list", url=_safe(url)
            )
        pagination = _validate(Pagination, body["pagination"])
        return ItemsPage(pagination=pagination, items=[i for i in items if isinstance(i, dict)])

    def next_page_url(self, current_url: str, pagination: Pagination) -> str | None:
        """Follow `urls.next`; fall back to page+1 of the same URL while `page < pages`."""
        if pagination.urls.next:
            return pagination.urls.next
        if pagination.page < pagination.pages:
            url = httpx.URL(current_url)
            return str(url.copy_set_param("page", str(pagination.page + 1)))
        return None

    # --- transport ------------------------------------------------------------------------------

    def get_json(self, url: str) -> dict[str, Any]:
        url = self._checked(url)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(url)
            except _RetryableError as retry:
                if attempt >= self.pacing.max_attempts:
                    error = DiscogsUnavailableError(
                        f"Discogs unavailable after {attempt} attempts: {retry}",
                        status=retry.status,
                        url=_safe(url),
                    )
                    raise error from None
                self.retries += 1
                self._sleep(self._backoff(attempt, retry.status))

    def _attempt(self, url: str) -> dict[str, Any]:
        self.limiter.acquire()
        self.requests_used += 1
        try:
            response = self._http.get(url)
        except httpx.TimeoutException as exc:
            raise _RetryableError(f"timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _RetryableError(f"connection error ({type(exc).__name__})") from None
        self._observe_headers(response)
        status = response.status_code
        if status in _RETRY_STATUSES:
            raise _RetryableError(f"HTTP {status}", status=status)
        if status == 401:
            raise BadTokenError(
                "Discogs rejected the token (401): check DISCOGS_TOKEN", status=401, url=_safe(url)
            )
        if status == 403:
            raise PrivateResourceError(
                f"Discogs refused access (403): {_message(response) or 'private or owner only'}",
                status=403,
                url=_safe(url),
            )
        if status == 404:
            raise UnknownResourceError(
                f"not found on Discogs (404): {_message(response) or _safe(url)}",
                status=404,
                url=_safe(url),
            )
        if status != 200:
            raise UnexpectedResponseError(
                f"unexpected HTTP {status} from Discogs: {_message(response)}",
                status=status,
                url=_safe(url),
            )
        if "json" not in response.headers.get("content-type", ""):
            kind = response.headers.get("content-type")
            raise _RetryableError(f"non-JSON body ({kind})", status=200)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _RetryableError("invalid JSON body", status=200) from None
        if not isinstance(body, dict):
            raise _RetryableError("JSON body is not an object", status=200)
        return body

    def _observe_headers(self, response: httpx.Response) -> None:
        remaining = _int_header(response, "X-Discogs-Ratelimit-Remaining")
        if remaining is None:
            return
        self.last_ratelimit_remaining = remaining
        self.limiter.observe_remaining(remaining, _int_header(response, "X-Discogs-Ratelimit"))

    def _backoff(self, attempt: int, status: int | None) -> float:
        base = self.pacing.backoff_429_seconds if status == 429 else self.pacing.backoff_seconds
        ceiling = min(self.pacing.backoff_max_seconds, base * 2 ** (attempt - 1))
        # "Equal jitter": at least half the step, so retries from many instances spread out
        # without collapsing to zero.
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _list_url(self, path: str, *, sort: str, order: str) -> str:
        params = {"page": "1", "per_page": str(PER_PAGE), "sort": sort, "sort_order": order}
        return str(httpx.URL(self.base_url + path, params=params))

    def _checked(self, url: str) -> str:
        if url.startswith("/"):
            return self.base_url + url
        # Pagination URLs come from the response: never send our token to another host.
        if urlsplit(url).netloc != self._host:
            raise UnexpectedResponseError(f"refusing to follow a URL to another host: {_safe(url)}")
        return url


def _user(username: str) -> str:
    return quote(validate_username(username), safe="")


def _validate(model: Any, raw: Any) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        message = f"Discogs response did not match {model.__name__}: {exc}"
        raise UnexpectedResponseError(message) from None


def _message(response: httpx.Response) -> str:
    if "json" in response.headers.get("content-type", ""):
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("message"), str):
                return body["message"]
    return ""


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _safe(url: str) -> str:
    """The URL without a query token, for messages and logs."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query and "token=" not in parts.query else "")


__all__ = ["PER_PAGE", "DiscogsClient", "DiscogsError", "Pacing", "shared_limiter"]
