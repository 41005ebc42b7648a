"""Dump pipeline triggers: the discovery timer, the fetch/split/load queues, and the ingestion API.

Thin adapters: each turns its trigger payload into one call into `shared.pipeline` and the result
into a log line or an HTTP response (`shared.pipeline.http`). Messages that are not ours are
logged and dropped (retrying cannot fix them); every other exception propagates so the host
retries and, after maxDequeueCount, poisons the message.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.http_adapter import api_request, http_response
from shared.api.control import answer
from shared.pipeline.http import (
    get_ingestion,
    list_ingestions,
    retry_ingestion,
    start_ingestion,
)
from shared.pipeline.source import RateLimitedError
from shared.settings import get_settings

bp = func.Blueprint()
log = logging.getLogger("cratedigger.pipeline")


# --- timer ------------------------------------------------------------------------------------
@bp.timer_trigger(arg_name="timer", schedule="%DUMP_SCHEDULE%", run_on_startup=False)
def dump_discover(timer: func.TimerRequest) -> None:
    from shared.pipeline.service import discover

    try:
        result = discover(get_settings())
    except RateLimitedError as exc:
        log.warning("dump index rate limited; the next timer tries again: %s", exc)
        return
    if result is None:
        log.info("no complete dump month published")
    else:
        log.info("dump %s: %s", result.month.dump_date if result.month else "?", result.decision)


# --- queues -----------------------------------------------------------------------------------
@bp.queue_trigger(arg_name="msg", queue_name="%FETCH_QUEUE%", connection="AzureWebJobsStorage")
def dump_fetch(msg: func.QueueMessage) -> None:
    from shared.pipeline.fetch import FetchOptions, handle_fetch, use_server_copy
    from shared.pipeline.messages import FetchMessage, MessageError, parse_message
    from shared.pipeline.servercopy import BlobServerCopy

    settings = get_settings()
    try:
        message = parse_message(FetchMessage, msg.get_body())
    except MessageError as exc:
        log.error("dropping a foreign fetch message: %s", exc)
        return
    options = FetchOptions(
        server_copy=BlobServerCopy() if use_server_copy(settings) else None,
        split_while_fetching=True,  # where the file streams through us (not a server-side copy)
    )
    log.info("fetch %s/%s: %s", message.run, message.file, handle_fetch(settings, message, options))


@bp.queue_trigger(arg_name="msg", queue_name="%SPLIT_QUEUE%", connection="AzureWebJobsStorage")
def dump_split(msg: func.QueueMessage) -> None:
    from shared.pipeline.messages import MessageError, SplitMessage, parse_message
    from shared.pipeline.split import SplitOptions, handle_split

    try:
        message = parse_message(SplitMessage, msg.get_body())
    except MessageError as exc:
        log.error("dropping a foreign split message: %s", exc)
        return
    outcome = handle_split(get_settings(), message, SplitOptions())
    log.info("split %s/%s: %s", message.run, message.entity, outcome)


@bp.queue_trigger(arg_name="msg", queue_name="%LOAD_QUEUE%", connection="AzureWebJobsStorage")
def dump_load(msg: func.QueueMessage) -> None:
    from shared.pipeline.load import LoadOptions, handle_load
    from shared.pipeline.messages import LoadMessage, MessageError, parse_message

    try:
        message = parse_message(LoadMessage, msg.get_body())
    except MessageError as exc:
        log.error("dropping a foreign load message: %s", exc)
        return
    outcome = handle_load(get_settings(), message, int(msg.dequeue_count or 1), LoadOptions())
    log.info("load %s/%s#%s: %s", message.run, message.entity, message.seq, outcome)


# --- HTTP ---------------------------------------------------------------------------------------
@bp.route(route="ingestions", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
def ingestions_start(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(answer("ingestions_start", api_request(req), start_ingestion))


@bp.route(route="ingestions", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def ingestions_list(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(answer("ingestions_list", api_request(req), list_ingestions))


@bp.route(route="ingestions/{id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def ingestions_get(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(answer("ingestions_get", api_request(req), get_ingestion))


@bp.route(route="ingestions/{id}/retry", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
def ingestions_retry(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(answer("ingestions_retry", api_request(req), retry_ingestion))
