"""Chunk blobs are stored gzip-compressed; the loader reads them and older plain-XML chunks alike,
and a corrupt compressed chunk fails loudly and is poisoned instead of loading as empty."""

from __future__ import annotations

import gzip
import io
import queue
import threading

import pytest

from shared.dumps.chunking import split_records
from shared.pipeline.chunkblob import (
    CHUNK_CONTENT_SETTINGS,
    ChunkBlobError,
    decode_chunk,
    download_chunk,
    encode_chunk,
    upload_chunk,
)
from shared.pipeline.chunksender import IN_FLIGHT_CHUNKS, OrderedSender, put_while_alive
from shared.pipeline.model import ChunkState, RunState
from shared.pipeline.runstore import RunStore
from shared.pipeline.service import retry_run, run_status
from shared.settings import Settings
from shared.storage import clients
from tests.pipeline.conftest import SAMPLES, STAMP, Driver
from tests.pipeline.test_flow import (
    RECORDS_PER_SAMPLE,
    _queued,
    _run_fetch_and_split,
    _served_counts,
)

ENTITY_COUNTS = dict.fromkeys(("artists", "labels", "masters", "releases"), RECORDS_PER_SAMPLE)


def _sample_chunk(entity: str = "releases", target: int = 1 << 20) -> bytes:
    data = gzip.decompress((SAMPLES / f"discogs_{STAMP}_{entity}.xml.gz").read_bytes())
    return next(iter(split_records(io.BytesIO(data), entity, target))).data


def test_a_compressed_chunk_round_trips_byte_identical(settings: Settings) -> None:
    xml = _sample_chunk()
    blob = clients.container(settings, settings.chunks_container).get_blob_client("x/000000.xml")
    uploaded = upload_chunk(blob, xml)
    properties = blob.get_blob_properties()
    assert properties.content_settings.content_encoding == "gzip"
    assert properties.size == uploaded < len(xml) / 3  # chunk XML compresses well
    assert blob.download_blob(decompress=False).readall()[:2] == b"\x1f\x8b"
    assert download_chunk(blob) == xml


def test_a_plain_chunk_blob_reads_as_it_is(settings: Settings) -> None:
    xml = _sample_chunk("labels")
    blob = clients.container(settings, settings.chunks_container).get_blob_client("x/000001.xml")
    blob.upload_blob(xml)  # as the split stored chunks before compression
    assert blob.get_blob_properties().content_settings.content_encoding is None
    assert download_chunk(blob) == xml


def test_gzip_is_recognised_without_its_content_encoding() -> None:
    xml = _sample_chunk("masters")
    assert decode_chunk(encode_chunk(xml), None) == xml  # re-uploaded by hand, no properties


@pytest.mark.parametrize(
    ("stored", "match"),
    [
        (encode_chunk(b"<releases><release id='1'/></releases>")[:-9], "not a valid gzip"),
        (b"<releases></releases>", "not a valid gzip"),  # says gzip, holds plain XML
        (encode_chunk(b""), "decompresses to nothing"),
    ],
)
def test_a_corrupt_gzip_chunk_is_an_error_not_an_empty_chunk(stored: bytes, match: str) -> None:
    with pytest.raises(ChunkBlobError, match=match):
        decode_chunk(stored, "gzip", "r/a1/releases/000003.xml")


def test_the_sender_keeps_order_and_bounds_what_is_in_flight() -> None:
    release = threading.Event()
    sent: list[int] = []

    def send(item: int) -> None:
        release.wait()
        sent.append(item)

    sender: OrderedSender[int] = OrderedSender(send)
    submitted = []

    def submit_all() -> None:
        for i in range(10):
            sender.submit(i)
            submitted.append(i)

    producer = threading.Thread(target=submit_all)
    producer.start()
    producer.join(timeout=1.0)
    # One item is being sent (blocked), IN_FLIGHT_CHUNKS wait; the producer waits for room.
    assert producer.is_alive() and len(submitted) == IN_FLIGHT_CHUNKS + 1
    release.set()
    producer.join()
    sender.finish()
    assert sent == list(range(10)) and sender.sent == 10


