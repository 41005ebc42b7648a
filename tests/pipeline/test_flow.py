"""The whole pipeline in-process against real Azurite, PostgreSQL and a local dump host:
a month reaches the served schema, and duplicates, killed loaders, poison chunks, interrupted
splits and bad checksums all end in correct data."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from shared.db.connection import connect
from shared.pipeline.entities import ENTITIES
from shared.pipeline.model import ChunkState, FileState, RunState
from shared.pipeline.runstore import RunStore
from shared.pipeline.service import (
    ConflictError,
    discover,
    retry_run,
    run_status,
    start_requested,
)
from shared.settings import Settings
from shared.storage import clients
from tests.pipeline.conftest import SAMPLES, STAMP, Driver
from tests.support.dump_host import DumpHost

RECORDS_PER_SAMPLE = 1000  # each 2020-08-06 sample file holds 1,000 records
ROOT = Path(__file__).resolve().parents[2]


def _served_counts(settings: Settings) -> dict[str, int]:
    with connect(settings) as conn:
        return {
            e: conn.execute(f"SELECT count(*) FROM discogs.{e}").fetchone()[0] for e in ENTITIES
        }


def _queued(settings: Settings, queue_name: str) -> list[dict]:
    client = clients.queue(settings, queue_name, base64=False)
    return [json.loads(base64.b64decode(m.content)) for m in client.peek_messages(max_messages=32)]


def _run_fetch_and_split(driver: Driver) -> None:
    assert discover(driver.settings) is not None
    driver.run_until_idle([driver.settings.fetch_queue, driver.settings.split_queue])


def test_month_flows_from_timer_to_the_served_schema(driver: Driver) -> None:
    settings = driver.settings
    dumps = clients.container(settings, settings.dumps_container)
    dumps.upload_blob("20200601/discogs_20200601_labels.xml.gz", b"old")  # beyond retention
    dumps.upload_blob("20200701/discogs_20200701_labels.xml.gz", b"kept")
    started = discover(settings)
    assert started is not None and started.run is not None
    driver.run_until_idle()
    run = RunStore(settings).get_run(STAMP)
    assert run is not None and run.state == RunState.SUCCEEDED, run
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)
    status = run_status(settings, STAMP)
    for entity in ENTITIES:
        progress = status.entities[entity]
        assert progress.file_state == FileState.SPLIT
        assert progress.chunks_planned == progress.chunks_loaded >= 1
        assert progress.records_loaded == RECORDS_PER_SAMPLE
        assert progress.chunks_failed == 0
    assert status.entities["releases"].chunks_planned == 5  # 4.5 MB of XML in 1 MiB chunks
    assert status.records_loaded == 4 * RECORDS_PER_SAMPLE and status.eta_seconds is None
    # Chunk blobs are gone after success; the dump blobs are kept (DUMP_RETENTION_MONTHS=2).
    chunks = clients.container(settings, settings.chunks_container)
    assert list(chunks.list_blobs()) == []
    assert len(list(dumps.list_blobs(name_starts_with=f"{STAMP}/"))) == 5
    months = sorted({b.name.split("/")[0] for b in dumps.list_blobs()})
    assert months == ["20200701", STAMP]  # 2020-06 is older than the newest 2 months
    # Exactly one finalize: the ledger says so, and a new discovery does not start it again.
    with connect(settings) as conn:
        assert conn.execute("SELECT finalize_state FROM pipeline.months").fetchall() == [
            ("succeeded",)
        ]
    again = discover(settings)
    assert again is not None and again.decision == "loaded"
    with pytest.raises(ConflictError, match="already succeeded"):
        start_requested(settings, "2020-08-01")


def test_the_same_load_message_twice_loads_once(driver: Driver) -> None:
    settings = driver.settings
    _run_fetch_and_split(driver)
    received = driver.receive(settings.load_queue)
    assert received is not None
    first = driver.handle(settings.load_queue, received.body)
    second = driver.handle(settings.load_queue, received.body)  # a duplicate delivery
    assert first.split(";")[0] == second.split(";")[0]  # same counts reported
    received.delete()
    driver.run_until_idle()
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)


def test_a_loader_killed_mid_chunk_leaves_nothing_and_the_chunk_reloads(
    driver: Driver, pipeline_env: dict[str, str]
) -> None:
    settings = driver.settings
    _run_fetch_and_split(driver)
    received = driver.receive(settings.load_queue, visibility=1)
    assert received is not None
    message = json.loads(received.body)
    url = settings.database_url.get_secret_value()
    with psycopg.connect(url) as blocker:
        # Reads pass, inserts wait: the loader copies its rows, then blocks on its ledger row,
        # inside the transaction that holds the chunk's rows.
        blocker.execute("LOCK TABLE loader.chunks IN SHARE MODE")
        loader = subprocess.Popen(
            [sys.executable, "-m", "tests.pipeline.load_once", received.body],
            cwd=ROOT,
            env={**os.environ, **pipeline_env},
        )
        try:
            deadline = time.monotonic() + 60
            while not _waiting_on_ledger(url):
                assert loader.poll() is None, "loader exited before reaching the ledger"
                assert time.monotonic() < deadline, "loader never reached the ledger insert"
                time.sleep(0.1)
        finally:
            loader.send_signal(signal.SIGKILL)
            loader.wait()
        blocker.rollback()
    with connect(settings) as conn:
        for _ in range(100):  # the server notices the dead client and rolls back
            if not _waiting_on_ledger(url):
                break
            time.sleep(0.1)
        ledger = conn.execute(
            "SELECT count(*) FROM loader.chunks WHERE entity = %s AND sequence = %s",
            (message["entity"], message["seq"]),
        ).fetchone()
    assert ledger == (0,)
    with connect(settings) as conn:  # nothing of the chunk reached the month's import tables
        table = "releases" if message["entity"] == "releases" else message["entity"]
        rows = conn.execute(f"SELECT count(*) FROM import_{STAMP}.{table}").fetchone()
    assert rows == (0,)
    driver.run_until_idle()  # the message becomes visible again and is redelivered
    assert RunStore(settings).get_run(STAMP).state == RunState.SUCCEEDED  # type: ignore[union-attr]
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)


def _waiting_on_ledger(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            """
            SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND query LIKE '%%INSERT INTO loader.chunks%%'
            """
        ).fetchone()
    return bool(row and row[0])


def test_a_chunk_that_always_fails_is_poisoned_visible_and_retried(driver: Driver) -> None:
    settings = driver.settings
    _run_fetch_and_split(driver)
    loads = [m for m in _queued(settings, settings.load_queue) if m["entity"] == "releases"]
    target = next(m for m in loads if m["seq"] == 2)
    chunk_blob = clients.container(settings, settings.chunks_container).get_blob_client(
        target["blob"]
    )
    good = chunk_blob.download_blob().readall()
    chunk_blob.upload_blob(b"<labels>\n</labels>\n", overwrite=True)  # not a releases chunk
    driver.run_until_idle()
    run = RunStore(settings).get_run(STAMP)
    assert run is not None and run.state == RunState.LOADING  # everything else is loaded
    status = run_status(settings, STAMP)
    assert status.entities["releases"].chunks_failed == 1
    [problem] = status.problems
    assert (problem.entity, problem.seq, problem.state) == ("releases", 2, ChunkState.POISONED)
    assert problem.attempts == 5 and problem.error and "ChunkFormatError" in problem.error
    poison = _queued(settings, settings.load_queue + "-poison")
    assert [(m["entity"], m["seq"]) for m in poison] == [("releases", 2)]
    with connect(settings) as conn:  # nothing is served while a chunk is missing
        assert conn.execute("SELECT to_regclass('discogs.releases')").fetchone() == (None,)
    # The cause is fixed; the retry endpoint's logic re-enqueues the chunk and the run finishes.
    chunk_blob.upload_blob(good, overwrite=True)
    retried = retry_run(settings, STAMP)
    assert (retried.chunks, retried.files) == ([("releases", 2)], [])
    assert _queued(settings, settings.load_queue + "-poison") == []
    driver.run_until_idle()
    assert RunStore(settings).get_run(STAMP).state == RunState.SUCCEEDED  # type: ignore[union-attr]
    assert run_status(settings, STAMP).problems == []
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)
    with pytest.raises(ConflictError, match="succeeded"):
        retry_run(settings, STAMP)


def test_a_split_restarted_half_way_resumes_from_its_checkpoint(driver: Driver) -> None:
    settings = driver.settings
    assert discover(settings) is not None
    driver.run_until_idle([settings.fetch_queue])
    driver.split_options.stop_after_chunks = 3  # the first split of releases dies after 3 chunks
    driver.run_until_idle([settings.split_queue], stop=lambda: _split_broke(driver))
    driver.split_options.stop_after_chunks = None
    releases = RunStore(settings).get_file(STAMP, 1, "releases")
    assert releases is not None and releases.state == FileState.SPLITTING
    assert releases.next_sequence == 3
    driver.run_until_idle([settings.split_queue])
    releases = RunStore(settings).get_file(STAMP, 1, "releases")
    assert releases is not None and releases.state == FileState.SPLIT
    assert releases.chunks == 5 and releases.split_restarts == 1
    sequences = sorted(
        m["seq"] for m in _queued(settings, settings.load_queue) if m["entity"] == "releases"
    )
    assert sequences == [0, 1, 2, 3, 4]  # each chunk enqueued once: resumed, not redone
    driver.run_until_idle()
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)


def _split_broke(driver: Driver) -> bool:
    return any("SplitInterruptedError" in out for _, out in driver.log)


def _renamed_month(stamp: str) -> dict[str, bytes]:
    return {
        f"discogs_{stamp}_{e}.xml.gz": (SAMPLES / f"discogs_{STAMP}_{e}.xml.gz").read_bytes()
        for e in ENTITIES
    }


def test_wrong_checksum_fails_the_run_and_leaves_the_served_month_alone(
    driver: Driver, dump_host: DumpHost
) -> None:
    settings = driver.settings
    assert discover(settings) is not None
    driver.run_until_idle()
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)
    with DumpHost.serving({"20200901": _renamed_month("20200901")}) as newer:
        newer.faults.wrong_checksum.add("discogs_20200901_labels.xml.gz")
        newer.faults.range_support = False
        # Break the labels download once so its hash is only checked by the split.
        driver.fetch_options.inline_retries = 0
        newer.faults.drop_after["discogs_20200901_labels.xml.gz"] = [70_000]
        settings = settings.model_copy(update={"discogs_dump_base_url": newer.base_url})
        driver.settings = settings
        started = discover(settings)
        assert started is not None and started.run is not None
        assert started.run.run_id == "20200901"
        for _ in range(3):  # the rescheduled labels fetch waits 30 s: deliver it by hand
            driver.run_until_idle()
            msg = {"run": "20200901", "attempt": 1, "kind": "fetch", "file": "labels", "tries": 1}
            file = RunStore(settings).get_file("20200901", 1, "labels")
            if file is not None and file.state == FileState.WAITING:
                driver.handle(settings.fetch_queue, json.dumps(msg))
    run = RunStore(settings).get_run("20200901")
    assert run is not None and run.state == RunState.FAILED
    assert run.reason and run.reason.startswith("labels: SHA-256 mismatch")
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)
    with connect(settings) as conn:
        months = dict(conn.execute("SELECT dump_date::text, status FROM loader.months").fetchall())
    assert months["2020-08-06"] == "served" and months.get("2020-09-01") != "served"


def test_sample_digests_are_what_the_host_publishes(dump_host: DumpHost) -> None:
    text = dump_host.checksum_text(STAMP).decode()
    for entity in ENTITIES:
        name = f"discogs_{STAMP}_{entity}.xml.gz"
        assert f"{hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest()} {name}\n" in text
    assert gzip.decompress((SAMPLES / f"discogs_{STAMP}_labels.xml.gz").read_bytes())


def test_a_failed_month_restarts_as_a_new_attempt_and_ignores_old_messages(
    driver: Driver, dump_host: DumpHost
) -> None:
    settings = driver.settings
    dump_host.faults.wrong_checksum.add(f"discogs_{STAMP}_artists.xml.gz")
    assert discover(settings) is not None
    driver.run_until_idle([settings.fetch_queue])  # fails the run; splits stay queued
    failed = RunStore(settings).get_run(STAMP)
    assert failed is not None and failed.state == RunState.FAILED and failed.attempt == 1
    with pytest.raises(ConflictError, match="start a new attempt"):
        retry_run(settings, STAMP)
    dump_host.faults.wrong_checksum.clear()  # Discogs re-uploaded a fixed CHECKSUM
    restarted = start_requested(settings, "latest")
    assert restarted.run is not None and restarted.run.attempt == 2
    driver.run_until_idle()
    ignored = [out for _, out in driver.log if out.startswith("ignored")]
    assert ignored, "the first attempt's queued split messages were delivered and ignored"
    run = RunStore(settings).get_run(STAMP)
    assert run is not None and run.state == RunState.SUCCEEDED and run.attempt == 2
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)


NEGATIVE = ROOT / "tests" / "data" / "discogs" / "negative" / "artists_tar_not_gzip.xml.gz"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<html>Service Unavailable</html>", "not a valid gzip stream"),
        (NEGATIVE.read_bytes(), "cannot be split: expected the root element <artists>"),
        (gzip.compress(b"<artists>\n<artist><id>1</id>")[:-12], "not a valid gzip stream"),
    ],
    ids=["not-gzip", "gzipped-tar", "truncated-gzip"],
)
def test_a_data_file_that_is_not_a_dump_fails_the_run_clearly(
    pipeline_env: dict[str, str], content: bytes, reason: str
) -> None:
    from shared.settings import get_settings, reset_settings_cache

    month = {
        f"discogs_{STAMP}_{e}.xml.gz": (SAMPLES / f"discogs_{STAMP}_{e}.xml.gz").read_bytes()
        for e in ENTITIES
    }
    month[f"discogs_{STAMP}_artists.xml.gz"] = content
    with DumpHost.serving({STAMP: month}) as host:
        os.environ["DISCOGS_DUMP_BASE_URL"] = host.base_url
        reset_settings_cache()
        settings = get_settings()
        clients.ensure_storage(settings)
        driver = Driver(settings)
        assert discover(settings) is not None
        driver.run_until_idle([settings.fetch_queue, settings.split_queue])
    run = RunStore(settings).get_run(STAMP)
    assert run is not None and run.state == RunState.FAILED
    assert run.reason and run.reason.startswith("artists: ") and reason in run.reason


def test_retry_restarts_files_whose_message_was_lost(driver: Driver) -> None:
    settings = driver.settings
    assert discover(settings) is not None
    clients.queue(settings, settings.fetch_queue).clear_messages()  # the CHECKSUM fetch is lost
    assert driver.run_until_idle() == 0
    assert retry_run(settings, STAMP).files == ["checksum: fetch"]
    driver.run_until_idle([settings.fetch_queue])
    clients.queue(settings, settings.split_queue).clear_messages()  # all four splits are lost
    retried = retry_run(settings, STAMP)
    assert retried.files == [f"{e}: split" for e in sorted(ENTITIES)] and retried.chunks == []
    driver.run_until_idle()
    assert RunStore(settings).get_run(STAMP).state == RunState.SUCCEEDED  # type: ignore[union-attr]
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)
