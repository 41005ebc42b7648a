"""What can go wrong talking to Discogs, as exceptions that say what to do about it."""

from __future__ import annotations


class DiscogsError(RuntimeError):
    """Base class; `status` is the HTTP status when there was a response."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.status = status
        self.url = url


class InvalidUsernameError(DiscogsError, ValueError):
    """The username cannot be a Discogs username; no request was made."""


class BadTokenError(DiscogsError):
    """401: DISCOGS_TOKEN is missing, wrong or revoked."""


class PrivateResourceError(DiscogsError):
    """403: the collection/wantlist is private, or the endpoint needs the owner's token."""


class UnknownResourceError(DiscogsError):
    """404: unknown user (or release, listing)."""


class UnexpectedResponseError(DiscogsError):
    """A status or body we cannot use (422, HTML instead of JSON, invalid JSON, schema drift)."""


class DiscogsUnavailableError(DiscogsError):
    """429/5xx/timeouts/connection errors persisted through every retry; try again later."""

    retryable = True