def test_a_send_failure_reaches_the_caller_and_stops_sending() -> None:
    sent: list[int] = []

    def send(item: int) -> None:
        if item == 3:
            raise OSError("upload refused")
        sent.append(item)

    sender: OrderedSender[int] = OrderedSender(send)
    with pytest.raises(OSError, match="upload refused"):
        for i in range(20):
            sender.submit(i)
        sender.finish()
    sender.abort()
    assert sent == [0, 1, 2] and sender.sent == 3


def test_a_full_queue_whose_consumer_ended_does_not_hold_the_producer() -> None:
    items: queue.Queue[int] = queue.Queue(maxsize=1)
    taken: list[int] = []
    release = threading.Event()

    def consume_two() -> None:
        taken.extend([items.get(), items.get()])
        release.wait()  # stays alive until the producer has queued 3

    consumer = threading.Thread(target=consume_two)
    consumer.start()
    for i in (1, 2, 3):  # waits while the queue is full and the consumer is alive
        put_while_alive(items, i, consumer)
    release.set()
    consumer.join()
    put_while_alive(items, 4, consumer)  # full (3) and nobody will take it: dropped, no hang
    assert taken == [1, 2] and items.qsize() == 1 and items.get_nowait() == 3


def test_a_month_split_before_compression_still_loads(driver: Driver) -> None:
    settings = driver.settings
    _run_fetch_and_split(driver)
    chunks = clients.container(settings, settings.chunks_container)
    loads = _queued(settings, settings.load_queue)
    assert len(loads) >= 4
    dumps = {
        entity: gzip.decompress((SAMPLES / f"discogs_{STAMP}_{entity}.xml.gz").read_bytes())
        for entity in ENTITY_COUNTS
    }
    for message in loads:  # every chunk as the split stored it before: plain XML, no encoding
        blob = chunks.get_blob_client(message["blob"])
        assert blob.get_blob_properties().content_settings.content_encoding == "gzip"
        xml = download_chunk(blob)
        # The split's gzip blob holds exactly the chunk the chunking cuts (deterministic).
        entity, target = message["entity"], settings.chunk_target_bytes
        cut = split_records(io.BytesIO(dumps[entity]), entity, target)
        assert xml == next(c.data for c in cut if c.sequence == message["seq"])
        blob.upload_blob(xml, overwrite=True)
    driver.run_until_idle()
    assert RunStore(settings).get_run(STAMP).state == RunState.SUCCEEDED  # type: ignore[union-attr]
    assert _served_counts(settings) == ENTITY_COUNTS


def test_a_corrupt_compressed_chunk_is_poisoned_with_a_clear_error(driver: Driver) -> None:
    settings = driver.settings
    _run_fetch_and_split(driver)
    target = next(
        m
        for m in _queued(settings, settings.load_queue)
        if (m["entity"], m["seq"]) == ("releases", 1)
    )
    blob = clients.container(settings, settings.chunks_container).get_blob_client(target["blob"])
    good = blob.download_blob(decompress=False).readall()
    blob.upload_blob(
        good[: len(good) // 2], overwrite=True, content_settings=CHUNK_CONTENT_SETTINGS
    )
    driver.run_until_idle()
    run = RunStore(settings).get_run(STAMP)
    assert run is not None and run.state == RunState.LOADING  # not finalized with a hole
    [problem] = run_status(settings, STAMP).problems
    assert (problem.entity, problem.seq, problem.state) == ("releases", 1, ChunkState.POISONED)
    assert problem.error and "ChunkBlobError" in problem.error
    assert "not a valid gzip" in problem.error and target["blob"] in problem.error
    # The good bytes come back; the retry loads the chunk and the month completes in full.
    blob.upload_blob(good, overwrite=True, content_settings=CHUNK_CONTENT_SETTINGS)
    assert retry_run(settings, STAMP).chunks == [("releases", 1)]
    driver.run_until_idle()
    assert RunStore(settings).get_run(STAMP).state == RunState.SUCCEEDED  # type: ignore[union-attr]
    assert _served_counts(settings) == ENTITY_COUNTS
