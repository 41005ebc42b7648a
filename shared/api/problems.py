"""RFC 9457 problem details: the one error body every API endpoint answers with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import to_json

from shared.api.http import ApiResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class InvalidParam(BaseModel):
    """One rejected input: where it was (`query.limit`, `path.id`) and why."""

    name: str
    reason: str


class Problem(BaseModel):
    """application/problem+json (RFC 9457), with `errors` listing every invalid parameter.

    Endpoints may add extension members (RFC 9457 §3.2), e.g. the running `job` of a sync
    conflict, so a client loses nothing a bespoke error body would have told it."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="A URI naming the problem type.")
    title: str
    status: int = Field(ge=100, le=599)
    detail: str | None = None
    instance: str | None = None
    errors: list[InvalidParam] | None = None


class ApiError(Exception):
    """An answer other than success, raised anywhere below the HTTP adapter."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[InvalidParam] | None = None,
        problem_type: str = "about:blank",
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.problem_type = problem_type
        self.headers = headers or {}
        self.extensions = extensions or {}
        clashing = set(self.extensions) & set(Problem.model_fields)
        if clashing:  # an extension must never overwrite a standard member (e.g. `status`)
            raise ValueError(f"extension members {sorted(clashing)} clash with problem members")

    def problem(self, instance: str | None = None) -> Problem:
        return Problem(
            type=self.problem_type,
            title=_TITLES.get(self.status, "Error"),
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
            **self.extensions,
        )

    def response(self, instance: str | None = None) -> ApiResponse:
        """The problem as an HTTP answer (never cached)."""
        # Absent members are left out, but an extension keeps its nulls (a job's `finished_at`).
        core = self.problem(instance).model_dump(mode="json", exclude_none=True)
        body = to_json({**core, **self.extensions})
        headers = {"Cache-Control": "no-store", **self.headers}
        return ApiResponse(self.status, body, headers, PROBLEM_MEDIA_TYPE)


def bad_request(detail: str, **kwargs: Any) -> ApiError:
    return ApiError(400, detail, **kwargs)


def not_found(detail: str) -> ApiError:
    return ApiError(404, detail)


# What every endpoint (read API and control) answers when it cannot reach the database (an
# OperationalError, or no pooled connection in time): try again later, not a fault of the call.
DATABASE_UNAVAILABLE_RETRY_SECONDS = 30


def database_unavailable() -> ApiError:
    return ApiError(
        503,
        "the database is unavailable",
        headers={"Retry-After": str(DATABASE_UNAVAILABLE_RETRY_SECONDS)},
    )


def search_index_outdated() -> ApiError:
    return ApiError(
        503,
        "the served month's search index was built by an older version of cratedigger;"
        " rebuild it with `python -m shared.cli api-structures` (the next month's ingestion"
        " also brings it)",
    )


def invalid_input(
    exc: ValidationError, *, name: Callable[[tuple[int | str, ...]], str], unknown: str, what: str
) -> ApiError:
    """A 400 listing every problem pydantic found: `name` turns an error's location into the
    parameter's name, `unknown` is the reason given for a forbidden extra, `what` names the
    input in the detail (`invalid parameters: query.limit`)."""
    errors = [
        InvalidParam(
            name=name(error["loc"]),
            reason=(
                unknown
                if error["type"] == "extra_forbidden"
                else error["msg"].removeprefix("Value error, ")
            ),
        )
        for error in exc.errors(include_url=False, include_input=False)
    ]
    names = ", ".join(sorted({e.name for e in errors}))
    return bad_request(f"invalid {what}: {names}", errors=errors)
