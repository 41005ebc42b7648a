"""The account sync endpoints, free of the Functions SDK: POST /users/{username}/sync and
GET /jobs/{job_id}. Errors are RFC 9457 problems (see `shared.api.control`)."""

from __future__ import annotations

from shared.api.control import json_object_body, json_response
from shared.api.http import ApiRequest, ApiResponse
from shared.api.problems import ApiError, InvalidParam, bad_request, not_found
from shared.discogs.errors import InvalidUsernameError
from shared.settings import get_settings
from shared.sync.scope import SyncRequestError, parse_request_body
from shared.sync.service import job_summary, parse_job_id, request_sync

_EXAMPLE = '{"scope": ["collection"], "full": false}'


def _invalid(exc: Exception, where: str) -> ApiError:
    return bad_request(str(exc), errors=[InvalidParam(name=where, reason=str(exc))])


def start_sync(request: ApiRequest) -> ApiResponse:
    """202 with the new job and its Location; 409 (with the running job) when one runs."""
    username = request.route_params.get("username", "")
    body = json_object_body(request, _EXAMPLE)
    try:
        scope, full = parse_request_body(body)
    except SyncRequestError as exc:
        raise _invalid(exc, "body") from None
    try:
        job, created = request_sync(get_settings(), username, scope, full, trigger="api")
    except InvalidUsernameError as exc:
        raise _invalid(exc, "path.username") from None
    location = {"Location": f"/api/jobs/{job.id}"}
    if not created:
        raise ApiError(
            409,
            f"a sync for {job.username} ({', '.join(job.scope)}) is already running",
            headers=location,
            extensions={"job": job.summary()},
        )
    return json_response(job.summary(), 202, location)


def job_status(request: ApiRequest) -> ApiResponse:
    """The job's summary; 400 for an id that is not a UUID, 404 for an unknown one."""
    try:
        job_id = parse_job_id(request.route_params.get("job_id", ""))
    except SyncRequestError as exc:
        raise _invalid(exc, "path.job_id") from None
    summary = job_summary(get_settings(), job_id)
    if summary is None:
        raise not_found(f"no job {job_id}")
    return json_response(summary)
