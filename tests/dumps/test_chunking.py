"""Splitting decompressed dumps into self-contained chunks at top-level record boundaries."""

from __future__ import annotations

import datetime
import io

import pytest
from lxml import etree

from shared.dumps import chunking
from shared.dumps.chunking import ChunkFormatError, chunk_id, split_records
from shared.dumps.parser import parse_chunk
from tests.dumps.samples import document, sample_bytes


@pytest.mark.parametrize("entity", ["artists", "labels", "masters", "releases"])
@pytest.mark.parametrize("target", [1, 20_000, 10_000_000])
def test_chunks_are_wellformed_and_cover_every_record_once(entity: str, target: int) -> None:
    data = sample_bytes(entity)
    chunks = list(split_records(io.BytesIO(data), entity, target))
    assert [chunk.sequence for chunk in chunks] == list(range(len(chunks)))
    if target == 1:
        assert len(chunks) == 1000  # one record per chunk
    if target == 10_000_000:
        assert len(chunks) == 1
    assert sum(chunk.record_count for chunk in chunks) == 1000
    ids = []
    for chunk in chunks:
        root = etree.fromstring(chunk.data)  # each chunk is a document of its own
        assert root.tag == entity
        assert len(root) == chunk.record_count
        # first_byte_offset points at the chunk's first record in the stream
        first = data[chunk.first_byte_offset : chunk.first_byte_offset + 8]
        assert first.startswith(f"<{entity[:-1]}".encode())
        ids += [record.get("id") or record.findtext("id") for record in root]
    assert ids == [record.get("id") or record.findtext("id") for record in etree.fromstring(data)]


def test_records_spanning_read_buffers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunking, "READ_BYTES", 7)  # every record spans many reads
    data = sample_bytes("labels")
    chunks = list(split_records(io.BytesIO(data), "labels", 5_000))
    assert sum(chunk.record_count for chunk in chunks) == 1000
    joined = b"".join(chunk.data[len(b"<labels>\n") : -len(b"</labels>\n")] for chunk in chunks)
    assert joined.strip() == data[len(b"<labels>\n") : data.rindex(b"</labels>")].strip()


def test_nested_same_name_tags_never_cut_a_record() -> None:
    # A nested </label> followed by a newline (and a line starting with <label id=…>) is not a
    # top-level boundary; only </label>\n<label> is.
    records = [
        '<label><id>1</id><name>Parent</name><sublabels><label id="2">Child</label>\n'
        '<label id="3">Other</label>\n</sublabels></label>',
        "<label><id>2</id><name>Child</name></label>",
    ]
    data = document("labels", *records)
    chunks = list(split_records(io.BytesIO(data), "labels", 1))
    assert [chunk.record_count for chunk in chunks] == [1, 1]
    parsed = parse_chunk(chunks[0].data, "labels")
    assert parsed.rows("label_sublabels") == [("1", "1", "2", "Child"), ("1", "2", "3", "Other")]


def test_old_dumps_without_root_element_and_with_xml_declaration() -> None:
    bare = b'<?xml version="1.0" encoding="UTF-8"?>\n<release id="1"><title>A</title></release>\n'
    bare += b'<release id="2"><title>B</title></release>\n'
    chunks = list(split_records(io.BytesIO(bare), "releases", 1))
    assert [etree.fromstring(chunk.data)[0].get("id") for chunk in chunks] == ["1", "2"]


def test_wrong_root_element_is_rejected() -> None:
    with pytest.raises(ChunkFormatError, match=r"expected the root element <releases>"):
        list(split_records(io.BytesIO(sample_bytes("labels")), "releases", 1000))


def test_chunk_ids_are_deterministic() -> None:
    assert chunk_id(datetime.date(2026, 11, 1), "releases", 42) == "20261101-releases-000042"
    with pytest.raises(ValueError, match="unknown entity"):
        chunk_id(datetime.date(2026, 11, 1), "users", 1)


def test_root_element_with_attributes_is_accepted() -> None:
    data = b'<releases version="2026">\n<release id="1"><title>A</title></release>\n</releases>\n'
    (chunk,) = split_records(io.BytesIO(data), "releases", 1000)
    assert chunk.record_count == 1 and etree.fromstring(chunk.data)[0].get("id") == "1"
