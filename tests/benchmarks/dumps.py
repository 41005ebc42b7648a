"""Dump parsing + COPY throughput and peak memory, with baselines measured in the same run.

Measured per entity on seeded synthetic current-format (2026) dumps (`python -m shared.cli
generate`), each in its own process (peak RSS is per measurement):
- ours: `python -m shared.cli load FILE --no-finalize` (split, parse, COPY of every child table,
  ledger), 1 worker, and 2 workers for releases; then the finalize of the releases month
  (keys, indexes, ANALYZE, swap) timed separately. "ours" uses the compiled record extractor
  (shared/dumps/_extract.pyx); "ours python" is the same load with the pure-Python extractor
  (CRATEDIGGER_PURE_PYTHON=1), 1 worker;
- parse only (compiled / python): decompress, split and `parse_chunk` every chunk, no
  database (tests/benchmarks/_parse_only.py): the extractor without COPY;
- naive: lxml `iterparse` + `findtext` extraction of the same fields, no database;
- bare: lxml `iterparse` + clear, no extraction (the parse ceiling);
- discogskit (PyPI, the fastest public loader), when `make bench-peers` installed it under
  .local/peers-venv: `discogskit load` with 1 and 2 parse workers.
Environment: BENCH_RECORDS (releases, default 200000), BENCH_OTHER_RECORDS (artists, labels,
masters; default 200000), BENCH_CHUNK_BYTES (default 16 MiB). Results go to docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from shared.db.migrations import apply_migrations
from shared.loading import finalize_month
from shared.settings import get_settings, load_settings
from tests.benchmarks._report import write_section
from tests.support.reset import database_url_for
from tests.support.reset import drop_database as _drop_database  # also used by the other benches

ROOT = Path(__file__).resolve().parents[2]
PEER = ROOT / ".local" / "peers-venv" / "bin" / "discogskit"
ENTITIES = ("releases", "artists", "labels", "masters")


def main() -> None:
    releases = int(os.environ.get("BENCH_RECORDS", "200000"))
    others = int(os.environ.get("BENCH_OTHER_RECORDS", "200000"))
    chunk_bytes = int(os.environ.get("BENCH_CHUNK_BYTES", str(16 * 1024 * 1024)))
    files = {
        entity: _dump_file(entity, releases if entity == "releases" else others)
        for entity in ENTITIES
    }
    server_url = get_settings().database_url.get_secret_value()
    database = f"cd_bench_{uuid.uuid4().hex[:8]}"
    bench_url = _create_database(server_url, database)
    try:
        results = _measure_all(files, bench_url, chunk_bytes)
    finally:
        _drop_database(server_url, database)
    _write_doc(results, releases, others, chunk_bytes)
    print(json.dumps(results, indent=1), file=sys.stderr)


def _measure_all(files: dict[str, Path], bench_url: str, chunk_bytes: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for number, (entity, path) in enumerate(files.items(), 1):
        entry: dict[str, Any] = {"file": str(path), "xml_bytes": _xml_size(path)}
        dump_date = datetime.date(2026, 1, number)
        entry["ours_1_worker"] = _ours(path, bench_url, chunk_bytes, 1, dump_date)
        entry["ours_python_1_worker"] = _ours(
            path, bench_url, chunk_bytes, 1, datetime.date(2026, 3, number), pure_python=True
        )
        if entity == "releases":
            entry["finalize"] = _finalize(bench_url, dump_date, entry["ours_1_worker"])
            entry["ours_2_workers"] = _ours(
                path, bench_url, chunk_bytes, 2, datetime.date(2026, 2, 1)
            )
        for mode in ("compiled", "python"):
            entry[f"parse_only_{mode}"] = _baseline(
                "parse_only", entity, path, [mode, entity, str(path), str(chunk_bytes)]
            )
        entry["naive"] = _baseline("naive", entity, path)
        entry["bare"] = _baseline("bare", entity, path)
        if entity == "releases" and PEER.exists():
            entry["discogskit_1_worker"] = _discogskit(path, bench_url, ["--parse-workers", "1"])
            entry["discogskit_2_workers"] = _discogskit(
                path, bench_url, ["--parse-workers", "2", "--chunk-mb", "32"]
            )
        results[entity] = entry
        print(f"{entity}: {json.dumps(entry)}", file=sys.stderr)
    return results


def _dump_file(entity: str, records: int) -> Path:
    folder = ROOT / ".local" / "bench" / f"{entity}-{records}-seed1"
    path = folder / f"discogs_20261101_{entity}.xml.gz"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "shared.cli", "generate", "--entity", entity,
              "--records", str(records), "--out", str(path), "--seed", "1"])  # fmt: skip
    return path


def _ours(
    path: Path,
    url: str,
    chunk_bytes: int,
    workers: int,
    dump_date: datetime.date,
    *,
    pure_python: bool = False,
) -> dict[str, Any]:
    command = [sys.executable, "-m", "shared.cli", "load", str(path), "--json", "--no-finalize",
               "--chunk-bytes", str(chunk_bytes), "--workers", str(workers),
               "--dump-date", dump_date.isoformat()]  # fmt: skip
    if not pure_python:  # the compiled extractor must be there: no silent fallback here
        _run([sys.executable, "-c", "import shared.dumps._extract"])
    env = {"DATABASE_URL": url, "CRATEDIGGER_PURE_PYTHON": "1" if pure_python else "0"}
    measured = _measure(command, env)
    summary = json.loads(measured["stdout"])
    entity = next(iter(summary["entities"].values()))
    records = entity["records"]
    return {
        "records": records,
        "rows": sum(entity["rows_per_table"].values()),
        "chunks": entity["chunks"],
        "quarantined": entity["quarantined"],
        "seconds": round(measured["seconds"], 2),
        "records_per_s": round(records / measured["seconds"]),
        "cpu_seconds": round(measured["cpu_seconds"], 2),
        "peak_rss_mb": round(measured["peak_rss_mb"]),
    }


def _finalize(url: str, dump_date: datetime.date, loaded: dict[str, Any]) -> dict[str, Any]:
    settings = load_settings(database_url=url)
    with psycopg.connect(url, autocommit=True) as conn:
        result = finalize_month(
            conn, dump_date, expected_chunks={"releases": loaded["chunks"]}, settings=settings
        )
    return {key: round(value, 2) for key, value in result.seconds.items()}


def _baseline(
    mode: str, entity: str, path: Path, arguments: list[str] | None = None
) -> dict[str, Any]:
    if arguments is None:
        command = [sys.executable, "-m", "tests.benchmarks._naive", mode, entity, str(path)]
    else:
        command = [sys.executable, "-m", f"tests.benchmarks._{mode}", *arguments]
    measured = _measure(command)
    records = json.loads(measured["stdout"])["records"]
    return {
        "records": records,
        "seconds": round(measured["seconds"], 2),
        "records_per_s": round(records / measured["seconds"]),
        "cpu_seconds": round(measured["cpu_seconds"], 2),
        "peak_rss_mb": round(measured["peak_rss_mb"]),
    }


def _discogskit(path: Path, url: str, options: list[str]) -> dict[str, Any]:
    command = [str(PEER), "load", str(path), "--dsn", url, "--overwrite", *options]
    measured = _measure(command)
    if measured["returncode"] != 0:
        return {"error": measured["stderr"][-500:]}
    records = _count(url, "release")
    return {
        "records": records,
        "seconds": round(measured["seconds"], 2),
        "records_per_s": round(records / measured["seconds"]) if records else None,
        "cpu_seconds": round(measured["cpu_seconds"], 2),
        "peak_rss_mb": round(measured["peak_rss_mb"]),
    }


def _count(url: str, table: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        for name in (f"public.{table}s", f"public.{table}"):
            exists = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
            if exists and exists[0]:
                row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(name)))
                return int(row.fetchone()[0])  # type: ignore[index]
    return 0


def _measure(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = _run(
        [sys.executable, "-m", "tests.benchmarks._measure", "--", *command],
        {**os.environ, **(env or {})},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    measured = json.loads(output)
    # User+system CPU of the command and its children (plus the small _measure wrapper): less
    # sensitive than wall time to the other tenants of a shared machine. PostgreSQL's own CPU
    # (the COPY on the server side) is not included.
    measured["cpu_seconds"] = (after.ru_utime + after.ru_stime) - (
        before.ru_utime + before.ru_stime
    )
    if measured["returncode"] != 0 and not command[0].endswith("discogskit"):
        raise RuntimeError(f"{' '.join(command)} failed: {measured['stderr']}")
    return measured


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        command, check=True, capture_output=True, env=env, cwd=ROOT
    ).stdout.decode()


def _xml_size(path: Path) -> int:
    import gzip

    size = 0
    with gzip.open(path, "rb") as stream:
        while block := stream.read(1 << 22):
            size += len(block)
    return size


def _create_database(server_url: str, name: str) -> str:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    bench_url = database_url_for(server_url, name)
    with psycopg.connect(bench_url, autocommit=True) as conn:
        apply_migrations(conn)
    return bench_url


def _write_doc(results: dict[str, Any], releases: int, others: int, chunk_bytes: int) -> None:
    lines = [
        "## Dump parsing and loading (issue 3)",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end), "
        f"Python {platform.python_version()}. Synthetic current-format dumps: {releases:,} "
        f"releases, {others:,} artists/labels/masters (seed 1), gzip. Chunks of "
        f"{chunk_bytes / 2**20:.0f} MiB. Rerun: `make bench` (`make bench-peers` adds "
        "discogskit). Compare only within one run: the machine is shared and varies.",
        "",
        "| entity | what | records | seconds | records/s | CPU s | records/CPU-s | CPU vs bare "
        "| peak RSS MB | vs naive |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entity, entry in results.items():
        naive = entry["naive"]["records_per_s"]
        for key in ("ours_1_worker", "ours_2_workers", "ours_python_1_worker",
                    "parse_only_compiled", "parse_only_python", "naive", "bare",
                    "discogskit_1_worker", "discogskit_2_workers"):  # fmt: skip
            if key not in entry:
                continue
            value = entry[key]
            if "error" in value:
                lines.append(
                    f"| {entity} | {key} | failed: {value['error'][:80]!r} | | | | | | | |"
                )
                continue
            ratio = value["records_per_s"] / naive if naive and value["records_per_s"] else 0
            cpu = value.get("cpu_seconds") or 0
            per_cpu = f"{round(value['records'] / cpu):,}" if cpu else ""
            bare_cpu = entry["bare"].get("cpu_seconds") or 0
            vs_bare = f"{cpu / bare_cpu:.2f}×" if cpu and bare_cpu else ""
            lines.append(
                f"| {entity} | {key.replace('_', ' ')} | {value['records']:,} | "
                f"{value['seconds']} | {value['records_per_s']:,} | {cpu or ''} | {per_cpu} | "
                f"{vs_bare} | {value['peak_rss_mb']} | {ratio:.2f}× |"
            )
    lines.append("")
    for entity, entry in results.items():
        compiled, python = entry["ours_1_worker"], entry["ours_python_1_worker"]
        parse, parse_python = entry["parse_only_compiled"], entry["parse_only_python"]
        lines.append(
            f"{entity}: compiled vs pure-Python extractor: load (1 worker) "
            f"{compiled['records_per_s'] / python['records_per_s']:.2f}× records/s and "
            f"{python['cpu_seconds'] / compiled['cpu_seconds']:.2f}× less CPU; parse only "
            f"{parse['records_per_s'] / parse_python['records_per_s']:.2f}× records/s and "
            f"{parse_python['cpu_seconds'] / parse['cpu_seconds']:.2f}× less CPU."
        )
    release = results.get("releases", {})
    if "ours_1_worker" in release:
        ours = release["ours_1_worker"]
        lines += [
            "",
            f"Releases: {ours['rows']:,} rows in {ours['chunks']} chunks "
            f"({release['xml_bytes'] / 2**20:.0f} MiB of XML); finalize (keys, indexes, "
            f"ANALYZE, swap) seconds: {release.get('finalize')}.",
        ]
        if "discogskit_2_workers" in release and "records_per_s" in release.get(
            "discogskit_2_workers", {}
        ):
            peer = release["discogskit_2_workers"]["records_per_s"] or 1
            two = release["ours_2_workers"]["records_per_s"]
            lines.append(f"Ours with 2 workers vs discogskit with 2: {two / peer:.2f}×.")
    write_section("dumps", lines)


if __name__ == "__main__":
    main()
