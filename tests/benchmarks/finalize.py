"""Finalize of one loaded month: one session against FINALIZE_PARALLELISM sessions, same run.

A month of all four entities (seeded synthetic current-format dumps, `python -m shared.cli
generate`) is loaded once with `python -m shared.cli load --no-finalize`; that database is the
template of two copies (PostgreSQL copies the files), and each copy is finalized once: with one
session (the sequential finalize of before) and with `BENCH_FINALIZE_SESSIONS` sessions (default
4). Both build the same catalog (tests/dumps/test_parallel_finalize.py); the ratio is the speed-up
of the keys/indexes/ANALYZE/API-structures phase. Environment: BENCH_FINALIZE_RECORDS (records
per entity, default 60000), BENCH_FINALIZE_SESSIONS. Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import uuid
from typing import Any

import psycopg

from shared.loading import finalize_month
from shared.loading.build_plan import BuildStep, handout_ranks
from shared.loading.finalize import planned_steps
from shared.loading.schema import SERVED_SCHEMA
from shared.settings import get_settings, load_settings
from tests.benchmarks._report import write_section
from tests.benchmarks.dumps import ENTITIES, _create_database, _drop_database, _dump_file, _run
from tests.support.reset import database_copy, database_url_for

MONTH = datetime.date(2026, 11, 1)
# Sessions of the simulated builds (one session's step times on that many idle cores).
SIMULATED_SESSIONS = (4, 8, 16)


def main() -> None:
    records = int(os.environ.get("BENCH_FINALIZE_RECORDS", "60000"))
    sessions = int(os.environ.get("BENCH_FINALIZE_SESSIONS", "4"))
    # A kept template (BENCH_FINALIZE_TEMPLATE=name): loaded once, reused by later runs, so a
    # change to the finalize is measured against the same loaded month (drop it by hand).
    kept = os.environ.get("BENCH_FINALIZE_TEMPLATE")
    server_url = get_settings().database_url.get_secret_value()
    template = kept or f"cd_bench_{uuid.uuid4().hex[:8]}"
    try:
        if kept and _database_exists(server_url, kept):
            chunks = _chunks(database_url_for(server_url, kept))
        else:
            chunks = _load(_create_database(server_url, template), records)
        runs = {}
        for label, count in (("1_session", 1), (f"{sessions}_sessions", sessions)):
            with database_copy(server_url, template) as url:
                runs[label] = _finalize(url, chunks, count)
            print(f"{label}: {json.dumps(runs[label])}", file=sys.stderr)
    finally:
        if not kept:
            _drop_database(server_url, template)
    one = runs["1_session"]["indexes_and_analyze"]
    many = runs[f"{sessions}_sessions"]["indexes_and_analyze"]
    results = {"records_per_entity": records, "sessions": sessions, "runs": runs}
    results["ratio"] = round(one / many, 2) if many else None
    _write_doc(results)
    print(json.dumps(results, indent=1), file=sys.stderr)


def _load(template_url: str, records: int) -> dict[str, int]:
    chunks = {}
    for entity in ENTITIES:
        path = _dump_file(entity, records)
        summary = json.loads(
            _run(
                [sys.executable, "-m", "shared.cli", "load", str(path), "--json",
                 "--no-finalize", "--dump-date", MONTH.isoformat()],
                {**os.environ, "DATABASE_URL": template_url},
            )
        )  # fmt: skip
        chunks[entity] = summary["entities"][entity]["chunks"]
    return chunks


def _chunks(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT entity, count(*) FROM loader.chunks WHERE dump_date = %s GROUP BY entity",
            (MONTH,),
        ).fetchall()
    return {str(entity): int(count) for entity, count in rows}


def _database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def _finalize(url: str, chunks: dict[str, int], sessions: int) -> dict[str, Any]:
    settings = load_settings(database_url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT sum(t.value::bigint) FROM loader.chunks c, jsonb_each_text(c.rows_per_table) t"
        ).fetchone()[0]
        result = finalize_month(
            conn, MONTH, expected_chunks=chunks, settings=settings, sessions=sessions
        )
        # The same plan as the finalize's (same rows, so the same slices).
        steps = planned_steps(conn, SERVED_SCHEMA)
    seconds = {key: round(value, 2) for key, value in result.seconds.items()}
    slowest = sorted(result.build_steps.items(), key=lambda item: -item[1])[:8]
    chain = _longest_chain(steps, result.build_steps)
    return {
        **seconds,
        "rows": int(rows),
        "critical_path": round(sum(seconds for _, seconds in chain), 2),
        "longest_chain": {name: round(seconds, 2) for name, seconds in chain},
        "slowest_steps": dict(slowest),
        "step_seconds_total": round(sum(result.build_steps.values()), 2),
        "simulated": {
            count: round(_simulated_build(steps, result.build_steps, count), 2)
            for count in SIMULATED_SESSIONS
        },
    }


def _simulated_build(
    steps: list[BuildStep], step_seconds: dict[str, float], sessions: int
) -> float:
    """The build's wall time if each step took `step_seconds` on `sessions` sessions with a core
    each, handed out as shared/loading/parallel_build does (the heaviest remaining chain first,
    plan order among equals): what the scheduling adds to max(longest chain, work ÷ sessions)."""
    ranks = handout_ranks(steps)
    pending = {step.name: step for step in steps}
    done: set[str] = set()
    running: list[tuple[float, str]] = []  # (finish time, step)
    now = 0.0
    while pending or running:
        ready = [step for step in pending.values() if step.after <= done]
        ready.sort(key=lambda step: ranks[step.name])
        while ready and len(running) < sessions:
            step = ready.pop(0)
            del pending[step.name]
            running.append((now + step_seconds.get(step.name, 0.0), step.name))
        running.sort()
        now, finished = running.pop(0)
        done.add(finished)
    return now


def _longest_chain(
    steps: list[BuildStep], step_seconds: dict[str, float]
) -> list[tuple[str, float]]:
    """The longest chain of dependent steps (its steps in order, with their seconds): the build's
    duration with unlimited sessions and cores. Steps a resumed build skipped count as 0 s."""
    finish: dict[str, float] = {}
    previous: dict[str, str | None] = {}
    for step in steps:  # plan_build lists every step after the steps it waits for
        before = max(step.after, key=lambda name: finish[name], default=None)
        start = finish[before] if before is not None else 0.0
        finish[step.name] = start + step_seconds.get(step.name, 0.0)
        previous[step.name] = before
    chain: list[tuple[str, float]] = []
    name = max(finish, key=lambda name: finish[name], default=None)
    while name is not None:
        chain.append((name, step_seconds.get(name, 0.0)))
        name = previous[name]
    return chain[::-1]


def _write_doc(results: dict[str, Any]) -> None:
    runs = results["runs"]
    sessions = results["sessions"]
    many = runs[f"{sessions}_sessions"]
    body = [
        "## Finalize: one session against parallel sessions",
        "",
        f"Measured by `python -m tests.benchmarks finalize` on {platform.node()} "
        f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; PostgreSQL "
        "on the same machine). One month of "
        f"{results['records_per_entity']:,} synthetic records per entity "
        f"({many['rows']:,} rows in all tables), loaded once and finalized in two copies of that "
        "database (same run): keys, indexes, ANALYZE and the API's structures.",
        "",
        "| sessions | validate s | keys, indexes, ANALYZE, API structures s | swap s |",
        "|---|---|---|---|",
    ]
    for label, run in runs.items():
        body.append(
            f"| {label.split('_')[0]} | {run['validate']} | {run['indexes_and_analyze']} | "
            f"{run['swap']} |"
        )
    one = runs["1_session"]
    ceiling = round(one["indexes_and_analyze"] / one["critical_path"], 2)
    body += [
        "",
        f"Speed-up with {sessions} sessions: **{results['ratio']}×** (bounded by the CPUs the "
        "server has: here every session competes with the others on the same cores).",
        "",
        "Longest chain of dependent steps (one session's step times): "
        f"**{one['critical_path']} s** of {one['step_seconds_total']} s of step work, so at "
        f"most {ceiling}× with unlimited cores and sessions: "
        f"{_steps_text(one['longest_chain'], ' → ')}.",
        "",
        f"Heaviest steps (one session): {_steps_text(one['slowest_steps'], ', ')}.",
        "",
        "The same step times handed out to more sessions than this machine has cores "
        "(simulated: each session with a core of its own, the scheduler's order): "
        + ", ".join(
            f"{count} sessions {seconds} s (work ÷ {count} = "
            f"{round(one['step_seconds_total'] / count, 2)} s)"
            for count, seconds in one["simulated"].items()
        )
        + ".",
        "",
        f"With {sessions} sessions (contended step times): longest chain "
        f"{many['critical_path']} s: {_steps_text(many['longest_chain'], ' → ')}.",
    ]
    write_section("finalize", body)


def _steps_text(steps: dict[str, float], separator: str) -> str:
    return separator.join(f"{name} {seconds:.2f} s" for name, seconds in steps.items())
