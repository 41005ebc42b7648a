"""CORS from the CORS_ALLOWED_ORIGINS setting: echo an allowed Origin, never a bare wildcard."""

from __future__ import annotations

from collections.abc import Sequence

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Content-Type, x-functions-key"
EXPOSED_HEADERS = "Location, Cache-Control"
PREFLIGHT_MAX_AGE = "86400"


def _allowed(origin: str | None, allowed: Sequence[str]) -> bool:
    return bool(origin) and ("*" in allowed or origin in allowed)


def cors_headers(origin: str | None, allowed: Sequence[str]) -> dict[str, str]:
    """Headers for an actual response; `Vary: Origin` always, since the answer depends on it."""
    headers = {"Vary": "Origin"}
    if _allowed(origin, allowed):
        headers["Access-Control-Allow-Origin"] = origin or ""
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return headers


def preflight_headers(origin: str | None, allowed: Sequence[str]) -> dict[str, str] | None:
    """Headers for an OPTIONS preflight, or None when the origin is not allowed."""
    if not _allowed(origin, allowed):
        return None
    return {
        "Vary": "Origin",
        "Access-Control-Allow-Origin": origin or "",
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }
