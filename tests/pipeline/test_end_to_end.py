"""End to end through the local function runner: the timer fires, the queue functions fetch,
verify, split, load and finalize, and the ingestion API reports it; plus the API's errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from shared.db.connection import connect
from shared.pipeline.entities import ENTITIES
from shared.pipeline.service import discover
from shared.storage import clients
from tests.conftest import ADMIN_KEY, FUNCTION_KEY
from tests.pipeline.conftest import STAMP, Driver
from tests.support.dump_host import DumpHost
from tests.support.funchost import LocalFunctionHost
from tests.support.funchost.config import HostConfig, QueueOptions

ADMIN = {"x-functions-key": ADMIN_KEY}
USER = {"x-functions-key": FUNCTION_KEY}


@pytest.fixture
def api(pipeline_env: dict[str, str], function_host: LocalFunctionHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=function_host.base_url, timeout=30) as client:
        yield client


def _wait_for(api: httpx.Client, run_id: str, states: set[str], seconds: float = 180) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        response = api.get(f"/api/ingestions/{run_id}", headers=USER)
        if response.status_code == 200 and response.json()["state"] in states:
            return response.json()
        assert time.monotonic() < deadline, f"run {run_id} stuck: {response.text[:2000]}"
        time.sleep(0.5)


def test_timer_to_swapped_schema_through_the_local_runner(
    api: httpx.Client, function_host: LocalFunctionHost, dump_host: DumpHost
) -> None:
    fired = api.post("/admin/functions/dump_discover", headers=ADMIN, json={})
    assert fired.status_code == 202
    status = _wait_for(api, STAMP, {"succeeded", "failed"})
    assert status["state"] == "succeeded", status
    assert status["month"] == "2020-08-06" and status["trigger"] == "timer"
    for entity in ENTITIES:
        progress = status["entities"][entity]
        assert progress["chunks_planned"] == progress["chunks_loaded"] >= 1
        assert progress["records_loaded"] == 1000 and progress["chunks_failed"] == 0
    assert status["records_loaded"] == 4000 and status["finished"] is not None
    with connect(function_host.settings) as conn:
        counts = {
            e: conn.execute(f"SELECT count(*) FROM discogs.{e}").fetchone()[0] for e in ENTITIES
        }
        tracks = conn.execute("SELECT count(*) FROM discogs.release_tracks").fetchone()
    assert counts == dict.fromkeys(ENTITIES, 1000)
    assert tracks == (9430,)  # the published oracle: 9,178 tracks + 252 sub-tracks
    listed = api.get("/api/ingestions", headers=USER).json()["ingestions"]
    assert [(r["id"], r["state"]) for r in listed] == [(STAMP, "succeeded")]
    # A second start of a loaded month is a conflict; so is retrying a finished run.
    again = api.post("/api/ingestions", headers=ADMIN, json={"month": "latest"})
    assert again.status_code == 409 and "already succeeded" in again.json()["detail"]
    assert again.json()["ingestion"] == {"id": STAMP, "status": f"/api/ingestions/{STAMP}"}
    assert again.headers["Location"] == f"/api/ingestions/{STAMP}"
    retry = api.post(f"/api/ingestions/{STAMP}/retry", headers=ADMIN)
    assert retry.status_code == 409 and "succeeded" in retry.json()["detail"]
    assert retry.json()["ingestion"]["id"] == STAMP


def test_ingestion_api_start_and_errors(api: httpx.Client, dump_host: DumpHost) -> None:
    dump_host.faults.slow_seconds_per_write = 0.05  # keep the run busy while we poke at it
    assert api.post("/api/ingestions", headers=USER, json={"month": "latest"}).status_code == 401
    started = api.post("/api/ingestions", headers=ADMIN, json={"month": "2020-08-01"})
    assert started.status_code == 202, started.text
    assert started.headers["Location"] == f"/api/ingestions/{STAMP}"
    assert started.json()["attempt"] == 1
    second = api.post("/api/ingestions", headers=ADMIN, json={"month": "latest"})
    assert second.status_code == 409 and "in progress" in second.json()["detail"]
    assert second.json()["ingestion"] == {"id": STAMP, "status": f"/api/ingestions/{STAMP}"}
    assert second.headers["Location"] == f"/api/ingestions/{STAMP}"
    missing = api.post("/api/ingestions", headers=ADMIN, json={"month": "2020-09-01"})
    assert missing.status_code == 404 and "2020-09" in missing.json()["detail"]
    bad = api.post("/api/ingestions", headers=ADMIN, json={"month": "August"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["name"] == "body.month"
    not_json = api.post("/api/ingestions", headers=ADMIN, content=b"{nope")
    assert not_json.status_code == 400
    assert api.get("/api/ingestions/20991231", headers=USER).status_code == 404
    malformed = api.get("/api/ingestions/not-a-run", headers=USER)
    assert malformed.status_code == 400 and malformed.json()["errors"][0]["name"] == "path.id"
    assert api.post("/api/ingestions/20991231/retry", headers=ADMIN).status_code == 404
    # A retry in the middle of a healthy run may re-send steps that are merely slow; the
    # leases and the ledger make that harmless (the run below still loads each record once).
    meddle = api.post(f"/api/ingestions/{STAMP}/retry", headers=ADMIN)
    assert meddle.status_code in (202, 409), meddle.text
    running = api.get(f"/api/ingestions/{STAMP}", headers=USER).json()
    assert running["state"] in {"fetching", "loading", "finalizing", "succeeded"}
    dump_host.faults.slow_seconds_per_write = 0
    final = _wait_for(api, STAMP, {"succeeded", "failed"})
    assert final["state"] == "succeeded" and final["records_loaded"] == 4000


def test_incomplete_month_is_not_started_by_the_timer(
    api: httpx.Client, dump_host: DumpHost, function_host: LocalFunctionHost
) -> None:
    dump_host.faults.unpublished.add(f"discogs_{STAMP}_releases.xml.gz")
    assert api.post("/admin/functions/dump_discover", headers=ADMIN, json={}).status_code == 202
    deadline = time.monotonic() + 30
    while ("dump_discover", "Succeeded") not in function_host.invocations:
        assert time.monotonic() < deadline, function_host.invocations
        time.sleep(0.1)
    assert api.get("/api/ingestions", headers=USER).json() == {"ingestions": []}
    incomplete = api.post("/api/ingestions", headers=ADMIN, json={"month": "2020-08-01"})
    assert incomplete.status_code == 409 and "releases" in incomplete.json()["detail"]
    assert "ingestion" not in incomplete.json()  # no run exists for an incomplete month


def test_dump_host_rate_limit_on_a_manual_start_is_a_503(
    api: httpx.Client, dump_host: DumpHost
) -> None:
    dump_host.faults.rate_limit_listings = 1
    response = api.post("/api/ingestions", headers=ADMIN, json={"month": "latest"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "3574"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 503 and "429" in response.json()["detail"]


def test_poisoned_chunk_through_the_runner_then_retry_endpoint(
    pipeline_env: dict[str, str], driver: Driver
) -> None:
    """The host's own poison handling (maxDequeueCount, `-poison` queue) ends up in the status,
    and `POST /api/ingestions/{id}/retry` recovers the run once the cause is fixed."""
    from function_app import app

    settings = driver.settings
    assert discover(settings) is not None
    driver.run_until_idle([settings.fetch_queue, settings.split_queue])  # loads stay queued
    chunks = clients.container(settings, settings.chunks_container)
    target = chunks.get_blob_client(f"{STAMP}/a1/releases/000001.xml")
    good = target.download_blob().readall()
    target.upload_blob(b"<masters>\n</masters>\n", overwrite=True)  # not a releases chunk
    fast = HostConfig(
        route_prefix="api",
        queues=QueueOptions(
            batch_size=1,
            new_batch_threshold=0,
            max_dequeue_count=5,
            visibility_timeout=0.0,
            max_polling_interval=0.3,
        ),
    )
    with (
        LocalFunctionHost(app, settings, config=fast, timers=False) as host,
        httpx.Client(base_url=host.base_url, timeout=30) as api,
    ):
        deadline = time.monotonic() + 120
        while True:
            status = api.get(f"/api/ingestions/{STAMP}", headers=USER).json()
            if status["problems"] and status["problems"][0]["state"] == "poisoned":
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
        [problem] = status["problems"]
        assert (problem["entity"], problem["seq"]) == ("releases", 1)
        assert "ChunkFormatError" in problem["error"] and problem["attempts"] == 5
        assert status["state"] == "loading"
        target.upload_blob(good, overwrite=True)  # the cause is fixed
        retried = api.post(f"/api/ingestions/{STAMP}/retry", headers=ADMIN)
        assert retried.status_code == 202
        assert retried.json()["retried"] == [{"entity": "releases", "seq": 1}]
        final = _wait_for(api, STAMP, {"succeeded", "failed"})
    assert final["state"] == "succeeded" and final["problems"] == []
    assert final["records_loaded"] == 4000
