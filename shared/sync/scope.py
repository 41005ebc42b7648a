"""What a sync request may ask for, validated before anything is stored or fetched."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SCOPES: tuple[str, ...] = ("collection", "wantlist", "inventory", "value")


class SyncRequestError(ValueError):
    """Bad input to a sync request; the message is safe to return to the caller."""


def parse_scope(value: Any) -> tuple[str, ...]:
    """A list (or comma-separated string) of scope names → those names in canonical order."""
    if value is None:
        return SCOPES
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SyncRequestError("scope must be a list of strings")
    unknown = sorted(set(value) - set(SCOPES))
    if unknown:
        raise SyncRequestError(f"unknown scope {unknown}; allowed: {list(SCOPES)}")
    if not value:
        raise SyncRequestError("scope must not be empty")
    return canonical(value)


def canonical(names: Iterable[str]) -> tuple[str, ...]:
    chosen = set(names)
    return tuple(name for name in SCOPES if name in chosen)


def parse_request_body(body: Any) -> tuple[tuple[str, ...], bool]:
    """The JSON body of POST /users/{username}/sync → (scope, full)."""
    if body is None:
        return SCOPES, False
    if not isinstance(body, dict):
        raise SyncRequestError("body must be a JSON object")
    unknown = sorted(set(body) - {"scope", "full"})
    if unknown:
        raise SyncRequestError(f"unknown fields {unknown}; allowed: ['scope', 'full']")
    full = body.get("full", False)
    if not isinstance(full, bool):
        raise SyncRequestError("full must be true or false")
    scope = body.get("scope")
    if scope is not None and not isinstance(scope, list):
        raise SyncRequestError("scope must be a list of strings")
    return parse_scope(scope), full
