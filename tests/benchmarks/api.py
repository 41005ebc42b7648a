"""HTTP API latency at scale: search, release detail, collection page and user statistics.

For each size in BENCH_API_SIZES (releases; default "20000,100000"; the issue's target run is
"100000,1000000"), a seeded synthetic current-format dump (releases, plus masters = n/3,
artists = n/2, labels = n/20) is generated and loaded through the real loader
(`python -m shared.cli load`: chunks, ledger, finalize with keys, indexes, search documents and
swap) into a fresh database, and a BENCH_API_COLLECTION-item collection (default 10,000, plus a
1,000-item wantlist and 500 listings) is generated for one user from the loaded releases. Then each
scenario runs BENCH_API_ITERATIONS times (default 150) at the query layer (shared.api.service
handlers on a pooled connection, no HTTP) and through the local function runner (HTTP with keys),
reporting p50/p95/p99. In the same run a naive `ILIKE '%q%'` search over release titles serves as
the baseline for the search ratio. EXPLAIN (ANALYZE, BUFFERS) plans of the slowest scenarios are
written to docs/benchmarks-api-plans.md. Results go to docs/benchmarks.md (api section).

    make bench-api            # or: python -m tests.benchmarks api
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from shared.api import memo, service
from shared.api.db import close_pools, read_transaction
from shared.api.http import ApiRequest
from shared.queries import search as search_queries
from shared.queries import stats as stats_queries
from shared.queries import user_stats_store
from shared.queries.finalize import build_api_structures
from shared.queries.served import search_state
from shared.settings import get_settings, reset_settings_cache
from tests.benchmarks._report import write_section
from tests.benchmarks.dumps import _create_database
from tests.support.reset import database_url_for, drop_database

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "docs" / "benchmarks-api-plans.md"
WORK = ROOT / ".local" / "bench-api"
USERNAME = "benchuser"
FUNCTION_KEY = "bench-function-key"
TARGETS_MS = {
    "search": 100,
    "search_broad": 100,
    "release": 20,
    "collection": 50,
    "user_stats": 250,
    "user_stats_memo": 250,
}
# Computing a 10,000-item collection's statistics takes about a second: fewer rounds of it.
COMPUTED_ITERATIONS = int(os.environ.get("BENCH_API_COMPUTED_ITERATIONS", "40"))
WORDS = [
    "love",
    "night",
    "dance",
    "blue",
    "city",
    "dream",
    "fire",
    "heart",
    "midnight",
    "fever",
    "velvet",
    "paradise",
    "electric",
    "jungle",
    "disco",
    "rhythm",
    "garden",
    "silver",
]
PEOPLE = ["bjork", "Jesper Dahlback", "Hana Tanaka", "miguel garcia", "Nora Novak"]
TYPOS = ["midnigth", "paradsie", "velvett", "electirc", "dahlbak"]


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_API_SIZES", "20000,100000").split(",")]
    iterations = int(os.environ.get("BENCH_API_ITERATIONS", "150"))
    collection = int(os.environ.get("BENCH_API_COLLECTION", "10000"))
    settings = get_settings()
    server_url = settings.database_url.get_secret_value()
    results: dict[str, Any] = {}
    plans: dict[str, str] = {}
    # BENCH_API_REUSE="1000000=dbname": measure a database an earlier run of this benchmark
    # loaded (kept, not dropped), e.g. to iterate on queries without reloading a million releases.
    reuse = dict(
        item.split("=", 1) for item in os.environ.get("BENCH_API_REUSE", "").split(",") if item
    )
    for size in sizes:
        database = reuse.get(str(size)) or f"cd_bench_api_{uuid.uuid4().hex[:8]}"
        url = (
            database_url_for(server_url, database)
            if str(size) in reuse
            else _create_database(server_url, database)
        )
        try:
            if str(size) in reuse:
                load = _loaded(url)
            else:
                load = _load(size, url)
                _seed_account(url, collection)
            results[str(size)] = {"load": load, **_measure(url, iterations, size, plans)}
        finally:
            close_pools()
            if str(size) not in reuse:
                drop_database(server_url, database)
        print(json.dumps(results[str(size)], indent=1), file=sys.stderr)
    _write_doc(results, sizes, iterations, collection, plans)


# --- data ---------------------------------------------------------------------------------------


def _generate(entity: str, records: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"discogs_20260101_{entity}_{records}.xml.gz"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "shared.cli",
                "generate",
                "--entity",
                entity,
                "--records",
                str(records),
                "--out",
                str(path),
                "--seed",
                "6",
            ],
            check=True,
            cwd=ROOT,
        )
    return path


def _load(size: int, url: str) -> dict[str, Any]:
    counts = {"releases": size, "masters": size // 3, "artists": size // 2, "labels": size // 20}
    files = [_generate(entity, n) for entity, n in counts.items()]
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "load",
            "--json",
            "--dump-date",
            "2026-01-01",
            *map(str, files),
        ],
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load failed: {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    with psycopg.connect(url) as conn:
        documents = conn.execute("SELECT count(*) FROM discogs.search_documents").fetchone()[0]
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "rows": {
            k: summary["rows_per_table"][k]
            for k in ("releases", "release_tracks", "release_artists", "masters")
        },
        "search_documents": documents,
    }


def _loaded(url: str) -> dict[str, Any]:
    """What `_load` reports, read back from a database it loaded earlier (the ledger's timing:
    first chunk started to month finalized). Its API structures are rebuilt first when an older
    version built them (what `python -m shared.cli api-structures` does)."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not search_state(conn)[1]:
            print("rebuilding the reused database's API structures", file=sys.stderr)
            build_api_structures(conn)
    with psycopg.connect(url) as conn:
        seconds = conn.execute(
            "SELECT extract(epoch FROM finalized_at - created_at) FROM loader.months"
            " WHERE status <> 'loading' ORDER BY dump_date DESC LIMIT 1"
        ).fetchone()[0]
        rows = {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("discogs", table))
            ).fetchone()[0]
            for table in ("releases", "release_tracks", "release_artists", "masters")
        }
        documents = conn.execute("SELECT count(*) FROM discogs.search_documents").fetchone()[0]
        items = conn.execute(
            "SELECT count(*) FROM account.collection_items WHERE username = %s", (USERNAME,)
        ).fetchone()[0]
    if not items:
        _seed_account(url, int(os.environ.get("BENCH_API_COLLECTION", "10000")))
    return {"seconds": round(float(seconds), 1), "rows": rows, "search_documents": documents}


