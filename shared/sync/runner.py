"""Advancing one sync job, one page per transaction, until it is done or its time is up.

A job walks its phases in order: `profile` (user profile; folders and custom fields when needed),
then `collection`, `wantlist`, `inventory` (paginated lists), `value`, and `done`. Each list page
is fetched outside any transaction, then its items, the job's counters and the cursor of the next
page are committed together, so a crash repeats at most the page in flight and never skips one.

Incremental jobs walk newest-first and stop at the first page whose items are all known and
unchanged. Full reconciles walk everything and then mark what was not seen as removed — but only
when the walk was complete and consistent (item count stable, every item valid), because a
partial walk must never be read as "the user deleted the rest".
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from shared.db.connection import connect
from shared.discogs.client import DiscogsClient
from shared.discogs.errors import (
    BadTokenError,
    DiscogsError,
    DiscogsUnavailableError,
    PrivateResourceError,
    UnexpectedResponseError,
    UnknownResourceError,
)
from shared.discogs.models import ItemsPage
from shared.discogs.money import MoneyFormatError, parse_money
from shared.discogs.ratelimit import RateLimiterError
from shared.queries.user_stats_store import refresh_quietly
from shared.settings import Settings
from shared.sync import jobs, records, store
from shared.sync.jobs import Job

log = logging.getLogger(__name__)

LIST_PHASES = {
    # phase: (store kind, response list key, sort, sort order)
    "collection": (store.COLLECTION, "releases", "added", "desc"),
    "wantlist": (store.WANTLIST, "wants", "added", "desc"),
    "inventory": (store.INVENTORY, "listings", "listed", "desc"),
}
_ROWS = {
    "collection": records.collection_rows,
    "wantlist": records.want_rows,
    "inventory": records.listing_rows,
}
MAX_ERRORS = 50
MAX_DEFERRALS = 5


class LeaseLostError(RuntimeError):
    """Another worker took the job over (our lease expired); stop without writing."""


@dataclass(frozen=True)
class RunOutcome:
    """What the caller should do next: `done`, `continue` (send a continuation now),
    `deferred`/`busy` (send one after `delay` seconds), or `gone` (nothing: job finished)."""

    kind: str
    job: Job | None
    delay: float = 0.0


def phases_for(job: Job) -> list[str]:
    phases = ["profile"]
    phases += [name for name in LIST_PHASES if name in job.scope]
    if "value" in job.scope:
        phases.append("value")
    phases.append("done")
    return phases


class JobRunner:
    def __init__(
        self,
        settings: Settings,
        client: DiscogsClient,
        *,
        lease_seconds: float = 300.0,
        progress: Callable[[Job], None] | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.lease_seconds = lease_seconds
        self.progress = progress
        # Our side of each list page (no network): wall clock, and this thread's CPU time.
        self.processing_seconds = 0.0
        self.processing_cpu_seconds = 0.0
        self._known: dict[str, tuple[set, set]] = {}

    def run(self, job_id: str, *, deadline: float | None = None) -> RunOutcome:
        token = str(uuid.uuid4())
        # Autocommit: every `conn.transaction()` below is a real transaction, committed per page.
        with connect(self.settings, autocommit=True) as conn:
            job, wait = jobs.claim(conn, job_id, token, self.lease_seconds)
            if job is None:
                return RunOutcome("gone", None)
            if wait > 0:
                return RunOutcome("busy", job, delay=wait + 1)
            try:
                return self._advance(conn, job, token, deadline)
            except LeaseLostError:
                log.warning("sync job %s: lease lost to another worker; stopping", job_id)
                return RunOutcome("gone", None)
            except KeyboardInterrupt:
                # Ctrl-C in the CLI: give the job back so the next run resumes it at once.
                with contextlib.suppress(Exception), conn.transaction():
                    jobs.release(conn, job_id, token)
                raise

    # --- loop -----------------------------------------------------------------------------------

    def _advance(
        self, conn: psycopg.Connection, job: Job, token: str, deadline: float | None
    ) -> RunOutcome:
        while True:
            phase = job.cursor.get("phase", "profile")
            if phase == "done":
                return self._finish(conn, job, token)
            if deadline is not None and time.monotonic() >= deadline:
                with conn.transaction():
                    jobs.release(conn, job.id, token)
                return RunOutcome("continue", job)
            mark = self.client.requests_used
            try:
                self._step(conn, job, token, phase, mark)
            except (DiscogsUnavailableError, RateLimiterError) as exc:
                return self._defer(conn, job, token, phase, exc, mark)
            except BadTokenError as exc:
                return self._fail(conn, job, token, phase, exc, mark)
            except UnknownResourceError as exc:
                if phase == "profile":  # unknown user: nothing else can work
                    return self._fail(conn, job, token, phase, exc, mark)
                self._skip_phase(conn, job, token, phase, exc, mark)
            except (PrivateResourceError, UnexpectedResponseError) as exc:
                if phase == "profile":
                    return self._fail(conn, job, token, phase, exc, mark)
                self._skip_phase(conn, job, token, phase, exc, mark)
            except LeaseLostError:
                raise
            except Exception as exc:
                # A bug or database trouble: the page's transaction was rolled back. Count it on
                # the job (bounded, so a broken job cannot loop forever), then let the host retry.
                self._record_crash(conn, job.id, token, phase, exc)
                raise
            if self.progress:
                self.progress(job)

    def _step(self, conn: psycopg.Connection, job: Job, token: str, phase: str, mark: int) -> None:
        if phase == "profile":
            self._profile(conn, job, token, mark)
        elif phase in LIST_PHASES:
            self._list_page(conn, job, token, phase, mark)
        elif phase == "collection_meta":
            self._collection_meta(conn, job, token, mark)
        elif phase == "value":
            self._value(conn, job, token, mark)
        else:
            raise UnexpectedResponseError(f"unknown phase {phase!r} in job cursor")

    # --- phases ---------------------------------------------------------------------------------

    def _profile(self, conn: psycopg.Connection, job: Job, token: str, mark: int) -> None:
        profile, raw = self.client.profile(job.username)
        # Discogs matches usernames case-insensitively; store everything under its spelling, so
        # "Digger" and "digger" never become two accounts.
        canonical = profile.username
        if canonical.lower() != job.username.lower():
            raise UnexpectedResponseError(f"profile of {job.username!r} came back as {canonical!r}")
        folders = fields = None
        if "collection" in job.scope and (
            job.full_reconcile or not store.has_collection_metadata(conn, job.username)
        ):
            folders = self.client.folders(job.username).folders
            fields = self.client.fields(job.username).fields
        with conn.transaction():
            self._check_lease(conn, job, token)
            if canonical != job.username:
                jobs.rename_user(conn, job.id, canonical)
                job.username = canonical
            store.upsert_user(conn, job.username, profile, raw)
            if folders is not None and fields is not None:
                store.replace_folders(conn, job.username, folders)
                store.replace_fields(conn, job.username, fields)
            job.cursor = {"phase": self._next_phase(job, "profile")}
            self._save(conn, job, mark, pages=0)

    def _collection_meta(self, conn: psycopg.Connection, job: Job, token: str, mark: int) -> None:
        folders = self.client.folders(job.username).folders
        fields = self.client.fields(job.username).fields
        with conn.transaction():
            self._check_lease(conn, job, token)
            store.replace_folders(conn, job.username, folders)
            store.replace_fields(conn, job.username, fields)
            job.cursor = {"phase": self._next_phase(job, "collection")}
            self._save(conn, job, mark, pages=0)

    def _list_page(
        self, conn: psycopg.Connection, job: Job, token: str, phase: str, mark: int
    ) -> None:
        kind, list_key, sort, order = LIST_PHASES[phase]
        url = job.cursor.get("url") or self._first_url(job, phase, sort, order)
        page = self.client.page(url, list_key)
        started, started_cpu = time.perf_counter(), time.thread_time()
        rows = _ROWS[phase](page.items)
        with conn.transaction():
            self._check_lease(conn, job, token)
            result = store.apply_page(conn, kind, job.username, job.id, rows.rows)
            self._count(
                job, phase, added=result.added, updated=result.updated, unchanged=result.unchanged
            )
            for problem in rows.invalid:
                self._error(job, phase, "InvalidItem", problem)
            walk = dict(job.cursor.get("walk") or {})
            self._track_walk(walk, page, len(rows.invalid))
            if phase == "collection" and not job.full_reconcile:
                walk["meta_stale"] = walk.get("meta_stale") or self._meta_stale(conn, job, rows)
            job.pages_total[phase] = page.pagination.pages
            next_url = self.client.next_page_url(url, page.pagination)
            stop_early = not job.full_reconcile and (result.all_unchanged or not page.items)
            if next_url and not stop_early:
                job.cursor = {"phase": phase, "url": next_url, "walk": walk}
            else:
                if job.full_reconcile:
                    self._reconcile_removals(conn, job, phase, kind, walk)
                job.cursor = {"phase": self._after_list(job, phase, walk)}
            self._save(conn, job, mark, pages=1)
        self.processing_seconds += time.perf_counter() - started
        self.processing_cpu_seconds += time.thread_time() - started_cpu

    def _value(self, conn: psycopg.Connection, job: Job, token: str, mark: int) -> None:
        value, raw = self.client.collection_value(job.username)
        currency = store.user_currency(conn, job.username)
        amounts: dict[str, Any] = {}
        found_currency = currency
        problems = []
        for name in ("minimum", "median", "maximum"):
            try:
                money = parse_money(getattr(value, name), currency)
            except MoneyFormatError as exc:
                problems.append(str(exc))
                money = None
            amounts[name] = money.amount if money else None
            if money and money.currency:
                found_currency = money.currency
        with conn.transaction():
            self._check_lease(conn, job, token)
            store.insert_value(conn, job.username, amounts, found_currency, raw)
            for problem in problems:
                self._error(job, "value", "MoneyFormatError", problem)
            job.cursor = {"phase": self._next_phase(job, "value")}
            self._save(conn, job, mark, pages=0)

    # --- walk bookkeeping -------------------------------------------------------------------------

    @staticmethod
    def _track_walk(walk: dict[str, Any], page: ItemsPage, invalid: int) -> None:
        items = page.pagination.items
        if "items" not in walk:
            walk["items"] = items
            walk["consistent"] = True
        elif walk["items"] != items:
            walk["consistent"] = False
        walk["invalid"] = walk.get("invalid", 0) + invalid
        walk["last_page"] = page.pagination.page

    def _reconcile_removals(
        self,
        conn: psycopg.Connection,
        job: Job,
        phase: str,
        kind: store.ItemKind,
        walk: dict[str, Any],
    ) -> None:
        seen = store.seen_count(conn, kind, job.username, job.id)
        expected = walk.get("items")
        complete = (
            walk.get("consistent", False)
            and not walk.get("invalid")
            and expected is not None
            and seen == expected
        )
        if not complete:
            self._error(
                job,
                phase,
                "IncompleteWalk",
                f"removals not checked: saw {seen} of {expected} items "
                f"(consistent={walk.get('consistent')}, invalid={walk.get('invalid', 0)})",
            )
            return
        removed = store.mark_removed(conn, kind, job.username, job.id)
        self._count(job, phase, removed=removed)

    def _meta_stale(self, conn: psycopg.Connection, job: Job, rows: records.PageRows) -> bool:
        if job.username not in self._known:
            self._known[job.username] = store.known_folder_and_field_ids(conn, job.username)
        folders, fields = self._known[job.username]
        for row in rows.rows.values():
            if row["folder_id"] not in folders:
                return True
            if any(int(field_id) not in fields for field_id in row["notes"]):
                return True
        return False

    def _after_list(self, job: Job, phase: str, walk: dict[str, Any]) -> str:
        if phase == "collection" and walk.get("meta_stale"):
            return "collection_meta"
        return self._next_phase(job, phase)

    @staticmethod
    def _next_phase(job: Job, phase: str) -> str:
        order = phases_for(job)
        return order[order.index(phase) + 1]

    def _first_url(self, job: Job, phase: str, sort: str, order: str) -> str:
        build = {
            "collection": self.client.collection_url,
            "wantlist": self.client.wantlist_url,
            "inventory": self.client.inventory_url,
        }[phase]
        return build(job.username, sort=sort, order=order)

    # --- job record -------------------------------------------------------------------------------

    def _check_lease(self, conn: psycopg.Connection, job: Job, token: str) -> None:
        if not jobs.holds_lease(conn, job.id, token):
            raise LeaseLostError(job.id)

    def _save(self, conn: psycopg.Connection, job: Job, mark: int, *, pages: int) -> None:
        used = self.client.requests_used - mark
        jobs.save_progress(
            conn, job, lease_seconds=self.lease_seconds, new_pages=pages, new_requests=used
        )
        job.pages_done += pages
        job.requests_used += used

    @staticmethod
    def _count(job: Job, phase: str, **deltas: int) -> None:
        scope = "collection" if phase == "collection_meta" else phase
        counts = job.counts.setdefault(scope, dict.fromkeys(jobs.COUNT_NAMES, 0))
        for name, delta in deltas.items():
            counts[name] = counts.get(name, 0) + delta

    @staticmethod
    def _error(job: Job, phase: str, kind: str, message: str, *, retried: bool = False) -> None:
        """Record an error; `retried` ones were recovered from (the page ran again) and do not
        make the result partial, but stay listed for the record."""
        if len(job.errors) >= MAX_ERRORS:
            return
        entry = {"phase": phase, "kind": kind, "message": message}
        if retried:
            entry["retried"] = True
        job.errors.append({**entry, "at": datetime.now(UTC).isoformat()})

    def _skip_phase(
        self,
        conn: psycopg.Connection,
        job: Job,
        token: str,
        phase: str,
        exc: DiscogsError,
        mark: int,
    ) -> None:
        with conn.transaction():
            self._check_lease(conn, job, token)
            self._error(job, phase, type(exc).__name__, str(exc))
            following = "collection" if phase == "collection_meta" else phase
            job.cursor = {"phase": self._next_phase(job, following)}
            self._save(conn, job, mark, pages=0)

    def _fail(
        self,
        conn: psycopg.Connection,
        job: Job,
        token: str,
        phase: str,
        exc: DiscogsError,
        mark: int,
    ) -> RunOutcome:
        with conn.transaction():
            self._check_lease(conn, job, token)
            self._error(job, phase, type(exc).__name__, str(exc))
            self._save(conn, job, mark, pages=0)
            jobs.finish(conn, job.id, "failed")
        return RunOutcome("done", jobs.get_job(conn, job.id))

    def _defer(
        self,
        conn: psycopg.Connection,
        job: Job,
        token: str,
        phase: str,
        exc: Exception,
        mark: int,
    ) -> RunOutcome:
        """Discogs stayed unavailable through every retry: keep the cursor and try later."""
        with conn.transaction():
            self._check_lease(conn, job, token)
            job.deferrals += 1
            if job.deferrals > MAX_DEFERRALS:
                self._error(job, phase, type(exc).__name__, f"{exc} (gave up after deferrals)")
                self._save(conn, job, mark, pages=0)
                jobs.finish(conn, job.id, "failed")
                return RunOutcome("done", jobs.get_job(conn, job.id))
            self._save(conn, job, mark, pages=0)
            jobs.release(conn, job.id, token)
        return RunOutcome("deferred", job, delay=self.client.pacing.window_seconds)

    def _record_crash(
        self, conn: psycopg.Connection, job_id: str, token: str, phase: str, exc: Exception
    ) -> None:
        try:
            with conn.transaction():
                if not jobs.holds_lease(conn, job_id, token):
                    return
                # Reload: the in-memory job may hold changes of the rolled-back page.
                job = jobs.get_job(conn, job_id)
                assert job is not None
                job.deferrals += 1
                self._error(
                    job, phase, type(exc).__name__, f"internal error: {exc}"[:500], retried=True
                )
                jobs.save_progress(
                    conn, job, lease_seconds=self.lease_seconds, new_pages=0, new_requests=0
                )
                if job.deferrals > MAX_DEFERRALS:
                    jobs.finish(conn, job_id, "failed")
                else:
                    jobs.release(conn, job_id, token)
        except Exception:  # the database may be what failed; the original error matters more
            log.exception("sync job %s: could not record the failure", job_id)

    def _finish(self, conn: psycopg.Connection, job: Job, token: str) -> RunOutcome:
        with conn.transaction():
            self._check_lease(conn, job, token)
            lasting = [error for error in job.errors if not error.get("retried")]
            jobs.finish(conn, job.id, "partial" if lasting else "succeeded")
        # Store the user's statistics for the data just synced (the API reads them; issue 6).
        refresh_quietly(self.settings, job.username)
        return RunOutcome("done", jobs.get_job(conn, job.id))
