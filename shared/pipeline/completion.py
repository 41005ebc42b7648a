"""After a chunk or a split completes: decide the finalize, record the outcome, clean up."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

import psycopg
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from shared.db.connection import connect
from shared.pipeline import lifecycle
from shared.pipeline.entities import dump_date_of, run_id_for
from shared.pipeline.finalize import Decision, FinalizeFn, FinalizeOutcome, try_finalize
from shared.pipeline.model import Run, RunState
from shared.pipeline.retention import months_to_delete
from shared.pipeline.runstore import RunStore
from shared.settings import Settings
from shared.storage import clients

log = logging.getLogger(__name__)


def month_finalizer(settings: Settings, dump_date: dt.date) -> FinalizeFn:
    """The parsing issue's finalize (indexes, validations, atomic swap) as a FinalizeFn."""

    def run(conn: psycopg.Connection, expected: dict[str, int]) -> FinalizeOutcome:
        from shared.loading import finalize_month

        # FinalizeError (incomplete ledger, failed validation) propagates: try_finalize turns
        # any exception into a failed outcome with its message.
        result = finalize_month(conn, dump_date, expected_chunks=expected, settings=settings)
        detail = f"served as {result.served_schema}: records {result.records_per_entity}"
        if result.warnings:
            detail += f"; warnings: {'; '.join(result.warnings)}"
        return FinalizeOutcome(True, detail)

    return run


def finalize_if_complete(
    settings: Settings,
    store: RunStore,
    run_id: str,
    attempt: int,
    finalizer: FinalizeFn | None = None,
    *,
    conn: psycopg.Connection | None = None,
) -> Decision:
    """Decide (and run) the month's finalize; `conn` (idle, e.g. the loader's) saves a session."""
    dump_date = dump_date_of(run_id)
    inner = finalizer or month_finalizer(settings, dump_date)

    def announced(conn: psycopg.Connection, expected: dict[str, int]) -> FinalizeOutcome:
        _set_state(store, run_id, attempt, RunState.FINALIZING, None)
        return inner(conn, expected)

    if conn is not None:
        decision, detail = try_finalize(conn, dump_date, attempt, announced)
    else:
        with connect(settings) as own:
            decision, detail = try_finalize(own, dump_date, attempt, announced)
    if decision == Decision.SUCCEEDED:
        _set_state(store, run_id, attempt, RunState.SUCCEEDED, None)
        clean_up(settings, run_id)
    elif decision == Decision.FAILED:
        _set_state(store, run_id, attempt, RunState.FAILED, f"finalize failed: {detail}")
    return decision


def _set_state(
    store: RunStore, run_id: str, attempt: int, state: RunState, reason: str | None
) -> None:
    def change(run: Run) -> bool:
        if run.attempt != attempt or run.state == state or not run.active:
            return False
        run.state, run.reason = state, reason
        if state in (RunState.SUCCEEDED, RunState.FAILED):
            run.finished_at = lifecycle.now()
        return True

    store.update_run(run_id, change)


def clean_up(settings: Settings, run_id: str) -> None:
    """Delete the run's chunk blobs and the dump months beyond DUMP_RETENTION_MONTHS."""
    chunks = clients.container(settings, settings.chunks_container)
    names = [b.name for b in chunks.list_blobs(name_starts_with=f"{run_id}/")]
    for start in range(0, len(names), 256):  # Blob batch delete takes at most 256 names
        batch = names[start : start + 256]
        try:
            chunks.delete_blobs(*batch)
        except HttpResponseError:  # no batch support (older Azurite): one by one
            for name in batch:
                with contextlib.suppress(ResourceNotFoundError):
                    chunks.delete_blob(name)
    dumps = clients.container(settings, settings.dumps_container)
    stored: dict[dt.date, list[str]] = {}
    for blob in dumps.list_blobs():
        prefix = blob.name.split("/", 1)[0]
        with contextlib.suppress(ValueError):
            stored.setdefault(dump_date_of(prefix), []).append(blob.name)
    for day in months_to_delete(list(stored), dump_date_of(run_id), settings.dump_retention_months):
        log.info("retention: deleting dump blobs of %s", run_id_for(day))
        for name in stored[day]:
            with contextlib.suppress(ResourceNotFoundError):
                dumps.delete_blob(name)
