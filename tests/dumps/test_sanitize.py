# ruff: noqa: E501  (records are easier to read on one line)
"""Byte-level clean-up before parsing: invalid control characters and blank element content."""

from __future__ import annotations

import gzip
import io

import pytest

from shared.dumps.files import DumpFileError, checked_gzip, root_entity
from shared.dumps.parser import parse_chunk
from shared.dumps.sanitize import (
    count_invalid_xml_bytes,
    empty_blank_elements,
    strip_invalid_xml_bytes,
)
from tests.dumps.samples import document, sample_bytes


def test_only_xml_invalid_c0_controls_are_removed() -> None:
    data = "a\x00b\x03c\x07d\te\nf\rg ä €".encode()
    assert strip_invalid_xml_bytes(data) == "abcd\te\nf\rg ä €".encode()
    assert count_invalid_xml_bytes(data) == 3


def test_blank_element_content_is_emptied_real_text_is_not() -> None:
    assert empty_blank_elements(b"<a>\n   </a><b> x </b>") == b"<a></a><b> x </b>"
    same = b"<a>x</a>"
    assert empty_blank_elements(same) is same  # nothing to do: no copy


def test_pretty_printed_and_compact_records_load_the_same() -> None:
    compact = "<artist><id>5</id><name>N</name><anv/><realname></realname></artist>"
    pretty = "<artist>\n  <id>5</id>\n  <name>N</name>\n  <anv>\n  </anv>\n  <realname> </realname>\n</artist>"
    assert (
        parse_chunk(document("artists", compact), "artists").rows("artists")
        == parse_chunk(document("artists", pretty), "artists").rows("artists")
        == [("5", "N", None, None, None)]
    )


def test_invalid_utf8_record_is_quarantined() -> None:
    good = "<label><id>1</id><name>Good</name></label>"
    data = document(
        "labels", good, "<label><id>2</id><name>Bad</name></label>", good.replace("1", "3")
    )
    data = data.replace(b"Bad", b"B\xffd")
    result = parse_chunk(data, "labels")
    assert [row[0] for row in result.rows("labels")] == ["1", "3"]
    (bad,) = result.quarantined
    assert bad.record_id == 2 and "B\ufffdd" in bad.raw


def test_checked_gzip_on_a_stream_and_root_detection() -> None:
    data = sample_bytes("masters")
    stream = checked_gzip(io.BytesIO(gzip.compress(data)), "blob:masters.xml.gz")
    assert stream.read() == data
    assert root_entity(data[:4096]) == "masters"
    assert root_entity(b"<users>") is None
    truncated = checked_gzip(io.BytesIO(gzip.compress(data)[:5000]), "blob:masters.xml.gz")
    with pytest.raises(DumpFileError, match=r"blob:masters\.xml\.gz: truncated gzip"):
        while truncated.read(65536):
            pass
