"""Pipeline benchmarks: gzip implementations, and end-to-end loading with one vs two loaders.

    python -m tests.benchmarks pipeline        (writes its section of docs/benchmarks.md)
    python -m tests.benchmarks.pipeline [--releases N] [--skip-loaders]   (prints JSON only)

1. gzip: decompress the real 2020-08-06 samples (repeated into one stream) with the standard
   library, python-isal and zlib-ng; best of 3, MB/s of XML out; ratios against stdlib.
2. Loaders: a generated current-format month (shared.dumps.generate; N releases plus a tenth as
   many of each other entity) is served by the local dump host, fetched and split by the real
   pipeline into chunks of BENCH_PIPELINE_CHUNK_MIB (default 4 MiB; production: 32 MiB), then
   loaded by 1 and by 2 loader *processes* (each polls the load queue and runs the real load
   handler, as one Functions instance with batchSize 1 would). Each configuration gets its own
   fresh database, queues and containers; same data, same run. BENCH_PIPELINE_ROUNDS rounds
   (default 3), the order alternating (1 then 2, 2 then 1, ...) so that a drift of the shared
   machine's load favours neither. Reported per round: records/s during the load phase (first
   chunk taken → last chunk loaded) and the wall time including finalize; the scale-out figure
   is the median over the rounds of two/one (target ≥ 1.6×).
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.benchmarks._report import write_section

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data" / "discogs" / "20200806"
STAMP = "20261101"
FETCH_MB_PER_S = 4.0  # the throttled dump host of the fetch/split measurement
FETCH_BLOCK_BYTES = 256 * 1024
CHUNK_MIB = float(os.environ.get("BENCH_PIPELINE_CHUNK_MIB", "4"))
ROUNDS = int(os.environ.get("BENCH_PIPELINE_ROUNDS", "3"))


# --- 1. gzip ----------------------------------------------------------------------------------
def bench_gzip(repeat: int = 3) -> dict[str, float]:
    from isal import igzip
    from zlib_ng import gzip_ng

    xml = b"".join(gzip.decompress(p.read_bytes()) for p in sorted(SAMPLES.glob("*.xml.gz")))
    compressed = gzip.compress(xml * 4, compresslevel=6)  # ~28 MB of XML, Discogs-like ratio
    openers = {
        "stdlib gzip": lambda f: gzip.GzipFile(fileobj=f),
        "python-isal igzip": lambda f: igzip.IGzipFile(fileobj=f),
        "zlib-ng gzip_ng": lambda f: gzip_ng.GzipNGFile(fileobj=f),
    }
    rates = {}
    for name, opener in openers.items():
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            stream, total = opener(io.BytesIO(compressed)), 0
            while piece := stream.read(1 << 20):
                total += len(piece)
            best = min(best, time.perf_counter() - started)
        rates[name] = total / best / 1e6
    return rates


# --- 2. loaders -------------------------------------------------------------------------------
def _generate_month(folder: Path, releases: int) -> int:
    from shared.dumps.generate import generate_dump

    counts = {
        "releases": releases,
        **dict.fromkeys(("artists", "labels", "masters"), releases // 10),
    }
    for entity, records in counts.items():
        with gzip.open(folder / f"discogs_{STAMP}_{entity}.xml.gz", "wb", compresslevel=1) as out:
            for piece in generate_dump(entity, records, seed=7):
                out.write(piece)
    return sum(counts.values())


def _environment(server_url: str, storage: str, base_url: str) -> tuple[dict[str, str], str]:
    import psycopg
    from psycopg import sql

    from tests.support.reset import database_url_for

    suffix = uuid.uuid4().hex[:8]
    dbname = f"cd_bench_{suffix}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    env = {
        "DATABASE_URL": database_url_for(server_url, dbname),
        "AzureWebJobsStorage": storage,
        "DISCOGS_DUMP_BASE_URL": base_url,
        "CHUNK_TARGET_BYTES": str(int(CHUNK_MIB * 1024 * 1024)),
        "DUMPS_CONTAINER": f"bench-dumps-{suffix}",
        "CHUNKS_CONTAINER": f"bench-chunks-{suffix}",
        "FETCH_QUEUE": f"bench-fetch-{suffix}",
        "SPLIT_QUEUE": f"bench-split-{suffix}",
        "LOAD_QUEUE": f"bench-load-{suffix}",
        "SYNC_QUEUE": f"bench-sync-{suffix}",
        "RUNS_TABLE": f"benchruns{suffix}",
        "RATE_LIMIT_TABLE": f"benchrate{suffix}",
    }
    return env, dbname


def _drain(settings: object, queue_name: str, handle: object) -> None:
    from shared.storage import clients

    client = clients.queue(settings, queue_name, base64=False)  # type: ignore[arg-type]
    while True:
        batch = list(client.receive_messages(max_messages=1, visibility_timeout=300))
        if not batch:
            return
        handle(base64.b64decode(batch[0].content).decode())  # type: ignore[operator]
        client.delete_message(batch[0])


def _prepare(
    env: dict[str, str], *, split_while_fetching: bool = False, block_bytes: int | None = None
) -> None:
    """Discover, fetch and split in this process; loads stay queued."""
    os.environ.update(env)
    from shared.pipeline.fetch import FetchOptions, handle_fetch
    from shared.pipeline.messages import FetchMessage, SplitMessage, parse_message
    from shared.pipeline.service import discover
    from shared.pipeline.split import SplitOptions, handle_split
    from shared.settings import get_settings, reset_settings_cache
    from shared.storage import clients

    reset_settings_cache()
    settings = get_settings()
    clients.ensure_storage(settings)
    assert discover(settings) is not None
    options = FetchOptions(split_while_fetching=split_while_fetching)
    if block_bytes is not None:
        options.block_bytes = block_bytes
    for _ in range(3):
        _drain(
            settings,
            settings.fetch_queue,
            lambda b: handle_fetch(settings, parse_message(FetchMessage, b), options),
        )
        _drain(
            settings,
            settings.split_queue,
            lambda b: handle_split(settings, parse_message(SplitMessage, b), SplitOptions()),
        )


def worker() -> None:
    """One loader process: take load messages until the run is finished."""
    from shared.pipeline.load import LoadOptions, handle_load
    from shared.pipeline.messages import LoadMessage, parse_message
    from shared.pipeline.runstore import RunStore
    from shared.settings import get_settings
    from shared.storage import clients

    settings = get_settings()
    client = clients.queue(settings, settings.load_queue, base64=False)
    store = RunStore(settings)
    while True:
        batch = list(client.receive_messages(max_messages=1, visibility_timeout=300))
        if not batch:
            run = store.get_run(STAMP)
            if run is None or not run.active:
                return
            time.sleep(0.05)
            continue
        body = base64.b64decode(batch[0].content).decode()
        handle_load(
            settings, parse_message(LoadMessage, body), batch[0].dequeue_count, LoadOptions()
        )
        client.delete_message(batch[0])


def bench_loaders(server_url: str, storage: str, base_url: str, loaders: int) -> dict[str, float]:
    import psycopg

    from tests.support.reset import drop_database

    env, dbname = _environment(server_url, storage, base_url)
    try:
        _prepare(env)
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.benchmarks.pipeline", "--worker"],
                cwd=ROOT,
                env={**os.environ, **env},
            )
            for _ in range(loaders)
        ]
        for process in processes:
            if process.wait() != 0:
                raise RuntimeError("a loader process failed")
        wall = time.perf_counter() - started
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            first, last, records, chunks, xml_bytes, parse, copy = conn.execute(
                "SELECT min(loaded_at - make_interval(secs => parse_seconds + copy_seconds)),"
                " max(loaded_at), sum(loaded_count), count(*), sum(data_bytes),"
                " sum(parse_seconds), sum(copy_seconds) FROM loader.chunks"
            ).fetchone()
            state = conn.execute("SELECT finalize_state FROM pipeline.months").fetchone()
        if state != ("succeeded",):
            raise RuntimeError(f"run did not finalize: {state}")
        load_seconds = (last - first).total_seconds()
        return {
            "loaders": loaders,
            "chunks": chunks,
            "records": int(records),
            "load_seconds": round(load_seconds, 2),
            "records_per_second": round(int(records) / load_seconds, 1),
            "wall_seconds_with_finalize": round(wall, 2),
            # Per-worker rate over busy time only: what one loader instance sustains.
            "xml_mb_per_busy_second": round(int(xml_bytes) / 1e6 / (parse + copy), 2),
            "parse_share_of_busy_time": round(parse / (parse + copy), 2),
            # Busy loader-seconds per wall second: ~1 means serialised, ~N means N in parallel.
            "effective_parallel_loaders": round((parse + copy) / load_seconds, 2),
        }
    finally:
        drop_database(server_url, dbname)


def bench_fetch_split(
    server_url: str, storage: str, base_url: str, *, split_while_fetching: bool
) -> dict[str, float]:
    """Seconds from discovery until every chunk of the month is enqueued (fetch and split, one
    file after the other in this process), with the split after the fetch or during it."""
    from tests.support.reset import drop_database

    env, dbname = _environment(server_url, storage, base_url)
    try:
        started = time.perf_counter()
        # Blocks small against the file, as 32 MiB blocks are against the 10 GiB releases file
        # (the splitter sees a block once it is staged; one block per file would not overlap).
        _prepare(env, split_while_fetching=split_while_fetching, block_bytes=FETCH_BLOCK_BYTES)
        return {"seconds": round(time.perf_counter() - started, 2)}
    finally:
        drop_database(server_url, dbname)


def run(releases: int, *, loaders: bool = True) -> dict[str, object]:
    results: dict[str, object] = {}
    rates = bench_gzip()
    baseline = rates["stdlib gzip"]
    results["gzip_mb_per_s"] = {k: round(v, 1) for k, v in rates.items()}
    results["gzip_ratio_vs_stdlib"] = {k: round(v / baseline, 2) for k, v in rates.items()}
    if not loaders:
        return results
    from tests.support import services
    from tests.support.dump_host import DumpHost

    running = services.up(app_database=None)
    with tempfile.TemporaryDirectory() as folder:
        results["month_records"] = _generate_month(Path(folder), releases)
        with DumpHost.serving({STAMP: Path(folder)}) as host:
            storage = running.storage_connection_string
            rounds = []
            for number in range(ROUNDS):
                order = (1, 2) if number % 2 == 0 else (2, 1)
                measured = {
                    n: bench_loaders(running.database_url, storage, host.base_url, n) for n in order
                }
                rounds.append((measured[1], measured[2]))
            # The dump host throttled to about FETCH_MB_PER_S, like a remote host: does the split
            # overlap the download?
            host.faults.slow_seconds_per_write = 16 * 1024 / (FETCH_MB_PER_S * 1e6)
            after = bench_fetch_split(
                running.database_url, storage, host.base_url, split_while_fetching=False
            )
            during = bench_fetch_split(
                running.database_url, storage, host.base_url, split_while_fetching=True
            )
            results["month_gzip_mb"] = round(
                sum(p.stat().st_size for p in Path(folder).glob("*.xml.gz")) / 1e6, 1
            )
    results["rounds"] = [{"one_loader": one, "two_loaders": two} for one, two in rounds]
    ratios = [two["records_per_second"] / one["records_per_second"] for one, two in rounds]
    results["two_vs_one_per_round"] = [round(r, 2) for r in ratios]
    results["fetch_then_split"], results["split_while_fetching"] = after, during
    results["split_while_fetching_speedup"] = round(after["seconds"] / during["seconds"], 2)
    results["two_vs_one"] = round(statistics.median(ratios), 2)
    return results


def _write_doc(results: dict, releases: int) -> None:
    import datetime as dt
    import platform

    gzip_rates = results["gzip_mb_per_s"]
    ratios = results["gzip_ratio_vs_stdlib"]
    lines = [
        "## Dump pipeline (issue 4)",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end). Rerun: "
        "`make bench` or `python -m tests.benchmarks pipeline` (BENCH_PIPELINE_RELEASES, "
        "default 100000; BENCH_PIPELINE_CHUNK_MIB, default 4; BENCH_PIPELINE_ROUNDS, default 3). "
        "Compare only within one run.",
        "",
        "gzip decompression of the 2020-08-06 samples (XML out, best of 3):",
        "",
        "| implementation | MB/s | vs stdlib |",
        "|---|---:|---:|",
        *[f"| {k} | {v} | {ratios[k]}× |" for k, v in gzip_rates.items()],  # type: ignore[union-attr]
    ]
    if "rounds" in results:
        lines += [
            "",
            f"End to end through the pipeline (local dump host → fetch → split → load → "
            f"finalize), generated 2026-format month of {results['month_records']:,} records "
            f"({releases:,} releases), {CHUNK_MIB:g} MiB chunks, loader processes polling the "
            f"load queue, {len(results['rounds'])} rounds in alternating order:",
            "",
            "| round | loaders | chunks | load seconds | records/s | XML MB per busy second | "
            "busy loaders in parallel | wall incl. finalize |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            *[
                f"| {number} | {r['loaders']} | {r['chunks']} | {r['load_seconds']} | "
                f"{r['records_per_second']:,} | {r['xml_mb_per_busy_second']} | "
                f"{r['effective_parallel_loaders']} | {r['wall_seconds_with_finalize']} |"
                for number, pair in enumerate(results["rounds"], 1)  # type: ignore[arg-type]
                for r in (pair["one_loader"], pair["two_loaders"])
            ],
            "",
            f"**Two loaders vs one: {results['two_vs_one']}×** (median of the rounds' "
            f"{', '.join(f'{r}×' for r in results['two_vs_one_per_round'])}; target ≥ 1.6×). "  # type: ignore[union-attr]
            '"Busy loaders in parallel" (loader busy seconds ÷ wall seconds) shows whether the '
            "loaders overlap; when it is near 2 but the ratio is not, each loader got less CPU "
            "(the shared 2-core machine's other load), not less parallelism.",
        ]
    if "split_while_fetching" in results:
        lines += [
            "",
            f"Fetch and split of the same month ({results['month_gzip_mb']} MB of gzip), the dump "
            f"host throttled to ~{FETCH_MB_PER_S:g} MB/s, files one after another, from discovery "
            "until every chunk is enqueued: split after the fetch "
            f"{results['fetch_then_split']['seconds']} s, split while fetching "
            f"{results['split_while_fetching']['seconds']} s "
            f"(**{results['split_while_fetching_speedup']}×**).",
        ]
    write_section("pipeline", lines)


def main() -> None:
    """`python -m tests.benchmarks` entry point: measure, print JSON, rewrite our doc section."""
    releases = int(os.environ.get("BENCH_PIPELINE_RELEASES", "100000"))
    results = run(releases)
    print(json.dumps(results, indent=2))
    _write_doc(results, releases)


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker()
    else:
        parser = argparse.ArgumentParser()
        parser.add_argument("--releases", type=int, default=100000)
        parser.add_argument("--skip-loaders", action="store_true")
        args = parser.parse_args()
        print(json.dumps(run(args.releases, loaders=not args.skip_loaders), indent=2))
