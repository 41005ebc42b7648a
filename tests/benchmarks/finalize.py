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

from shared.dumps.tables import ALL_TABLES, RECORD_TABLE_OF
from shared.loading import finalize_month
from shared.loading.build_plan import plan_build
from shared.loading.schema import read_sql
from shared.queries import load_sql
from shared.settings import get_settings, load_settings
from tests.benchmarks._report import write_section
from tests.benchmarks.dumps import ENTITIES, _create_database, _drop_database, _dump_file, _run
from tests.support.reset import database_copy

MONTH = datetime.date(2026, 11, 1)


def main() -> None:
    records = int(os.environ.get("BENCH_FINALIZE_RECORDS", "60000"))
    sessions = int(os.environ.get("BENCH_FINALIZE_SESSIONS", "4"))
    files = {entity: _dump_file(entity, records) for entity in ENTITIES}
    server_url = get_settings().database_url.get_secret_value()
    template = f"cd_bench_{uuid.uuid4().hex[:8]}"
    template_url = _create_database(server_url, template)
    try:
        chunks = {}
        for entity, path in files.items():
            summary = json.loads(
                _run(
                    [sys.executable, "-m", "shared.cli", "load", str(path), "--json",
                     "--no-finalize", "--dump-date", MONTH.isoformat()],
                    {**os.environ, "DATABASE_URL": template_url},
                )
            )  # fmt: skip
            chunks[entity] = summary["entities"][entity]["chunks"]
        runs = {}
        for label, count in (("1_session", 1), (f"{sessions}_sessions", sessions)):
            with database_copy(server_url, template) as url:
                runs[label] = _finalize(url, chunks, count)
            print(f"{label}: {json.dumps(runs[label])}", file=sys.stderr)
    finally:
        _drop_database(server_url, template)
    one = runs["1_session"]["indexes_and_analyze"]
    many = runs[f"{sessions}_sessions"]["indexes_and_analyze"]
    results = {"records_per_entity": records, "sessions": sessions, "runs": runs}
    results["ratio"] = round(one / many, 2) if many else None
    _write_doc(results)
    print(json.dumps(results, indent=1), file=sys.stderr)


def _finalize(url: str, chunks: dict[str, int], sessions: int) -> dict[str, Any]:
    settings = load_settings(database_url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT sum(t.value::bigint) FROM loader.chunks c, jsonb_each_text(c.rows_per_table) t"
        ).fetchone()[0]
        result = finalize_month(
            conn, MONTH, expected_chunks=chunks, settings=settings, sessions=sessions
        )
    seconds = {key: round(value, 2) for key, value in result.seconds.items()}
    slowest = sorted(result.build_steps.items(), key=lambda item: -item[1])[:5]
    return {
        **seconds,
        "rows": int(rows),
        "critical_path": round(_critical_path(result.build_steps), 2),
        "slowest_steps": dict(slowest),
    }


def _critical_path(step_seconds: dict[str, float]) -> float:
    """The longest chain of dependent steps: the build's duration with unlimited sessions."""
    steps = plan_build(
        read_sql("finalize_indexes.sql"),
        ALL_TABLES,
        {},
        RECORD_TABLE_OF,
        load_sql("api_structures"),
    )
    finish: dict[str, float] = {}
    for step in steps:  # plan_build lists every step after the steps it waits for
        start = max((finish[name] for name in step.after), default=0.0)
        finish[step.name] = start + step_seconds.get(step.name, 0.0)
    return max(finish.values(), default=0.0)


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
    slowest = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in one["slowest_steps"].items())
    body += [
        "",
        f"Speed-up with {sessions} sessions: **{results['ratio']}×** (bounded by the CPUs the "
        "server has: here every session competes with the others on the same cores).",
        f"Longest chain of dependent steps (one session's step times): {one['critical_path']} s, "
        f"so at most {ceiling}× with unlimited cores and sessions. Slowest steps (one session): "
        f"{slowest}.",
    ]
    write_section("finalize", body)
