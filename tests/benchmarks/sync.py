"""Account sync benchmark: requests per sync and our processing time per page of 100 items.

Runs against the fake Discogs server (tests/support/fake_discogs.py) on loopback and a scratch
PostgreSQL database created from DATABASE_URL (dropped afterwards), with Azurite for the shared
rate limiter. The request budget and window are scaled down (same semantics, shorter minute) so
a 10,000-item collection does not take three minutes of deliberate waiting.

    python -m tests.benchmarks.sync            # all sizes (100, 1,000, 10,000)
    python -m tests.benchmarks.sync --sizes 100,1000

Processing time per page = validating and hashing the page's items, classifying them against the
stored rows and committing them with the job's cursor (everything except the HTTP request),
reported as the median over the pages of a sync. Baseline, measured in the same run: `json.loads`
of the same page's response body, i.e. the least any client has to do with a page.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from shared.db.connection import connect
from shared.discogs.client import DiscogsClient, Pacing
from shared.settings import Settings, load_settings
from shared.storage.clients import table_service
from shared.sync import jobs, records
from shared.sync.runner import JobRunner
from tests.support.fake_discogs import FakeDiscogs
from tests.support.localenv import apply_local_settings

PACING = Pacing().scaled(0.02)  # a 1.2 s "minute"


@dataclass
class SyncRun:
    requests: int
    pages: int
    per_page_ms: list[float]
    # CPU per list page, which a busy shared machine does not inflate the way it does wall
    # clock: our thread (validation, JSON, driver) and the PostgreSQL backend serving us.
    client_cpu_ms: float
    db_cpu_ms: float


def _backend_cpu_seconds(conn: psycopg.Connection) -> float:
    """utime + stime of this connection's server process (PostgreSQL runs on this machine)."""
    pid = conn.info.backend_pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _TimedRunner(JobRunner):
    """Records our processing time for each list page (the runner's own measurement)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.page_times: list[float] = []
        self.db_cpu_seconds = 0.0

    def _list_page(self, conn, job, token, phase, mark) -> None:
        before = self.processing_seconds
        db_before = _backend_cpu_seconds(conn)
        super()._list_page(conn, job, token, phase, mark)
        self.db_cpu_seconds += _backend_cpu_seconds(conn) - db_before
        self.page_times.append((self.processing_seconds - before) * 1000)


def _sync(settings: Settings, username: str, full: bool) -> SyncRun:
    with connect(settings, autocommit=True) as conn:
        job, _ = jobs.create_job(conn, username, ("collection",), full, "bench")
    with DiscogsClient(settings, pacing=PACING) as client:
        runner = _TimedRunner(settings, client)
        outcome = runner.run(job.id)
        assert outcome.job is not None and outcome.job.state == "succeeded", outcome
        pages = len(runner.page_times)
        return SyncRun(
            client.requests_used,
            outcome.job.pages_done,
            runner.page_times,
            runner.processing_cpu_seconds * 1000 / pages,
            runner.db_cpu_seconds * 1000 / pages,
        )


def _baseline_ms(fake: FakeDiscogs, username: str) -> tuple[float, float]:
    """Median ms per 100-item page: json.loads of the body, and our pure part (validation)."""
    user = fake.user(username)
    page = {"pagination": {"page": 1, "pages": 1}, "releases": user.collection[:100]}
    body = json.dumps(page).encode()
    loads, ours = [], []
    for _ in range(50):
        started = time.perf_counter()
        parsed = json.loads(body)
        loads.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        records.collection_rows(parsed["releases"])
        ours.append((time.perf_counter() - started) * 1000)
    return statistics.median(loads), statistics.median(ours)


def _p10(values: list[float]) -> float:
    """The 10th percentile: close to the uncontended cost on a shared, busy machine."""
    ordered = sorted(values)
    return ordered[len(ordered) // 10]


def run(sizes: list[int]) -> list[dict]:
    apply_local_settings()
    server_url = os.environ["DATABASE_URL"]
    name = f"cd_bench_sync_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    from urllib.parse import urlsplit, urlunsplit

    database_url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    rate_table = f"benchrate{uuid.uuid4().hex[:8]}"
    results = []
    fake = FakeDiscogs(token="bench-token", limit=60, window_seconds=PACING.window_seconds)
    fake.start()
    try:
        settings = load_settings(
            DATABASE_URL=database_url,
            DISCOGS_TOKEN="bench-token",
            DISCOGS_API_BASE_URL=fake.base_url,
            RATE_LIMIT_TABLE=rate_table,
        )
        for size in sizes:
            username = f"bench{size}"
            user = fake.add_user(username, collection=size)
            # The fake's data lives in this process; keep the garbage collector from rescanning
            # it during our measurements (a production worker does not hold it).
            gc.freeze()
            first = _sync(settings, username, False)
            unchanged = _sync(settings, username, False)
            fake.add_collection_items(username, 3)
            user.collection[len(user.collection) // 2]["rating"] = 5
            changed = _sync(settings, username, False)
            user.collection.pop(len(user.collection) // 3)
            full = _sync(settings, username, True)
            loads_ms, pure_ms = _baseline_ms(fake, username)
            results.append(
                {
                    "items": size,
                    "requests": {
                        "first": first.requests,
                        "incremental_unchanged": unchanged.requests,
                        "incremental_3_added": changed.requests,
                        "full_reconcile": full.requests,
                    },
                    "page_ms_first": statistics.median(first.per_page_ms),
                    "page_ms_first_p10": _p10(first.per_page_ms),
                    "page_ms_full_unchanged": statistics.median(full.per_page_ms),
                    "page_ms_full_unchanged_p10": _p10(full.per_page_ms),
                    "page_cpu_ms_first": {"client": first.client_cpu_ms, "db": first.db_cpu_ms},
                    "page_cpu_ms_full_unchanged": {
                        "client": full.client_cpu_ms,
                        "db": full.db_cpu_ms,
                    },
                    "page_ms_pure": pure_ms,
                    "page_ms_json_loads": loads_ms,
                    "rate_429": fake.count("", status=429),
                }
            )
    finally:
        fake.stop()
        table_service(settings).delete_table(rate_table)
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    return results


def print_markdown(results: list[dict]) -> None:
    print("| items | first sync | incremental, unchanged | incremental, 3 added | full reconcile |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        q = r["requests"]
        print(
            f"| {r['items']:,} | {q['first']} | {q['incremental_unchanged']} | "
            f"{q['incremental_3_added']} | {q['full_reconcile']} |"
        )
    print()
    print(
        "| items | ms/page, first sync (100 new): median / p10 "
        "| ms/page, full reconcile (100 unchanged): median / p10 "
        "| ms/page, Python validation only | baseline: json.loads ms/page "
        "| ratio first-sync median / baseline |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = r["page_ms_first"] / r["page_ms_json_loads"]
        print(
            f"| {r['items']:,} | {r['page_ms_first']:.1f} / {r['page_ms_first_p10']:.1f} | "
            f"{r['page_ms_full_unchanged']:.1f} / {r['page_ms_full_unchanged_p10']:.1f} | "
            f"{r['page_ms_pure']:.2f} | {r['page_ms_json_loads']:.2f} | {ratio:.1f}x |"
        )

    print()
    print(
        "| items | CPU ms/page, first sync: ours + PostgreSQL "
        "| CPU ms/page, full reconcile: ours + PostgreSQL |"
    )
    print("|---:|---:|---:|")
    for r in results:
        first, full = r["page_cpu_ms_first"], r["page_cpu_ms_full_unchanged"]
        print(
            f"| {r['items']:,} | {first['client']:.1f} + {first['db']:.1f} "
            f"= {first['client'] + first['db']:.1f} | {full['client']:.1f} + {full['db']:.1f} "
            f"= {full['client'] + full['db']:.1f} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.sync")
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--json", action="store_true")
    # `python -m tests.benchmarks sync` calls main() while sys.argv holds the dispatcher's
    # arguments: only this module's own entry point passes its command line.
    args = parser.parse_args([] if argv is None else argv)
    results = run([int(s) for s in args.sizes.split(",")])
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_markdown(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
