"""What the control endpoints (account sync, dump ingestion) share: JSON bodies in, JSON out, and
every failure as an RFC 9457 problem, exactly as the read API answers them.

Each control endpoint is a function `ApiRequest -> ApiResponse` in its own area
(`shared/sync/http.py`, `shared/pipeline/http.py`); `answer` runs it so that no exception ever
reaches the host as a bare 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from shared.api.http import ApiRequest, ApiResponse
from shared.api.problems import (
    ApiError,
    InvalidParam,
    bad_request,
    database_unavailable,
    invalid_input,
)

log = logging.getLogger(__name__)

# Control bodies are a few fields; anything near this size is a mistake or an attack.
MAX_BODY_BYTES = 16 * 1024

Model = TypeVar("Model", bound=BaseModel)


def json_response(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> ApiResponse:
    """A success body, never cached (control answers describe state that changes by the second)."""
    return ApiResponse(status, to_json(payload), {"Cache-Control": "no-store", **(headers or {})})


def json_object_body(request: ApiRequest, example: str) -> dict[str, Any] | None:
    """The request body as a JSON object; None when empty. A 400 problem for a body that is too
    large, not UTF-8 JSON, or JSON but not an object. `example` shows the caller a valid body."""
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise bad_request(
            f"the body is {len(raw)} bytes; at most {MAX_BODY_BYTES} are accepted",
            errors=[InvalidParam(name="body", reason="too large")],
        )
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise bad_request(
            f"the body must be JSON, e.g. {example}",
            errors=[InvalidParam(name="body", reason="not JSON")],
        ) from None
    if not isinstance(body, dict):
        raise bad_request(
            f"the body must be a JSON object, e.g. {example}",
            errors=[InvalidParam(name="body", reason="not a JSON object")],
        )
    return body


def validate_body(model: type[Model], body: dict[str, Any] | None) -> Model:
    """The body as `model` (forbidding unknown fields), or a 400 listing every bad field."""
    try:
        return model.model_validate(body or {})
    except ValidationError as exc:
        raise invalid_input(
            exc,
            name=lambda loc: ".".join(["body", *(str(part) for part in loc)]),
            unknown="unknown field",
            what="body",
        ) from None


Endpoint = Callable[[ApiRequest], ApiResponse]


def answer(name: str, request: ApiRequest, endpoint: Endpoint) -> ApiResponse:
    """Run one control endpoint: its ApiError as that problem, an unreachable database as a 503
    with Retry-After, anything else as a logged 500 problem without internals."""
    try:
        return endpoint(request)
    except ApiError as error:
        return error.response(instance=request.path)
    except (psycopg.OperationalError, PoolTimeout):
        log.exception("database unavailable in %s", name)
        return database_unavailable().response(instance=request.path)
    except Exception:
        log.exception("%s failed", name)
        return ApiError(500, "internal error; see the function log").response(request.path)
