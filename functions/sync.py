"""Account sync triggers: start a sync, read a job, continue jobs from the queue, schedules."""

from __future__ import annotations

import json
import logging

import azure.functions as func

from shared.discogs.errors import InvalidUsernameError
from shared.settings import get_settings
from shared.sync.scope import SyncRequestError, parse_request_body
from shared.sync.service import (
    continue_job,
    job_summary,
    parse_job_id,
    request_sync,
    scheduled_sync,
)

bp = func.Blueprint()
log = logging.getLogger(__name__)


def _json(body: object, status: int, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(body),
        status_code=status,
        mimetype="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


@bp.route(route="users/{username}/sync", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
def sync_start(req: func.HttpRequest) -> func.HttpResponse:
    raw = req.get_body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _json({"message": "body must be JSON"}, 400)
    try:
        scope, full = parse_request_body(body)
        job, created = request_sync(
            get_settings(), req.route_params.get("username", ""), scope, full, trigger="api"
        )
    except (SyncRequestError, InvalidUsernameError) as exc:
        return _json({"message": str(exc)}, 400)
    location = {"Location": f"/api/jobs/{job.id}"}
    if not created:
        message = f"a sync for {job.username} ({', '.join(job.scope)}) is already running"
        return _json({"message": message, "job": job.summary()}, 409, location)
    return _json(job.summary(), 202, location)


@bp.route(route="jobs/{job_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def sync_job_status(req: func.HttpRequest) -> func.HttpResponse:
    try:
        job_id = parse_job_id(req.route_params.get("job_id", ""))
    except SyncRequestError as exc:
        return _json({"message": str(exc)}, 400)
    summary = job_summary(get_settings(), job_id)
    if summary is None:
        return _json({"message": f"no job {job_id}"}, 404)
    return _json(summary, 200)


@bp.queue_trigger(arg_name="msg", queue_name="%SYNC_QUEUE%", connection="AzureWebJobsStorage")
def sync_continue(msg: func.QueueMessage) -> None:
    # A malformed message raises: the host retries it, then moves it to the poison queue.
    continue_job(get_settings(), msg.get_body())


@bp.timer_trigger(arg_name="timer", schedule="%SYNC_SCHEDULE%", run_on_startup=False)
def sync_schedule(timer: func.TimerRequest) -> None:
    started = scheduled_sync(get_settings(), full=False)
    log.info("scheduled incremental sync: %s", started)


@bp.timer_trigger(arg_name="timer", schedule="%RECONCILE_SCHEDULE%", run_on_startup=False)
def sync_reconcile(timer: func.TimerRequest) -> None:
    started = scheduled_sync(get_settings(), full=True)
    log.info("scheduled full reconcile: %s", started)
