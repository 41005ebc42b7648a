"""Running a month's finalize build steps on a bounded pool of database sessions.

Each session is its own connection (autocommit) and runs one step per transaction, so every
finished key or index is committed and a failed or interrupted finalize resumes where it stopped
(a step whose index or key already exists is skipped; a slice of an API table commits its rows
together with a row in loader.finalize_slices, and a slice with that row is skipped). The first
failure stops the build: no new step starts, the statements still running on other sessions
are cancelled, and the error is raised; nothing is swapped, because the swap only follows a
build without error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from psycopg import sql

from shared.loading.build_plan import BuildStep, handout_ranks
from shared.loading.schema import set_search_path

log = logging.getLogger(__name__)

# Per session: one index build's sort memory (the server's default is 64 MB). With S sessions the
# build may use S × this; 256 MB × 8 sessions = 2 GB of the 32 GB of a GP 8 vCore server.
MAINTENANCE_WORK_MEM = "256MB"

Connect = Callable[[], psycopg.Connection]


class BuildError(RuntimeError):
    """A build step failed; `step` names it and `__cause__` is the database error."""

    def __init__(self, step: BuildStep, error: BaseException) -> None:
        super().__init__(f"finalize step {step.name} failed: {error}")
        self.step = step
        self.error = error


class _Scheduler:
    """Hands out ready steps, the one with the heaviest remaining chain first, in plan order among
    equals (build_plan.handout_ranks); stops handing out after the first failure."""

    def __init__(self, steps: list[BuildStep]) -> None:
        self._ranks = handout_ranks(steps)
        self._pending = {step.name: step for step in steps}
        self._done: set[str] = set()
        self._running = 0
        self._condition = threading.Condition()
        self.failure: BuildError | None = None

    def take(self) -> BuildStep | None:
        with self._condition:
            while True:
                if self.failure is not None or not self._pending:
                    return None
                ready = [step for step in self._pending.values() if step.after <= self._done]
                if ready:
                    step = min(ready, key=lambda s: self._ranks[s.name])
                    del self._pending[step.name]
                    self._running += 1
                    return step
                if self._running == 0:  # plan_build rules this out; never wait forever
                    waiting = sorted(self._pending)
                    raise RuntimeError(f"finalize steps wait on each other: {waiting}")
                self._condition.wait()

    def finish(self, step: BuildStep, error: BaseException | None) -> bool:
        """Record a step's end; True if this was the first failure (the caller cancels others)."""
        with self._condition:
            self._running -= 1
            first = False
            if error is None:
                self._done.add(step.name)
            elif self.failure is None:
                self.failure = BuildError(step, error)
                first = True
            self._condition.notify_all()
            return first


def run_build(
    connect: Connect,
    schema: str,
    steps: list[BuildStep],
    sessions: int,
) -> dict[str, float]:
    """Run every step on at most `sessions` connections; returns seconds per step that ran.

    Raises BuildError with the first failure after every session stopped.
    """
    scheduler = _Scheduler(steps)
    seconds: dict[str, float] = {}
    running: set[psycopg.Connection] = set()  # sessions inside a step right now
    lock = threading.Lock()

    def cancel_others(own: psycopg.Connection | None) -> None:
        with lock:
            for other in running:
                if other is not own and not other.closed:
                    other.cancel_safe()

    def session() -> None:
        conn: psycopg.Connection | None = None
        try:
            while (step := scheduler.take()) is not None:
                started = time.perf_counter()
                error: BaseException | None = None
                try:
                    if conn is None:
                        conn = connect()
                    with lock:
                        running.add(conn)
                    ran = _run_step(conn, schema, step)
                except Exception as exc:  # any failure stops the build and is re-raised below
                    error = exc
                    ran = False
                finally:
                    with lock:
                        running.discard(conn)  # type: ignore[arg-type]
                if ran:
                    with lock:
                        seconds[step.name] = time.perf_counter() - started
                if scheduler.finish(step, error):
                    cancel_others(conn)
        finally:
            if conn is not None:
                conn.close()

    threads = [
        threading.Thread(target=session, name=f"finalize-{number}", daemon=True)
        for number in range(max(1, min(sessions, len(steps))))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if scheduler.failure is not None:
        failure = scheduler.failure
        raise failure from failure.error
    return seconds


def _run_step(conn: psycopg.Connection, schema: str, step: BuildStep) -> bool:
    """One step in one transaction; False if it was already done (a resumed finalize)."""
    with conn.transaction():
        set_search_path(conn, schema)
        conn.execute(
            sql.SQL("SET LOCAL maintenance_work_mem = {}").format(sql.Literal(MAINTENANCE_WORK_MEM))
        )
        if step.kind == "primary_key":
            if _has_primary_key(conn, schema, step.table or ""):
                return False
            conn.execute(step.statement)
        elif step.kind == "index":
            if _relation_exists(conn, schema, step.name):
                return False
            conn.execute(step.statement)
        elif step.kind == "analyze":
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(step.table or "")))
        elif step.kind == "create":
            if _relation_exists(conn, schema, step.table or ""):
                if _done_slices(conn, schema, step.table or "") <= step.fills:
                    return False
                # Slices of another plan committed (other code): start the table over.
                conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(step.table or "")))
            conn.execute(step.statement)
        elif step.kind == "fill":
            return _fill(conn, schema, step)
        else:
            raise ValueError(f"unknown finalize step kind {step.kind!r}")
    log.debug("finalize step %s done", step.name)
    return True


def _fill(conn: psycopg.Connection, schema: str, step: BuildStep) -> bool:
    """One slice: its rows and its marker commit together (the caller's transaction), so the
    marker says exactly whether the rows are in the table. The marker is taken first: a second
    finalize running the same slice waits here and then skips it."""
    row = conn.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))::oid", (schema, step.table)
    ).fetchone()
    if row is None or row[0] is None:
        raise ValueError(f"finalize step {step.name}: table {step.table} does not exist")
    marked = conn.execute(
        "INSERT INTO loader.finalize_slices (table_oid, step) VALUES (%s, %s) "
        "ON CONFLICT DO NOTHING RETURNING step",
        (row[0], step.name),
    ).fetchone()
    if marked is None:
        return False
    conn.execute(step.statement)
    return True


def _done_slices(conn: psycopg.Connection, schema: str, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT step FROM loader.finalize_slices "
        "WHERE table_oid = to_regclass(format('%%I.%%I', %s::text, %s::text))::oid",
        (schema, table),
    ).fetchall()
    return {str(step) for (step,) in rows}


def forget_slices(conn: psycopg.Connection, schema: str) -> None:
    """Drop the slice markers of a schema's tables (after its build), and those of tables that no
    longer exist."""
    conn.execute(
        "DELETE FROM loader.finalize_slices WHERE table_oid IN (SELECT c.oid FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s) "
        "OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = table_oid)",
        (schema,),
    )


def _has_primary_key(conn: psycopg.Connection, schema: str, table: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indisprimary AND indrelid = "
        "to_regclass(format('%%I.%%I', %s::text, %s::text)))",
        (schema, table),
    ).fetchone()
    return bool(row and row[0])


def _relation_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL", (schema, name)
    ).fetchone()
    return bool(row and row[0])
