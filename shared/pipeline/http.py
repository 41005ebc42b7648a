"""The ingestion endpoints, free of the Functions SDK: POST/GET /ingestions,
GET /ingestions/{id} and POST /ingestions/{id}/retry. Errors are RFC 9457 problems (see
`shared.api.control`); a conflict names the run it conflicts with (`ingestion` member, Location).

The pipeline's service is imported inside each handler: it pulls in the dump, blob and queue
code, which the other HTTP functions of a cold instance do not need.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.api.control import json_object_body, json_response, validate_body
from shared.api.http import ApiRequest, ApiResponse
from shared.api.problems import ApiError, InvalidParam, bad_request, not_found
from shared.settings import get_settings

_RUN_ID = re.compile(r"^[0-9]{8}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_EXAMPLE = '{"month": "latest"}'


class IngestionRequest(BaseModel):
    """POST /api/ingestions."""

    model_config = ConfigDict(extra="forbid")

    month: str = Field(
        "latest",
        description='"latest" or a date within the wanted month such as "2026-11-01".',
        examples=["latest", "2026-11-01"],
        max_length=10,
    )

    @field_validator("month", mode="before")
    @classmethod
    def _latest_or_date(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError('must be "latest" or a date such as "2026-11-01"')
        if value == "latest":
            return value
        try:
            if not _DATE.match(value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f'must be "latest" or a date such as "2026-11-01", not {value[:40]!r}'
            ) from None
        return value


def _run_id(request: ApiRequest) -> str:
    value = request.route_params.get("id", "")
    if not _RUN_ID.match(value):
        reason = "ingestion ids are dump dates such as 20261101"
        raise bad_request(reason, errors=[InvalidParam(name="path.id", reason=reason)])
    return value


def _location(run_id: str) -> str:
    return f"/api/ingestions/{run_id}"


def _conflict(exc: Exception) -> ApiError:
    run_id = getattr(exc, "run_id", None)
    if run_id is None:
        return ApiError(409, str(exc))
    return ApiError(
        409,
        str(exc),
        headers={"Location": _location(run_id)},
        extensions={"ingestion": {"id": run_id, "status": _location(run_id)}},
    )


def start_ingestion(request: ApiRequest) -> ApiResponse:
    """202 with the started run; 404 for an unpublished month, 409 for one that is running or
    loaded (naming that run), 502/503 when the dump host fails or rate-limits us."""
    from shared.pipeline.service import ConflictError, NotFoundError, start_requested
    from shared.pipeline.source import RateLimitedError, SourceError, TransientSourceError

    body = validate_body(IngestionRequest, json_object_body(request, _EXAMPLE))
    try:
        result = start_requested(get_settings(), body.month)
    except NotFoundError as exc:
        raise not_found(str(exc)) from None
    except ConflictError as exc:
        raise _conflict(exc) from None
    except RateLimitedError as exc:
        raise ApiError(503, str(exc), headers={"Retry-After": str(int(exc.retry_after))}) from None
    except (SourceError, TransientSourceError) as exc:
        raise ApiError(502, f"the dump host failed: {exc}") from None
    run = result.run
    assert run is not None
    return json_response(
        {
            "id": run.run_id,
            "month": run.dump_date.isoformat(),
            "attempt": run.attempt,
            "state": run.state,
            "status": _location(run.run_id),
        },
        202,
        {"Location": _location(run.run_id)},
    )


def list_ingestions(request: ApiRequest) -> ApiResponse:
    from shared.pipeline.service import list_runs

    runs = list_runs(get_settings())
    return json_response({"ingestions": [r.model_dump(mode="json") for r in runs]})


def get_ingestion(request: ApiRequest) -> ApiResponse:
    from shared.pipeline.service import NotFoundError, run_status

    run_id = _run_id(request)
    try:
        return json_response(run_status(get_settings(), run_id).model_dump(mode="json"))
    except NotFoundError as exc:
        raise not_found(str(exc)) from None


def retry_ingestion(request: ApiRequest) -> ApiResponse:
    """202 with the re-queued chunks and files; 404 for an unknown run, 409 for nothing to do."""
    from shared.pipeline.service import ConflictError, NotFoundError, retry_run

    run_id = _run_id(request)
    try:
        retried = retry_run(get_settings(), run_id)
    except NotFoundError as exc:
        raise not_found(str(exc)) from None
    except ConflictError as exc:
        raise _conflict(exc) from None
    return json_response(
        {
            "id": run_id,
            "retried": [{"entity": e, "seq": s} for e, s in retried.chunks],
            "files": retried.files,
        },
        202,
        {"Location": _location(run_id)},
    )
