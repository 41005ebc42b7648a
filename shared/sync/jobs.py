"""The sync job record in PostgreSQL: creation with a per-user conflict check, leases, progress.

A job row holds the cursor of the next page, so the page's items and the cursor commit together.
A lease (token + expiry) makes sure only one worker advances a job at a time; a worker that dies
simply lets its lease expire and the next continuation message takes over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

ACTIVE_STATES = ("queued", "running")
COUNT_NAMES = ("added", "updated", "removed", "unchanged")


@dataclass
class Job:
    id: str
    username: str
    scope: list[str]
    full_reconcile: bool
    trigger: str
    state: str
    cursor: dict[str, Any]
    pages_done: int
    pages_total: dict[str, int]
    counts: dict[str, dict[str, int]]
    requests_used: int
    errors: list[dict[str, Any]]
    deferrals: int
    lease_token: str | None
    lease_until: datetime | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        values = dict(row)
        values["id"] = str(values["id"])
        if values.get("lease_token") is not None:
            values["lease_token"] = str(values["lease_token"])
        return cls(**values)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def totals(self) -> dict[str, int]:
        return {
            name: sum(scope_counts.get(name, 0) for scope_counts in self.counts.values())
            for name in COUNT_NAMES
        }

    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or self.updated_at
        return round((end - self.started_at).total_seconds(), 3)

    def summary(self) -> dict[str, Any]:
        """The public view of a job (GET /api/jobs/{id}, CLI --json)."""
        return {
            "id": self.id,
            "username": self.username,
            "scope": list(self.scope),
            "full": self.full_reconcile,
            "trigger": self.trigger,
            "state": self.state,
            "phase": self.cursor.get("phase"),
            "pages_done": self.pages_done,
            "pages_total": sum(self.pages_total.values()) if self.pages_total else None,
            "pages_total_by_scope": self.pages_total,
            **self.totals(),
            "counts": self.counts,
            "requests_used": self.requests_used,
            # Times the job waited for Discogs to recover (429/5xx through every retry).
            "deferrals": self.deferrals,
            "errors": self.errors,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_seconds": self.duration_seconds(),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_COLUMNS = (
    "id, username, scope, full_reconcile, trigger, state, cursor, pages_done, pages_total, "
    "counts, requests_used, errors, deferrals, lease_token, lease_until, created_at, "
    "started_at, updated_at, finished_at"
)


def create_job(
    conn: psycopg.Connection,
    username: str,
    scope: tuple[str, ...],
    full: bool,
    trigger: str,
) -> tuple[Job, bool]:
    """A new queued job, or (the active job, False) when one overlaps this user and scope.

    Runs in its own transaction; an advisory lock per username makes check-and-insert atomic
    across concurrent requests.
    """
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('sync:' || lower(%s)))", (username,))
        cur.execute(
            f"SELECT {_COLUMNS} FROM account.sync_jobs "
            "WHERE lower(username) = lower(%s) AND state IN ('queued', 'running') "
            "AND scope && %s::text[] ORDER BY created_at LIMIT 1",
            (username, list(scope)),
        )
        running = cur.fetchone()
        if running:
            return Job.from_row(running), False
        cur.execute(
            f"INSERT INTO account.sync_jobs (username, scope, full_reconcile, trigger, cursor) "
            f"VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (username, list(scope), full, trigger, Jsonb({"phase": "profile"})),
        )
        row = cur.fetchone()
        assert row is not None
        return Job.from_row(row), True


def get_job(conn: psycopg.Connection, job_id: str, *, for_update: bool = False) -> Job | None:
    try:
        uuid.UUID(job_id)
    except ValueError:
        return None
    lock = " FOR UPDATE" if for_update else ""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM account.sync_jobs WHERE id = %s{lock}", (job_id,))
        row = cur.fetchone()
    return Job.from_row(row) if row else None


def claim(
    conn: psycopg.Connection, job_id: str, token: str, lease_seconds: float
) -> tuple[Job | None, float]:
    """Take the job's lease. Returns (job, 0) on success, else (None or the job, seconds until
    the current lease expires)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(
            f"UPDATE account.sync_jobs SET lease_token = %s, "
            "lease_until = now() + make_interval(secs => %s), state = 'running', "
            "started_at = coalesce(started_at, now()), updated_at = now() "
            "WHERE id = %s AND state IN ('queued', 'running') "
            "AND (lease_until IS NULL OR lease_until < now() OR lease_token = %s) "
            f"RETURNING {_COLUMNS}",
            (token, lease_seconds, job_id, token),
        )
        row = cur.fetchone()
        if row:
            return Job.from_row(row), 0.0
        cur.execute(
            "SELECT greatest(extract(epoch FROM lease_until - now()), 0) AS wait, state "
            "FROM account.sync_jobs WHERE id = %s",
            (job_id,),
        )
        other = cur.fetchone()
    if other is None or other["state"] not in ACTIVE_STATES:
        return None, 0.0
    return get_job(conn, job_id), float(other["wait"] or 0.0)


def save_progress(
    conn: psycopg.Connection,
    job: Job,
    *,
    lease_seconds: float,
    new_pages: int,
    new_requests: int,
) -> None:
    """Store the job's cursor, counters and errors (inside the caller's page transaction)."""
    conn.execute(
        "UPDATE account.sync_jobs SET cursor = %s, pages_done = pages_done + %s, "
        "pages_total = %s, counts = %s, requests_used = requests_used + %s, errors = %s, "
        "deferrals = %s, lease_until = now() + make_interval(secs => %s), updated_at = now() "
        "WHERE id = %s",
        (
            Jsonb(job.cursor),
            new_pages,
            Jsonb(job.pages_total),
            Jsonb(job.counts),
            new_requests,
            Jsonb(job.errors),
            job.deferrals,
            lease_seconds,
            job.id,
        ),
    )


def holds_lease(conn: psycopg.Connection, job_id: str, token: str) -> bool:
    """Lock the job row for this transaction and check that we still own it."""
    row = conn.execute(
        "SELECT lease_token = %s AND state = 'running' FROM account.sync_jobs "
        "WHERE id = %s FOR UPDATE",
        (token, job_id),
    ).fetchone()
    return bool(row and row[0])


def finish(conn: psycopg.Connection, job_id: str, state: str) -> None:
    conn.execute(
        "UPDATE account.sync_jobs SET state = %s, finished_at = now(), updated_at = now(), "
        "lease_token = NULL, lease_until = NULL WHERE id = %s",
        (state, job_id),
    )


def release(conn: psycopg.Connection, job_id: str, token: str) -> None:
    """Give the lease back so the continuation message can claim it at once."""
    conn.execute(
        "UPDATE account.sync_jobs SET lease_token = NULL, lease_until = NULL, updated_at = now() "
        "WHERE id = %s AND lease_token = %s",
        (job_id, token),
    )


def stale_jobs(conn: psycopg.Connection, older_than_seconds: float) -> list[str]:
    """Active jobs nobody advances (lost message, crashed worker): candidates for a new message."""
    rows = conn.execute(
        "SELECT id FROM account.sync_jobs WHERE state IN ('queued', 'running') "
        "AND coalesce(lease_until, updated_at) < now() - make_interval(secs => %s)",
        (older_than_seconds,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def rename_user(conn: psycopg.Connection, job_id: str, username: str) -> None:
    """Adopt Discogs' spelling of the username for the job (and so for everything it stores)."""
    conn.execute("UPDATE account.sync_jobs SET username = %s WHERE id = %s", (username, job_id))
