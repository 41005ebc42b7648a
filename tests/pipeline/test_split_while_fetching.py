"""Split while fetching (FetchOptions.split_while_fetching, on in the function app): one stream
from the real local dump host feeds both the staged blocks and the chunker, so chunks are enqueued
while the file is still downloading; restarts neither duplicate nor lose chunks; a checksum
mismatch found at the end fails the run and leaves the served month alone."""

from __future__ import annotations

import gzip
import io

import pytest

from shared.db.connection import connect
from shared.dumps.chunking import split_records
from shared.pipeline.chunkblob import download_chunk
from shared.pipeline.entities import ENTITIES
from shared.pipeline.fetch import handle_fetch
from shared.pipeline.messages import FetchMessage
from shared.pipeline.model import FileState, RunState
from shared.pipeline.runstore import RunStore
from shared.pipeline.service import discover
from shared.settings import Settings
from shared.storage import clients
from tests.pipeline.conftest import SAMPLES, STAMP, Driver
from tests.pipeline.test_fetch import _fetch_checksum_then
from tests.pipeline.test_flow import (
    RECORDS_PER_SAMPLE,
    _queued,
    _renamed_month,
    _served_counts,
)
from tests.support.dump_host import DumpHost

RELEASES = f"discogs_{STAMP}_releases.xml.gz"


@pytest.fixture
def inline(driver: Driver) -> Driver:
    driver.fetch_options.split_while_fetching = True
    return driver


def _expected_chunks(entity: str, target: int) -> dict[int, bytes]:
    """What the ordinary split cuts from the same file (the chunking is deterministic)."""
    data = gzip.decompress((SAMPLES / f"discogs_{STAMP}_{entity}.xml.gz").read_bytes())
    return {c.sequence: c.data for c in split_records(io.BytesIO(data), entity, target)}


def _chunk_bytes(settings: Settings, blob: str) -> bytes:
    container = clients.container(settings, settings.chunks_container)
    return download_chunk(container.get_blob_client(blob))  # stored gzip-compressed


def test_the_month_is_split_by_its_fetch_whole_and_equal_to_the_split_after_fetch(
    inline: Driver, dump_host: DumpHost
) -> None:
    settings = inline.settings
    _fetch_checksum_then(inline)
    inline.run_until_idle([settings.fetch_queue])
    # No split message at all: every file was verified and split by its fetch.
    assert inline.receive(settings.split_queue) is None
    assert all(out.startswith(("verified and split", "checksums")) for _, out in inline.log)
    files = {f.kind: f for f in RunStore(settings).list_files(STAMP, 1)}
    messages = _queued(settings, settings.load_queue)
    for entity in ENTITIES:
        expected = _expected_chunks(entity, settings.chunk_target_bytes)
        file = files[entity]
        assert file.state == FileState.SPLIT and file.chunks == len(expected)
        assert file.sha256 == file.expected_sha256 and file.records_split == RECORDS_PER_SAMPLE
        queued = sorted((m for m in messages if m["entity"] == entity), key=lambda m: m["seq"])
        assert [m["seq"] for m in queued] == sorted(expected)  # each chunk once
        for message in queued:
            assert _chunk_bytes(settings, message["blob"]) == expected[message["seq"]]
    assert len(dump_host.downloads(RELEASES)) == 1  # one stream fed blocks and chunker
    run = RunStore(settings).get_run(STAMP)
    assert run is not None and run.state == RunState.LOADING
    inline.run_until_idle()
    run = RunStore(settings).get_run(STAMP)
    assert run is not None and run.state == RunState.SUCCEEDED, run
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)


def test_a_dropped_connection_resumes_and_the_splitter_goes_on(
    inline: Driver, dump_host: DumpHost
) -> None:
    dump_host.faults.drop_after[RELEASES] = [300_000]
    _fetch_checksum_then(inline)
    message = FetchMessage(run=STAMP, attempt=1, file="releases")
    outcome = handle_fetch(inline.settings, message, inline.fetch_options)
    assert outcome.startswith("verified and split while fetching")
    assert [r.range for r in dump_host.downloads(RELEASES)] == [None, "bytes=262144-"]
    loads = _queued(inline.settings, inline.settings.load_queue)
    releases = [m for m in loads if m["entity"] == "releases"]
    expected = _expected_chunks("releases", inline.settings.chunk_target_bytes)
    assert sorted(m["seq"] for m in releases) == sorted(expected)  # no duplicate, none lost
    for queued in releases:
        assert _chunk_bytes(inline.settings, queued["blob"]) == expected[queued["seq"]]