def _seed_account(url: str, items: int) -> None:
    """A synced-looking account: items copies of random loaded releases (some owned twice), with
    Discogs-shaped basic_information built from the dump rows, plus wants and listings."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO account.users (username, user_id, curr_abbr, num_collection, profile)"
            " VALUES (%s, 1, 'EUR', %s, '{}')",
            (USERNAME, items),
        )
        conn.execute(
            "INSERT INTO account.collection_folders (username, folder_id, name)"
            " VALUES (%(u)s, 1, 'Uncategorized'), (%(u)s, 2, 'Records'), (%(u)s, 3, 'Tapes')",
            {"u": USERNAME},
        )
        snapshot = """jsonb_build_object('id', r.id, 'title', r.title,
            'year', coalesce(r.released_year, 0), 'master_id', coalesce(r.master_id, 0),
            'genres', to_jsonb(r.genres), 'styles', to_jsonb(r.styles),
            'formats', coalesce((SELECT jsonb_agg(jsonb_build_object('name', f.name,
                'qty', f.qty)) FROM discogs.release_formats f WHERE f.release_id = r.id), '[]'),
            'labels', coalesce((SELECT jsonb_agg(jsonb_build_object('name', l.name,
                'catno', l.catno, 'id', l.label_id)) FROM discogs.release_labels l
                WHERE l.release_id = r.id), '[]'),
            'artists', coalesce((SELECT jsonb_agg(jsonb_build_object('name', a.name,
                'id', a.artist_id) ORDER BY a.sequence) FROM discogs.release_artists a
                WHERE a.release_id = r.id AND NOT a.extra), '[]'))"""
        # Every 7919th release id, cyclically (some owned twice), picked here and joined by
        # primary key: a join on a computed row position made the planner compare every item
        # with every release (hours, and temp files, at 1,000,000 releases).
        ids = [row[0] for row in conn.execute("SELECT id FROM discogs.releases ORDER BY id")]
        picked = [ids[(n * 7919) % len(ids)] for n in range(1, items + 1)]
        conn.execute(
            f"""INSERT INTO account.collection_items (username, instance_id, release_id,
                folder_id, rating, date_added, notes, basic_information, content_hash)
            SELECT %(u)s, 1000000 + n, r.id, 1 + n %% 3, (n * 7) %% 6,
                timestamptz '2015-01-01' + n * interval '5 hours',
                jsonb_build_object('1', 'Near Mint (NM or M-)'), {snapshot}, md5(n::text)
            FROM unnest(%(picked)s::bigint[]) WITH ORDINALITY AS pick(release_id, n)
            JOIN discogs.releases r ON r.id = pick.release_id""",
            {"u": USERNAME, "picked": picked},
        )
        conn.execute(
            f"""INSERT INTO account.wantlist_items (username, release_id, rating, date_added,
                basic_information, content_hash)
            SELECT %(u)s, r.id, 0, now(), {snapshot}, md5(r.id::text)
            FROM discogs.releases r ORDER BY r.id DESC LIMIT 1000""",
            {"u": USERNAME},
        )
        conn.execute(
            """INSERT INTO account.inventory_listings (listing_id, username, release_id, status,
                condition, price, currency, posted, release, content_hash)
            SELECT 5000000 + row_number() OVER (), %(u)s, r.id, 'For Sale', 'Very Good (VG)',
                (r.id %% 9000) / 100.0, 'EUR', now(), jsonb_build_object('id', r.id,
                'title', r.title, 'artist', 'Various', 'format', 'LP', 'year', r.released_year),
                md5(r.id::text)
            FROM discogs.releases r ORDER BY r.id LIMIT 500""",
            {"u": USERNAME},
        )
        for table in ("collection_items", "wantlist_items", "inventory_listings"):
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("account", table)))


# --- measuring ----------------------------------------------------------------------------------


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 2),
        "p95": round(cuts[94], 2),
        "p99": round(cuts[98], 2),
        "n": len(ordered),
    }


def _scenarios(url: str, size: int) -> dict[str, list[tuple[str, dict[str, str], dict]]]:
    """Per scenario, (endpoint name, query, route params) requests drawn with a fixed seed."""
    rng = random.Random(size)
    with psycopg.connect(url) as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM discogs.releases ORDER BY md5(id::text) LIMIT 2000"
            )
        ]
    searches = []
    for _ in range(400):
        kind = rng.random()
        if kind < 0.35:
            query = {"q": f"{rng.choice(WORDS)} {rng.choice(WORDS)}"}
        elif kind < 0.55:
            query = {"q": rng.choice(PEOPLE)}
        elif kind < 0.7:
            query = {"q": rng.choice(TYPOS)}
        elif kind < 0.85:
            query = {
                "q": rng.choice(WORDS),
                "type": "release",
                "genre": "Jazz",
                "year_from": "1980",
                "year_to": "1999",
            }
        else:
            query = {"q": rng.choice(WORDS), "sort": "year", "facets": "false"}
        searches.append(("api_search", query, {}))
    sorts = ["-date_added", "title", "year", "-rating", "artist"]
    collection = []
    for _ in range(400):
        query = {"sort": rng.choice(sorts), "limit": "50"}
        if rng.random() < 0.4:
            query[rng.choice(["genre", "style"])] = rng.choice(["Jazz", "Techno", "Rock"])
        if rng.random() < 0.2:
            query["q"] = rng.choice(WORDS)
        collection.append(("api_collection", query, {"username": USERNAME}))
    # The broad tier on its own: one common word, relevance, facets (5-25 % of all documents
    # match each of these words in the synthetic data).
    broad = [("api_search", {"q": rng.choice(WORDS)}, {}) for _ in range(400)]
    stats = ("api_user_stats", {}, {"username": USERNAME})
    return {
        "search": searches,
        "search_broad": broad,
        "release": [("api_release", {}, {"id": str(rng.choice(ids))}) for _ in range(400)],
        "collection": collection,
        # what a request costs: the statistics stored when the data last changed (memo off)
        "user_stats": [stats] * 400,
        # the computation itself, cold (nothing stored, memo off): what a sync or swap pays
        "user_stats_computed": [stats] * COMPUTED_ITERATIONS,
        # the same requests answered from the fingerprint-checked memo (data unchanged since)
        "user_stats_memo": [stats] * 400,
    }


def _prepare(url: str, scenario: str) -> None:
    """Per scenario: the per-process memo only where measured, and the stored statistics
    present (as after a sync) or absent (cold computation)."""
    memo.USER_STATS.enabled = scenario == "user_stats_memo"
    memo.USER_STATS.clear()
    with psycopg.connect(url, autocommit=True) as conn:
        if scenario == "user_stats_computed":
            conn.execute("DELETE FROM account.user_stats")
        elif scenario == "user_stats":
            user_stats_store.refresh_user_stats(conn, USERNAME)


def _time(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _measure(url: str, iterations: int, size: int, plans: dict[str, str]) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = url
    os.environ["LOCAL_FUNCTION_KEY"] = FUNCTION_KEY
    os.environ.setdefault("LOCAL_ADMIN_KEY", "bench-admin-key")
    reset_settings_cache()
    settings = get_settings()
    scenarios = _scenarios(url, size)
    out: dict[str, Any] = {}

    def direct(name: str, query: dict, route: dict) -> None:
        response = service.handle(name, ApiRequest("GET", "/bench", query, route, {}))
        assert response.status == 200, response.body[:300]

    for scenario, requests in scenarios.items():
        _prepare(url, scenario)
        direct(*requests[0])  # warm the pool and caches
        out[f"{scenario} query layer"] = _percentiles(
            [_time(lambda r=r: direct(*r)) for r in requests[:iterations]]
        )
    memo.USER_STATS.enabled = True
    with psycopg.connect(url, autocommit=True) as conn:  # what a finished sync pays
        out["user_stats_refresh after sync"] = _percentiles(
            [
                _time(lambda: user_stats_store.refresh_user_stats(conn, USERNAME))
                for _ in range(min(iterations, COMPUTED_ITERATIONS))
            ]
        )

    with read_transaction(settings) as conn:

        def naive(word: str) -> None:
            conn.execute(
                "SELECT id, title FROM discogs.releases WHERE title ILIKE %s"
                " ORDER BY title LIMIT 20",
                (f"%{word}%",),
            ).fetchall()

        words = [q["q"].split()[0] for _, q, _ in scenarios["search"] if "q" in q]
        out["naive ILIKE baseline query layer"] = _percentiles(
            [_time(lambda w=w: naive(w)) for w in words[:iterations]]
        )
        plans[f"{size}: search 'midnight fever' (page + facets)"] = _explain(
            conn, search_queries.SearchQuery(q="midnight fever")
        )
        plans[f"{size}: search 'love' (broad: candidates page, sampled facets)"] = _explain(
            conn, search_queries.SearchQuery(q="love")
        )
        plans[f"{size}: search 'love' type=release genre=Jazz 1980-1999 (broad, filtered)"] = (
            _explain(
                conn,
                search_queries.SearchQuery(
                    q="love", type="release", genre="Jazz", year_from=1980, year_to=1999
                ),
            )
        )
        plans[f"{size}: search 'love' sort=year (broad: ordered index walk)"] = _explain(
            conn, search_queries.SearchQuery(q="love", sort="year", facets=False)
        )
        plans[f"{size}: user statistics (the one statement)"] = _explain_user_stats(conn)
        plans[f"{size}: search 'jesper dahlback' type=release genre=Jazz"] = _explain(
            conn, search_queries.SearchQuery(q="jesper dahlback", type="release", genre="Jazz")
        )

    from function_app import app
    from tests.support.funchost import LocalFunctionHost

    with (
        LocalFunctionHost(app, settings, queues=False, timers=False) as host,
        httpx.Client(
            base_url=host.base_url, headers={"x-functions-key": FUNCTION_KEY}, timeout=60
        ) as client,
    ):
        # The runner writes headers and body in two sends; with Nagle on, the client's delayed
        # ACK adds ~40 ms to every response (seen: release detail p50 56 ms vs 8 ms at the query
        # layer). The Functions host does not behave so; switch Nagle off for this run.
        host.http.server.RequestHandlerClass.disable_nagle_algorithm = True
        routes = {
            "api_search": "search",
            "api_release": "releases/{id}",
            "api_collection": "users/{username}/collection",
            "api_user_stats": "users/{username}/stats",
        }

        def over_http(name: str, query: dict, route: dict) -> None:
            path = routes[name].format(**route)
            response = client.get(f"/api/{path}", params=query)
            assert response.status_code == 200, response.text[:300]

        for scenario, requests in scenarios.items():
            _prepare(url, scenario)
            over_http(*requests[0])
            out[f"{scenario} local runner"] = _percentiles(
                [_time(lambda r=r: over_http(*r)) for r in requests[:iterations]]
            )
        memo.USER_STATS.enabled = True
    return out


def _explain(conn: psycopg.Connection, query: search_queries.SearchQuery) -> str:
    """EXPLAIN ANALYZE of the statement a search page runs (the one of its matching mode)."""
    chosen, _ = search_queries.run(conn, query)
    rows = conn.execute(
        sql.SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {}").format(chosen.statement),
        chosen.params,
    ).fetchall()
    return "\n".join(r[0] for r in rows)


def _explain_user_stats(conn: psycopg.Connection) -> str:
    """EXPLAIN of the one statement that computes a user's statistics."""
    query = stats_queries.user_stats_statement(served=True)
    params = {"username": USERNAME, "top": 10, "role_limit": stats_queries.ROLE_LIMIT}
    rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query, params).fetchall()
    return "\n".join(r[0] for r in rows)


