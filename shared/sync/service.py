"""Entry points of the account sync, shared by the HTTP/queue/timer functions and the CLI."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from shared.db.connection import connect
from shared.discogs.client import DiscogsClient, Pacing
from shared.discogs.errors import InvalidUsernameError
from shared.discogs.usernames import validate_username
from shared.settings import Settings
from shared.storage.clients import queue
from shared.sync import jobs
from shared.sync.jobs import Job
from shared.sync.runner import JobRunner, RunOutcome
from shared.sync.scope import SCOPES, SyncRequestError

log = logging.getLogger(__name__)

# A queue invocation works this long, then hands over to a continuation message; well inside
# the function timeout, and short enough that a restart loses little.
RUN_BUDGET_SECONDS = 240.0
# A worker's claim on a job; longer than the slowest page (limiter wait + bounded retries).
LEASE_SECONDS = 300.0
_MAX_MESSAGE_BYTES = 1024


def request_sync(
    settings: Settings,
    username: str,
    scope: tuple[str, ...] = SCOPES,
    full: bool = False,
    *,
    trigger: str = "api",
    enqueue: bool = True,
) -> tuple[Job, bool]:
    """Create a job (and its first queue message); (running job, False) on a conflict."""
    validate_username(username)
    with connect(settings, autocommit=True) as conn:
        job, created = jobs.create_job(conn, username, scope, full, trigger)
    if created and enqueue:
        send_continuation(settings, job.id, step=0)
    return job, created


def send_continuation(settings: Settings, job_id: str, *, step: int, delay: float = 0) -> None:
    """Queue `{"job_id", "step"}`; `step` (pages done when sent) is for logs only — the job
    row's cursor is what the next worker continues from."""
    body = json.dumps({"job_id": job_id, "step": step})
    queue(settings, settings.sync_queue).send_message(
        body, visibility_timeout=max(0, min(int(delay + 0.999), 7 * 24 * 3600))
    )


def parse_message(body: str | bytes) -> str:
    """The job id of a continuation message; `SyncRequestError` for anything else."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if len(body) > _MAX_MESSAGE_BYTES:
        raise SyncRequestError("sync message too large")
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise SyncRequestError(f"sync message is not JSON: {body[:80]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("job_id"), str):
        raise SyncRequestError(f"sync message without job_id: {body[:80]!r}")
    return data["job_id"]


def continue_job(
    settings: Settings,
    body: str | bytes,
    *,
    pacing: Pacing | None = None,
    budget_seconds: float | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> RunOutcome:
    """Handle one SYNC_QUEUE message: advance the job, then hand over to a new message."""
    job_id = parse_message(body)
    if budget_seconds is None:
        budget_seconds = RUN_BUDGET_SECONDS
    with DiscogsClient(settings, pacing=pacing) as client:
        runner = JobRunner(settings, client, lease_seconds=lease_seconds)
        outcome = runner.run(job_id, deadline=time.monotonic() + budget_seconds)
    step = outcome.job.pages_done if outcome.job else 0
    if outcome.kind == "continue":
        send_continuation(settings, job_id, step=step)
    elif outcome.kind in ("deferred", "busy"):
        # Busy: another worker holds the lease. If it died, its lease expires and this
        # message (delivered after the expiry) takes over; if not, the message finds the job
        # finished or running and is dropped/deferred again.
        send_continuation(settings, job_id, step=step, delay=outcome.delay)
    if outcome.kind == "done" and outcome.job is not None:
        log.info("sync job %s finished: %s", job_id, json.dumps(outcome.job.summary()))
    else:
        log.info("sync job %s: %s", job_id, outcome.kind)
    return outcome


def run_foreground(
    settings: Settings,
    username: str,
    scope: tuple[str, ...] = SCOPES,
    full: bool = False,
    *,
    pacing: Pacing | None = None,
    progress: Callable[[Job], None] | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> Job:
    """Run a sync to the end in this process (CLI). Resumes an abandoned job for the same user
    and scope; refuses (`SyncConflictError`) while another worker is advancing one."""
    validate_username(username)
    with connect(settings, autocommit=True) as conn:
        job, created = jobs.create_job(conn, username, scope, full, "cli")
    with DiscogsClient(settings, pacing=pacing) as client:
        runner = JobRunner(settings, client, lease_seconds=lease_seconds, progress=progress)
        while True:
            outcome = runner.run(job.id)
            if outcome.kind == "busy":
                if created:
                    time.sleep(min(outcome.delay, 5))  # our own job, just released
                    continue
                raise SyncConflictError(job)
            if outcome.kind == "deferred":
                time.sleep(outcome.delay)
                continue
            break
    with connect(settings, autocommit=True) as conn:
        final = jobs.get_job(conn, job.id)
    assert final is not None
    return final


def scheduled_sync(settings: Settings, *, full: bool) -> list[dict[str, Any]]:
    """Timer: one job per SYNC_USERS entry, and a new message for jobs nobody advances."""
    started = []
    for username in settings.sync_users:
        try:
            job, created = request_sync(settings, username, SCOPES, full, trigger="timer")
        except InvalidUsernameError as exc:
            log.error("SYNC_USERS entry %r skipped: %s", username, exc)
            continue
        started.append({"username": username, "job_id": job.id, "created": created})
    with connect(settings, autocommit=True) as conn:
        stale = jobs.stale_jobs(conn, LEASE_SECONDS * 2)
    for job_id in stale:
        log.warning("sync job %s looks abandoned; sending a continuation", job_id)
        send_continuation(settings, job_id, step=-1)
    return started


def parse_job_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError):
        raise SyncRequestError(f"invalid job id {str(value)[:80]!r}: expected a UUID") from None


def job_summary(settings: Settings, job_id: str) -> dict[str, Any] | None:
    with connect(settings, autocommit=True) as conn:
        job = jobs.get_job(conn, job_id)
    return job.summary() if job else None


class SyncConflictError(RuntimeError):
    def __init__(self, job: Job) -> None:
        super().__init__(f"sync job {job.id} for {job.username} is already running")
        self.job = job