def test_a_fetch_that_gives_up_half_way_leaves_its_chunks_and_the_split_resumes(
    inline: Driver, dump_host: DumpHost
) -> None:
    """The function ends mid-file (as if its instance died): the chunks cut so far are enqueued
    already — while the file is still downloading — and the restarted fetch plus the ordinary
    split that follows enqueue only the rest."""
    settings = inline.settings
    inline.fetch_options.inline_retries = 0
    dump_host.faults.drop_after[RELEASES] = [600_000]  # 9 blocks staged, ~3.4 MB of XML
    _fetch_checksum_then(inline)
    message = FetchMessage(run=STAMP, attempt=1, file="releases")
    first = handle_fetch(settings, message, inline.fetch_options)
    assert first.startswith("rescheduled")
    store = RunStore(settings)
    waiting = store.get_file(STAMP, 1, "releases")
    assert waiting is not None and waiting.state == FileState.WAITING
    early = [m for m in _queued(settings, settings.load_queue) if m["entity"] == "releases"]
    assert [m["seq"] for m in early] == list(range(waiting.next_sequence))
    assert waiting.next_sequence >= 2  # loading can start before the file is whole
    second = handle_fetch(settings, message, inline.fetch_options)
    assert second.startswith("fetched")  # resumed from the staged blocks, split left to the split
    assert [r.range for r in dump_host.downloads(RELEASES)] == [None, "bytes=589824-"]
    inline.run_until_idle([settings.split_queue])
    file = store.get_file(STAMP, 1, "releases")
    expected = _expected_chunks("releases", settings.chunk_target_bytes)
    assert file is not None and file.state == FileState.SPLIT and file.chunks == len(expected)
    assert file.sha256 == file.expected_sha256  # the split hashed the whole blob
    releases = [m for m in _queued(settings, settings.load_queue) if m["entity"] == "releases"]
    assert sorted(m["seq"] for m in releases) == sorted(expected)  # each chunk enqueued once
    inline.run_until_idle()
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)


def test_a_host_ignoring_range_restarts_fetch_and_splitter_without_duplicates(
    inline: Driver, dump_host: DumpHost
) -> None:
    dump_host.faults.range_support = False
    dump_host.faults.content_length = False  # chunked, like the official host
    dump_host.faults.drop_after[RELEASES] = [400_000]
    _fetch_checksum_then(inline)
    message = FetchMessage(run=STAMP, attempt=1, file="releases")
    outcome = handle_fetch(inline.settings, message, inline.fetch_options)
    assert outcome.startswith("verified and split while fetching")
    assert [r.status for r in dump_host.downloads(RELEASES)] == [200, 200]
    loads = _queued(inline.settings, inline.settings.load_queue)
    releases = [m for m in loads if m["entity"] == "releases"]
    expected = _expected_chunks("releases", inline.settings.chunk_target_bytes)
    assert sorted(m["seq"] for m in releases) == sorted(expected)


def test_a_wrong_checksum_found_at_the_end_fails_the_run_and_leaves_the_served_month(
    inline: Driver,
) -> None:
    settings = inline.settings
    assert discover(settings) is not None
    inline.run_until_idle()
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)
    with DumpHost.serving({"20200901": _renamed_month("20200901")}) as newer:
        newer.faults.wrong_checksum.add("discogs_20200901_labels.xml.gz")
        settings = settings.model_copy(update={"discogs_dump_base_url": newer.base_url})
        inline.settings = settings
        started = discover(settings)
        assert started is not None and started.run is not None
        inline.run_until_idle()
    run = RunStore(settings).get_run("20200901")
    assert run is not None and run.state == RunState.FAILED
    assert run.reason and run.reason.startswith("labels: SHA-256 mismatch")
    labels = RunStore(settings).get_file("20200901", 1, "labels")
    assert labels is not None and labels.state == FileState.FAILED
    assert labels.next_sequence >= 1  # its chunks were cut before the end revealed the mismatch
    assert _served_counts(settings) == dict.fromkeys(ENTITIES, RECORDS_PER_SAMPLE)
    with connect(settings) as conn:
        months = dict(conn.execute("SELECT dump_date::text, status FROM loader.months").fetchall())
        ledger = conn.execute(
            "SELECT expected_chunks ? 'labels', finalize_state FROM pipeline.months "
            "WHERE dump_date = '2020-09-01'"
        ).fetchone()
    assert months["2020-08-06"] == "served" and months.get("2020-09-01") != "served"
    assert ledger == (False, "waiting")  # the mismatching file never reached the ledger