# --- report -------------------------------------------------------------------------------------


def _write_doc(
    results: dict[str, Any],
    sizes: list[int],
    iterations: int,
    collection: int,
    plans: dict[str, str],
) -> None:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [
        "## HTTP API latency (issue 6)",
        "",
        f"Run {now} on {platform.node()} ({os.cpu_count()} cores, load average {load:.1f} at "
        f"the end), Python {platform.python_version()}. Synthetic current-format dumps loaded "
        "through the real loader (releases n, masters n/3, artists n/2, labels n/20; seed 6), "
        f"a generated {collection:,}-item collection. {iterations} requests per scenario, "
        "one client, sequential. Rerun: `make bench-api` (sizes: `BENCH_API_SIZES=100000,1000000`"
        " for the issue's target run). Query layer = the API handler on a pooled connection, "
        "no HTTP; local runner = HTTP through tests/support/funchost with keys.",
        "",
        "| releases | scenario | layer | p50 ms | p95 ms | p99 ms | target p95 |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for size in sizes:
        entry = results[str(size)]
        for key, value in entry.items():
            if key == "load":
                continue
            scenario, _, layer = key.partition(" ")
            target = TARGETS_MS.get(scenario)
            lines.append(
                f"| {size:,} | {scenario} | {layer} | {value['p50']} | {value['p95']} | "
                f"{value['p99']} | {f'≤ {target}' if target else ''} |"
            )
    lines += ["", "Search vs the naive baseline (p95, query layer, same run):", ""]
    for size in sizes:
        entry = results[str(size)]
        ours = entry["search query layer"]["p95"]
        naive = entry["naive ILIKE baseline query layer"]["p95"]
        lines.append(
            f"- {size:,} releases: ours {ours} ms (ranked full-text + trigram over releases, "
            f"masters, artists and labels, with facets) vs naive {naive} ms (ILIKE on release "
            f"titles only, no ranking or facets): ours takes {ours / naive:.2f}× the naive time"
        )
    lines += ["", "Load (generate excluded; parse, COPY, finalize with search documents):", ""]
    for size in sizes:
        info = results[str(size)]["load"]
        lines.append(
            f"- {size:,} releases: {info['seconds']} s; {info['search_documents']:,} search "
            f"documents; rows {info['rows']}"
        )
    lines += ["", f"EXPLAIN plans: [{PLANS.name}]({PLANS.name})."]
    write_section("api", lines)
    PLANS.write_text(
        "# EXPLAIN plans of the API benchmark\n\n"
        + "\n\n".join(f"## {title}\n\n```\n{plan}\n```" for title, plan in plans.items())
        + "\n"
    )


if __name__ == "__main__":
    main()
