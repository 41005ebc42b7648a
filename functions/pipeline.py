"""Dump pipeline triggers: the discovery timer, the fetch/split/load queues, and the ingestion API.

Thin adapters: each turns its trigger payload into one call into `shared.pipeline` and the result
into a log line or an HTTP response. Messages that are not ours are logged and dropped (retrying
cannot fix them); every other exception propagates so the host retries and, after
maxDequeueCount, poisons the message.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable

import azure.functions as func

from shared.pipeline.source import RateLimitedError, SourceError, TransientSourceError
from shared.settings import get_settings

bp = func.Blueprint()
log = logging.getLogger("cratedigger.pipeline")

_RUN_ID = re.compile(r"^\d{8}$")


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


# --- HTTP -------------------------------------------------------------------------------------
def _json(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(payload, default=str),
        status_code=status,
        mimetype="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return _json({"error": message}, status, headers)


def _json_errors(
    handler: Callable[[func.HttpRequest], func.HttpResponse],
) -> Callable[[func.HttpRequest], func.HttpResponse]:
    """Unexpected failures answer 500 with a JSON error (details only in the log)."""

    @functools.wraps(handler)
    def wrapped(req: func.HttpRequest) -> func.HttpResponse:
        try:
            return handler(req)
        except Exception:
            log.exception("%s failed", handler.__name__)
            return _error(500, "internal error; see the function log")

    return wrapped


def _run_id(req: func.HttpRequest) -> str | None:
    value = req.route_params.get("id", "")
    return value if _RUN_ID.match(value) else None


@bp.route(route="ingestions", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
@_json_errors
def ingestions_start(req: func.HttpRequest) -> func.HttpResponse:
    import datetime as dt

    from shared.pipeline.service import ConflictError, NotFoundError, start_requested

    try:
        body = req.get_json() if req.get_body() else {}
    except ValueError:
        return _error(400, 'the body must be JSON, e.g. {"month": "latest"}')
    month = body.get("month", "latest") if isinstance(body, dict) else None
    if not isinstance(month, str):
        return _error(400, 'month must be "latest" or a date such as "2026-11-01"')
    if month != "latest":
        try:
            dt.date.fromisoformat(month)
        except ValueError:
            return _error(
                400, f'month must be "latest" or a date such as "2026-11-01", not {month!r}'
            )
    try:
        result = start_requested(get_settings(), month)
    except NotFoundError as exc:
        return _error(404, str(exc))
    except ConflictError as exc:
        return _error(409, str(exc))
    except RateLimitedError as exc:
        return _error(503, str(exc), {"Retry-After": str(int(exc.retry_after))})
    except (SourceError, TransientSourceError) as exc:
        return _error(502, f"the dump host failed: {exc}")
    run = result.run
    assert run is not None
    return _json(
        {
            "id": run.run_id,
            "month": run.dump_date.isoformat(),
            "attempt": run.attempt,
            "state": run.state,
            "status": f"/api/ingestions/{run.run_id}",
        },
        202,
        {"Location": f"/api/ingestions/{run.run_id}"},
    )


@bp.route(route="ingestions", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@_json_errors
def ingestions_list(req: func.HttpRequest) -> func.HttpResponse:
    from shared.pipeline.service import list_runs

    runs = list_runs(get_settings())
    return _json({"ingestions": [r.model_dump(mode="json") for r in runs]})


@bp.route(route="ingestions/{id}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@_json_errors
def ingestions_get(req: func.HttpRequest) -> func.HttpResponse:
    from shared.pipeline.service import NotFoundError, run_status

    run_id = _run_id(req)
    if run_id is None:
        return _error(404, "ingestion ids are dump dates such as 20261101")
    try:
        return _json(run_status(get_settings(), run_id).model_dump(mode="json"))
    except NotFoundError as exc:
        return _error(404, str(exc))


@bp.route(route="ingestions/{id}/retry", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
@_json_errors
def ingestions_retry(req: func.HttpRequest) -> func.HttpResponse:
    from shared.pipeline.service import ConflictError, NotFoundError, retry_run

    run_id = _run_id(req)
    if run_id is None:
        return _error(404, "ingestion ids are dump dates such as 20261101")
    try:
        retried = retry_run(get_settings(), run_id)
    except NotFoundError as exc:
        return _error(404, str(exc))
    except ConflictError as exc:
        return _error(409, str(exc))
    return _json(
        {
            "id": run_id,
            "retried": [{"entity": e, "seq": s} for e, s in retried.chunks],
            "files": retried.files,
        },
        202,
        {"Location": f"/api/ingestions/{run_id}"},
    )
