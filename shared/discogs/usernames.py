"""Discogs username validation, done before any request is made.

Discogs usernames are letters, digits, `.`, `-` and `_` (the sign-up form's rule); we allow up to
64 characters to stay tolerant of old accounts. A name made only of dots would turn the URL path
into `/users/../…`, so it is refused too.
"""

from __future__ import annotations

import re

from shared.discogs.errors import InvalidUsernameError

MAX_USERNAME_LENGTH = 64
_USERNAME = re.compile(rf"^[A-Za-z0-9._-]{{1,{MAX_USERNAME_LENGTH}}}$")


def validate_username(value: object) -> str:
    """The username unchanged if valid, else `InvalidUsernameError` saying why."""
    if not isinstance(value, str) or not value:
        raise InvalidUsernameError("username is required")
    if not _USERNAME.match(value):
        raise InvalidUsernameError(
            f"invalid Discogs username {value[:80]!r}: use 1-{MAX_USERNAME_LENGTH} letters, "
            "digits, '.', '-' or '_'"
        )
    if set(value) == {"."}:
        raise InvalidUsernameError(f"invalid Discogs username {value!r}")
    return value
