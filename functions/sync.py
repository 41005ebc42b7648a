"""Account sync triggers: start a sync, read a job, continue jobs from the queue, schedules."""

from __future__ import annotations

import logging

import azure.functions as func

from functions.http_adapter import api_request, http_response
from shared.api.control import answer
from shared.settings import get_settings
from shared.sync.http import job_status, start_sync
from shared.sync.service import continue_job, scheduled_sync

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.route(route="users/{username}/sync", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
def sync_start(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(answer("sync_start", api_request(req), start_sync))


@bp.route(route="jobs/{job_id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def sync_job_status(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(answer("sync_job_status", api_request(req), job_status))


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
