"""The dump pipeline, live: `python -m tests.support.pipeline_demo [--releases N] [--keep]`.

A local dump host on 127.0.0.1 serves the real 2020-08-06 samples and a generated
current-format month (2026-11-01, N releases plus a tenth as many artists, labels and masters).
The app runs in the local function runner against the local dev database and storage names,
which the demo wipes first (so it can be repeated, and `make serve` afterwards serves what it
loaded). It checks `GET /api/health`, then
1. starts the 2020-08 month by hand (`POST /api/ingestions`, admin key),
2. fires the discovery timer, which finds 2026-11 as the newest complete month and loads it,
showing per-entity progress from `GET /api/ingestions/{id}` while it runs. At the end it prints
the row counts per served table and the API calls to copy (`--keep` keeps serving until Ctrl-C).
`make demo` runs it (after starting the services and migrating).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data" / "discogs" / "20200806"
GENERATED = "20261101"
ENTITIES = ("labels", "masters", "artists", "releases")


def _generate(folder: Path, releases: int) -> None:
    from shared.dumps.generate import generate_dump

    counts = {
        "releases": releases,
        **dict.fromkeys(("artists", "labels", "masters"), releases // 10),
    }
    for entity, records in counts.items():
        path = folder / f"discogs_{GENERATED}_{entity}.xml.gz"
        with gzip.open(path, "wb", compresslevel=1) as out:
            for piece in generate_dump(entity, records, seed=11):
                out.write(piece)


def _reset_local_state(dump_base_url: str) -> Settings:
    """The demo owns the local dev database and storage names: wipe them so it can be repeated."""
    from shared.settings import get_settings, reset_settings_cache
    from shared.storage.clients import ensure_storage
    from tests.support.reset import delete_storage, recreate_database

    os.environ["DISCOGS_DUMP_BASE_URL"] = dump_base_url
    os.environ["CHUNK_TARGET_BYTES"] = str(1024 * 1024)  # several chunks per entity, small demo
    reset_settings_cache()
    settings = get_settings()
    recreate_database(settings.database_url.get_secret_value())
    delete_storage(settings)
    ensure_storage(settings)
    return settings


def _line(status: dict) -> str:
    parts = []
    for entity in ENTITIES:
        e = status["entities"][entity]
        planned = e["chunks_planned"] if e["chunks_planned"] is not None else "?"
        parts.append(f"{entity} {e['chunks_loaded']}/{planned} ({e['records_loaded']:,})")
    eta = f" eta {status['eta_seconds']:.0f}s" if status.get("eta_seconds") else ""
    return f"  {status['id']} {status['state']:<10} " + "  ".join(parts) + eta


def _watch(api: httpx.Client, run_id: str, headers: dict[str, str], seconds: float = 300) -> dict:
    deadline = time.monotonic() + seconds
    tty = sys.stdout.isatty()
    last = ""
    while True:
        response = api.get(f"/api/ingestions/{run_id}", headers=headers)
        status = response.json() if response.status_code == 200 else None
        if status:
            line = _line(status)
            if line != last:
                print(
                    ("\r" + line.ljust(150)) if tty else line, end="" if tty else "\n", flush=True
                )
                last = line
            if status["state"] in ("succeeded", "failed"):
                print() if tty else None
                return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} did not finish: {status}")
        time.sleep(0.3)


def run_demo(releases: int = 4000, keep: bool = False) -> int:
    """Load the real 2020-08-06 samples and a generated 2026-11-01 month through the app."""
    from tests.support.dump_host import DumpHost
    from tests.support.funchost import LocalFunctionHost

    with tempfile.TemporaryDirectory() as folder:
        print(f"generating a 2026-format month with {releases:,} releases …", flush=True)
        _generate(Path(folder), releases)
        with DumpHost.serving({"20200806": SAMPLES, GENERATED: Path(folder)}) as dumps:
            settings = _reset_local_state(dumps.base_url)
            from function_app import app

            admin = {"x-functions-key": settings.local_admin_key.get_secret_value()}  # type: ignore[union-attr]
            user = {"x-functions-key": settings.local_function_key.get_secret_value()}  # type: ignore[union-attr]
            with (
                LocalFunctionHost(app, settings, timers=False) as host,
                httpx.Client(base_url=host.base_url, timeout=60) as api,
            ):
                print(f"local dump host {dumps.base_url}/ · app {host.base_url}")
                health = api.get("/api/health")
                print(f"\n0. GET /api/health -> {health.status_code} {health.json()['status']}")
                if health.status_code != 200:
                    print(json.dumps(health.json(), indent=2))
                    return 1
                print('\n1. POST /api/ingestions {"month": "2020-08-01"} (admin key)')
                started = api.post("/api/ingestions", headers=admin, json={"month": "2020-08-01"})
                print(f"   -> {started.status_code} {started.text}")
                if started.status_code != 202:
                    return 1
                first = _watch(api, "20200806", user)
                print("\n2. the discovery timer fires (POST /admin/functions/dump_discover)")
                api.post("/admin/functions/dump_discover", headers=admin, json={})
                while api.get(f"/api/ingestions/{GENERATED}", headers=user).status_code == 404:
                    time.sleep(0.2)
                second = _watch(api, GENERATED, user)
                _showcase(api, user)
                _summary(settings, [first, second], user, admin)
                if keep:
                    print(f"\nserving on {host.base_url} until Ctrl-C …")
                    with contextlib.suppress(KeyboardInterrupt):
                        while True:
                            time.sleep(1)
    return 0 if first["state"] == second["state"] == "succeeded" else 1


def _summary(settings: Settings, runs: list[dict], user: dict, admin: dict) -> None:
    from psycopg import sql

    from shared.db.connection import connect

    for run in runs:
        seconds = run["records_loaded"] / (run["records_per_second"] or 1)
        print(
            f"\n{run['id']}: {run['state']}, {run['records_loaded']:,} records in ~{seconds:.1f}s"
            f" ({run['records_per_second']} records/s)"
        )
    print("\nrows per served table (schema discogs, month 2026-11-01):")
    with connect(settings) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'discogs'"
                " ORDER BY table_name"
            ).fetchall()
        ]
        for table in tables:
            count = conn.execute(
                sql.SQL("SELECT count(*) FROM discogs.{}").format(sql.Identifier(table))
            ).fetchone()[0]
            print(f"  {table:<32} {count:>10,}")
    key, admin_key = user["x-functions-key"], admin["x-functions-key"]
    base_url = "http://127.0.0.1:7071"
    print("\nthe data stays in the local dev database: run `make serve`, then try")
    for path in (
        "/api/search?q=love&type=release&limit=5",
        "/api/search?q=bjork&type=artist",
        "/api/stats",
        f"/api/ingestions/{GENERATED}",
    ):
        print(f"  curl -H 'x-functions-key: {key}' '{base_url}{path}'")
    print(f"  curl '{base_url}/api/openapi.json'")
    print(
        f"  curl -X POST -H 'x-functions-key: {admin_key}' "
        f"{base_url}/api/ingestions/{GENERATED}/retry   # 409 problem: nothing to retry"
    )


def _showcase(api: httpx.Client, user: dict[str, str]) -> None:
    """A few API answers over the month just served, as a user would see them."""
    params = {"q": "love", "type": "release", "limit": 5}
    found = api.get("/api/search", params=params, headers=user).json()
    print(f"\n3. GET /api/search?q=love&type=release&limit=5 -> {found.get('total')} matches")
    for item in found.get("items", []):
        print(f"   {item.get('id', ''):>10}  {item.get('title', '')}  {item.get('year') or ''}")
    if found.get("items"):
        first = found["items"][0]["id"]
        body = api.get(f"/api/releases/{first}", headers=user).json()
        tracks = len(body.get("tracklist") or body.get("tracks") or [])
        print(f"\n4. GET /api/releases/{first} -> {body.get('title')!r}, {tracks} tracks")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=4000)
    parser.add_argument("--keep", action="store_true", help="keep serving until Ctrl-C")
    args = parser.parse_args()
    from tests.support.localenv import apply_local_settings

    apply_local_settings()
    return run_demo(args.releases, args.keep)


if __name__ == "__main__":
    sys.exit(main())
