"""Run-level state changes shared by the workers (all ETag-checked through the run store)."""

from __future__ import annotations

import datetime as dt
import logging

from shared.pipeline.model import FileStatus, Run, RunState, all_fetched
from shared.pipeline.runstore import RunStore

log = logging.getLogger(__name__)
_MAX_REASON = 1000


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def current_run(store: RunStore, run_id: str, attempt: int) -> Run | None:
    """The run if this message still belongs to its active attempt, else None (ignore it)."""
    run = store.get_run(run_id)
    if run is None or run.attempt != attempt or not run.active:
        return None
    return run


def fail_run(store: RunStore, run_id: str, attempt: int, reason: str) -> None:
    def change(run: Run) -> bool:
        if run.attempt != attempt or not run.active:
            return False
        run.state, run.reason, run.finished_at = RunState.FAILED, reason[:_MAX_REASON], now()
        return True

    log.error("run %s attempt %s failed: %s", run_id, attempt, reason)
    store.update_run(run_id, change)


def fail_file(store: RunStore, run_id: str, attempt: int, kind: str, reason: str) -> None:
    def change(file: FileStatus) -> bool:
        file.state, file.error = "failed", reason[:_MAX_REASON]
        return True

    store.update_file(run_id, attempt, kind, change)
    fail_run(store, run_id, attempt, f"{kind}: {reason}")


def note_fetched(store: RunStore, run_id: str, attempt: int) -> None:
    """Move the run from fetching to loading once every data file is in Blob Storage."""
    if not all_fetched(store.list_files(run_id, attempt)):
        return

    def change(run: Run) -> bool:
        if run.attempt != attempt or run.state != RunState.FETCHING:
            return False
        run.state = RunState.LOADING
        return True

    store.update_run(run_id, change)
