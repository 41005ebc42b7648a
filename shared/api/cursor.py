"""Opaque, tamper-evident keyset cursors.

A cursor is base64url(JSON payload) + "." + a keyed BLAKE2b tag over the payload and the query's
fingerprint (every parameter except `cursor` and `limit`). Changing a byte, or reusing a cursor
with other filters or another sort, fails the check and is a 400, never a wrong page.

The tag key is not a secret on purpose (no setting to manage): a forged cursor can only move the
page start within data the caller may read anyway, and its values are type-checked again before
they reach SQL as parameters. The tag's job is to catch corruption and misuse, not to authenticate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from shared.api.problems import bad_request

MAX_CURSOR_LENGTH = 512
_KEY = b"cratedigger-cursor-v1"
_TAG_BYTES = 12


def fingerprint(params: Mapping[str, Any]) -> str:
    """What a cursor is bound to: the query's parameters apart from paging."""
    relevant = {k: v for k, v in params.items() if k not in ("cursor", "limit") and v is not None}
    text = json.dumps(relevant, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _tag(payload: bytes, bound_to: str) -> bytes:
    return hashlib.blake2b(
        payload + b"|" + bound_to.encode(), key=_KEY, digest_size=_TAG_BYTES
    ).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(position: list[Any], bound_to: str) -> str:
    """The cursor for the page after the row whose sort key is `position`."""
    payload = json.dumps(position, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_tag(payload, bound_to))}"


def decode_cursor(cursor: str, bound_to: str) -> list[Any]:
    """The position a cursor stands for; 400 when it is malformed, altered or for other filters."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise bad_request("cursor is too long")
    try:
        body, tag = cursor.split(".")
        payload, presented = _unb64(body), _unb64(tag)
    except (ValueError, binascii.Error):
        raise bad_request(
            "cursor is malformed; pass back the `next_cursor` of a response"
        ) from None
    if not hmac.compare_digest(presented, _tag(payload, bound_to)):
        raise bad_request("cursor does not belong to this query (altered, or other parameters)")
    try:
        position = json.loads(payload)
    except ValueError:
        raise bad_request("cursor is malformed") from None
    if not isinstance(position, list):
        raise bad_request("cursor is malformed")
    return position
