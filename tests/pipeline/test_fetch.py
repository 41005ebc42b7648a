"""Fetching a month from a real local dump host into Azurite: resume, restart, 429, checksums."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time

import pytest
from azure.storage.blob import BlobSasPermissions, generate_blob_sas

from shared.db.connection import connect
from shared.pipeline.entities import ENTITIES
from shared.pipeline.fetch import handle_fetch, use_server_copy
from shared.pipeline.index import newest_complete
from shared.pipeline.messages import FetchMessage
from shared.pipeline.model import FileState, RunState, StartDecision
from shared.pipeline.runstore import RunStore
from shared.pipeline.servercopy import BlobServerCopy, CopyProgress, CopyUnavailableError
from shared.pipeline.service import discover, read_index, start_run
from shared.settings import Settings
from shared.storage import clients
from tests.pipeline.conftest import SAMPLES, STAMP, Driver
from tests.support.dump_host import DumpHost

RELEASES = f"discogs_{STAMP}_releases.xml.gz"


def _blob_bytes(settings: Settings, name: str) -> bytes:
    blob = clients.container(settings, settings.dumps_container).get_blob_client(name)
    return blob.download_blob().readall()


def _queued(settings: Settings, queue_name: str) -> list[str]:
    client = clients.queue(settings, queue_name, base64=False)
    return [base64.b64decode(m.content).decode() for m in client.peek_messages(max_messages=32)]


def _fetch_checksum_then(driver: Driver) -> None:
    """Start the run and process the CHECKSUM fetch, leaving the four data fetches queued."""
    result = discover(driver.settings)
    assert result is not None and result.decision == StartDecision.NEW
    assert driver.step(driver.settings.fetch_queue) is not None


def _releases_message() -> FetchMessage:
    return FetchMessage(run=STAMP, attempt=1, file="releases")


def test_whole_month_is_fetched_verified_and_handed_to_split(
    driver: Driver, dump_host: DumpHost
) -> None:
    settings = driver.settings
    _fetch_checksum_then(driver)
    driver.run_until_idle([settings.fetch_queue])
    store = RunStore(settings)
    files = {f.kind: f for f in store.list_files(STAMP, 1)}
    for entity in ENTITIES:
        name = f"discogs_{STAMP}_{entity}.xml.gz"
        assert files[entity].state == FileState.VERIFIED
        assert _blob_bytes(settings, f"{STAMP}/{name}") == (SAMPLES / name).read_bytes()
    assert files["checksum"].state == FileState.VERIFIED
    assert sorted(
        m.split('"entity":"')[1].split('"')[0] for m in _queued(settings, settings.split_queue)
    ) == sorted(ENTITIES)
    run = store.get_run(STAMP)
    assert run is not None and run.state == RunState.LOADING
    # The dump host saw one listing page per level and one GET per file, nothing more.
    assert len(dump_host.requests) == 2 + 5


def test_dropped_connection_resumes_with_a_range_request(
    driver: Driver, dump_host: DumpHost
) -> None:
    dump_host.faults.drop_after[RELEASES] = [300_000]
    _fetch_checksum_then(driver)
    outcome = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert outcome.startswith("verified")
    requests = dump_host.downloads(RELEASES)
    assert [r.range for r in requests] == [None, "bytes=262144-"]  # 4 staged 64 KiB blocks kept
    assert [r.status for r in requests] == [200, 206]
    size = (SAMPLES / RELEASES).stat().st_size
    assert sum(r.body_bytes for r in requests) == 300_000 + size - 262_144  # no restart from 0
    file = RunStore(driver.settings).get_file(STAMP, 1, "releases")
    assert file is not None and file.fetch_resumes == 1 and file.fetch_restarts == 0
    assert _blob_bytes(driver.settings, file.blob) == (SAMPLES / RELEASES).read_bytes()


def test_restarted_fetch_resumes_from_the_uncommitted_block_list(
    driver: Driver, dump_host: DumpHost
) -> None:
    driver.fetch_options.inline_retries = 0
    dump_host.faults.drop_after[RELEASES] = [300_000]
    _fetch_checksum_then(driver)
    first = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert first.startswith("rescheduled")  # the function gave up and re-enqueued itself
    store = RunStore(driver.settings)
    waiting = store.get_file(STAMP, 1, "releases")
    assert waiting is not None and waiting.state == FileState.WAITING
    assert waiting.bytes_fetched == 262_144
    # A new invocation (another instance) continues from the staged blocks.
    second = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert second.startswith("fetched")  # hash unknown across invocations: the split checks it
    assert [r.range for r in dump_host.downloads(RELEASES)] == [None, "bytes=262144-"]
    file = store.get_file(STAMP, 1, "releases")
    assert file is not None and file.state == FileState.FETCHED and file.sha256 is None
    assert _blob_bytes(driver.settings, file.blob) == (SAMPLES / RELEASES).read_bytes()


def test_host_without_range_support_restarts_cleanly(driver: Driver, dump_host: DumpHost) -> None:
    dump_host.faults.range_support = False
    dump_host.faults.content_length = False  # chunked, like the official host
    dump_host.faults.drop_after[RELEASES] = [300_000]
    _fetch_checksum_then(driver)
    outcome = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert outcome.startswith("verified")
    assert [r.status for r in dump_host.downloads(RELEASES)] == [200, 200]
    file = RunStore(driver.settings).get_file(STAMP, 1, "releases")
    assert file is not None and file.fetch_restarts == 1
    assert _blob_bytes(driver.settings, file.blob) == (SAMPLES / RELEASES).read_bytes()


def test_429_reschedules_by_retry_after_instead_of_sleeping(
    driver: Driver, dump_host: DumpHost
) -> None:
    settings = driver.settings
    _fetch_checksum_then(driver)
    # Drain the four queued data fetches so only the rescheduled one will be there.
    for _ in ENTITIES:
        assert driver.receive(settings.fetch_queue, visibility=3600) is not None
    dump_host.faults.rate_limit_downloads = 1
    dump_host.faults.retry_after = "2"
    outcome = handle_fetch(settings, _releases_message(), driver.fetch_options)
    assert outcome == "rescheduled in 2 s: rate limited"
    file = RunStore(settings).get_file(STAMP, 1, "releases")
    assert file is not None and file.state == FileState.WAITING and "429" in (file.error or "")
    assert file.retry_at is not None and file.retry_at > dt.datetime.now(dt.UTC)
    assert driver.receive(settings.fetch_queue) is None  # invisible until Retry-After passes
    deadline = time.monotonic() + 15
    while (received := driver.receive(settings.fetch_queue)) is None:
        assert time.monotonic() < deadline, "rescheduled fetch never became visible"
        time.sleep(0.25)
    assert driver.handle(settings.fetch_queue, received.body).startswith("verified")


def test_wrong_checksum_fails_the_run_with_a_clear_reason(
    driver: Driver, dump_host: DumpHost
) -> None:
    dump_host.faults.wrong_checksum.add(RELEASES)
    _fetch_checksum_then(driver)
    driver.run_until_idle([driver.settings.fetch_queue])
    store = RunStore(driver.settings)
    run = store.get_run(STAMP)
    assert run is not None and run.state == RunState.FAILED
    assert run.reason is not None and run.reason.startswith("releases: SHA-256 mismatch")
    assert store.get_file(STAMP, 1, "releases").state == FileState.FAILED  # type: ignore[union-attr]
    assert not any('"releases"' in m for m in _queued(driver.settings, driver.settings.split_queue))
    with connect(driver.settings) as conn:
        row = conn.execute("SELECT finalize_state FROM pipeline.months").fetchone()
    assert row == ("waiting",)


def test_slow_host_completes(driver: Driver, dump_host: DumpHost) -> None:
    dump_host.faults.slow_seconds_per_write = 0.002
    _fetch_checksum_then(driver)
    driver.run_until_idle([driver.settings.fetch_queue])
    files = RunStore(driver.settings).list_files(STAMP, 1)
    assert all(f.state == FileState.VERIFIED for f in files)


def test_host_slower_than_the_timeout_is_rescheduled(
    pipeline_env: dict[str, str], dump_host: DumpHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOGS_TIMEOUT_SECONDS", "0.3")
    from shared.settings import get_settings, reset_settings_cache

    reset_settings_cache()
    settings = get_settings()
    clients.ensure_storage(settings)
    driver = Driver(settings)
    driver.fetch_options.inline_retries = 1
    _fetch_checksum_then(driver)
    dump_host.faults.slow_seconds_per_write = 1.0
    outcome = handle_fetch(settings, _releases_message(), driver.fetch_options)
    assert outcome.startswith("rescheduled in 30 s") and "ReadTimeout" in outcome
    file = RunStore(settings).get_file(STAMP, 1, "releases")
    assert file is not None and file.state == FileState.WAITING
    queued = _queued(settings, settings.fetch_queue)  # the 4 data fetches + the rescheduled one
    assert len(RunStore(settings).list_files(STAMP, 1)) == 5 and queued is not None


def test_incomplete_month_is_not_started(pipeline_settings: Settings, dump_host: DumpHost) -> None:
    dump_host.faults.unpublished.add(f"discogs_{STAMP}_CHECKSUM.txt")
    assert discover(pipeline_settings) is None
    assert RunStore(pipeline_settings).get_run(STAMP) is None
    assert _queued(pipeline_settings, pipeline_settings.fetch_queue) == []


def test_two_instances_never_start_the_same_run(pipeline_settings: Settings) -> None:
    month = newest_complete(read_index(pipeline_settings))
    assert month is not None
    barrier = threading.Barrier(4)
    results = []

    def start() -> None:
        barrier.wait()
        results.append(start_run(pipeline_settings, month, trigger="timer").decision)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted([StartDecision.NEW] + [StartDecision.RUNNING] * 3)
    assert len(_queued(pipeline_settings, pipeline_settings.fetch_queue)) == 1


def test_server_copy_unavailable_falls_back_to_streaming(
    driver: Driver, dump_host: DumpHost
) -> None:
    # Azurite, like Azure for a host that fails the source probe, refuses an external URL.
    driver.fetch_options.server_copy = BlobServerCopy()
    _fetch_checksum_then(driver)
    outcome = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert outcome.startswith("verified")
    file = RunStore(driver.settings).get_file(STAMP, 1, "releases")
    assert file is not None and file.copy_failed and file.copy_id is None
    assert [r.status for r in dump_host.downloads(RELEASES)] == [200]  # streamed instead


def test_server_copy_is_started_then_polled_by_rescheduled_messages(driver: Driver) -> None:
    settings = driver.settings
    driver.fetch_options.server_copy = BlobServerCopy()
    driver.fetch_options.copy_poll_seconds = 0
    _fetch_checksum_then(driver)
    # A source Azurite can copy from: a blob in the same account, read through a SAS URL.
    source = clients.container(settings, settings.chunks_container).get_blob_client("src.gz")
    source.upload_blob((SAMPLES / RELEASES).read_bytes())
    account_key = source.credential.account_key
    sas = generate_blob_sas(
        source.account_name,
        source.container_name,
        source.blob_name,
        account_key=account_key,
        permission=BlobSasPermissions(read=True),
        expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    store = RunStore(settings)

    def point_at_source(f):
        f.url = f"{source.url}?{sas}"
        return True

    store.update_file(STAMP, 1, "releases", point_at_source)
    assert handle_fetch(settings, _releases_message(), driver.fetch_options) == (
        "server-side copy started"
    )
    assert store.get_file(STAMP, 1, "releases").state == FileState.COPYING  # type: ignore[union-attr]
    deadline = time.monotonic() + 15
    while (outcome := handle_fetch(settings, _releases_message(), driver.fetch_options)).startswith(
        "server-side copy pending"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert outcome.startswith("fetched")  # a copy is verified by the split's hash
    file = store.get_file(STAMP, 1, "releases")
    assert file is not None and file.sha256 is None
    assert _blob_bytes(settings, file.blob) == (SAMPLES / RELEASES).read_bytes()


def test_server_copy_is_used_only_outside_azurite(pipeline_settings: Settings) -> None:
    assert not use_server_copy(pipeline_settings)
    azure = pipeline_settings.model_copy(
        update={"storage_connection_string": None, "storage_account_name": "cratedigger"}
    )
    assert use_server_copy(azure)


def test_a_duplicate_fetch_message_does_not_stream_the_file_twice(
    driver: Driver, dump_host: DumpHost
) -> None:
    _fetch_checksum_then(driver)
    store = RunStore(driver.settings)

    def streaming_elsewhere(f):
        f.state, f.heartbeat_at = FileState.FETCHING, dt.datetime.now(dt.UTC)
        return True

    store.update_file(STAMP, 1, "releases", streaming_elsewhere)
    outcome = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert outcome == "ignored: another instance is streaming this file"
    assert dump_host.downloads(RELEASES) == []

    def fetcher_died(f):
        f.heartbeat_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)
        return True

    store.update_file(STAMP, 1, "releases", fetcher_died)  # its lease lapsed
    assert handle_fetch(driver.settings, _releases_message(), driver.fetch_options).startswith(
        "verified"
    )


def test_a_landing_page_without_folder_links_falls_back_to_year_folders(
    pipeline_settings: Settings,
) -> None:
    this_year = dt.datetime.now(dt.UTC).year
    stamp = f"{this_year}0101"
    month = {
        f"discogs_{stamp}_{e}.xml.gz": (SAMPLES / f"discogs_{STAMP}_{e}.xml.gz").read_bytes()
        for e in ENTITIES
    }
    with DumpHost.serving({stamp: month}) as host:
        host.landing_links = False
        settings = pipeline_settings.model_copy(update={"discogs_dump_base_url": host.base_url})
        month_found = newest_complete(read_index(settings))
        assert month_found is not None and month_found.dump_date == dt.date(this_year, 1, 1)
        assert [r.query.get("prefix") for r in host.requests] == [None, f"data/{this_year}/"]


class _RefusingCopy:
    """Azure's Copy Blob cannot run against Azurite with an external source: record the URL the
    fetch would hand to it, then refuse like Azure does when the source probe fails."""

    def __init__(self) -> None:
        self.sources: list[str] = []

    def start(self, source_url: str, target) -> str:
        self.sources.append(source_url)
        raise CopyUnavailableError("CannotVerifyCopySource")

    def progress(self, target, copy_id: str):
        raise AssertionError("never started")


def test_redirected_downloads_copy_from_the_final_url_and_stream_through_redirects(
    driver: Driver, dump_host: DumpHost
) -> None:
    dump_host.faults.redirect_downloads = True
    dump_host.faults.drop_after[RELEASES] = [300_000]
    copier = _RefusingCopy()
    driver.fetch_options.server_copy = copier
    _fetch_checksum_then(driver)
    outcome = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert outcome.startswith("verified")
    assert copier.sources == [f"{dump_host.base_url}/files/data/2020/{RELEASES}"]
    ranges = [r.range for r in dump_host.downloads(RELEASES) if r.path.startswith("/files/")]
    assert ranges == [None, "bytes=262144-"]  # the resume's Range survived the redirect
    file = RunStore(driver.settings).get_file(STAMP, 1, "releases")
    assert file is not None and file.copy_failed
    assert _blob_bytes(driver.settings, file.blob) == (SAMPLES / RELEASES).read_bytes()


class _StuckCopy:
    """A copy that never finishes (Azure keeps a pending copy for up to two weeks)."""

    def __init__(self) -> None:
        self.aborted: list[str] = []

    def start(self, source_url: str, target) -> str:
        return "copy-1"

    def progress(self, target, copy_id: str) -> CopyProgress:
        return CopyProgress("pending", copied=1)

    def abort(self, target, copy_id: str) -> None:
        self.aborted.append(copy_id)


def test_a_stuck_server_copy_is_aborted_and_the_file_streamed(
    driver: Driver, dump_host: DumpHost
) -> None:
    copier = _StuckCopy()
    driver.fetch_options.server_copy = copier
    _fetch_checksum_then(driver)
    assert handle_fetch(driver.settings, _releases_message(), driver.fetch_options) == (
        "server-side copy started"
    )
    store = RunStore(driver.settings)
    assert handle_fetch(driver.settings, _releases_message(), driver.fetch_options).startswith(
        "server-side copy pending"
    )

    def started_long_ago(f):
        f.started_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
        return True

    store.update_file(STAMP, 1, "releases", started_long_ago)
    outcome = handle_fetch(driver.settings, _releases_message(), driver.fetch_options)
    assert outcome.startswith("verified") and copier.aborted == ["copy-1"]
    assert store.get_file(STAMP, 1, "releases").copy_failed  # type: ignore[union-attr]
