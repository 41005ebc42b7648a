"""CHECKSUM.txt parsing: Discogs' single-space form, sha256sum's forms, order and case."""

from __future__ import annotations

import pytest

from shared.pipeline.checksums import ChecksumFormatError, parse_checksums

A = "a" * 64
B = "B" * 64


def test_single_space_any_order_and_upper_case_hex() -> None:
    text = f"{B} discogs_20261101_releases.xml.gz\n{A} discogs_20261101_artists.xml.gz\n"
    assert parse_checksums(text.encode()) == {
        "discogs_20261101_releases.xml.gz": "b" * 64,
        "discogs_20261101_artists.xml.gz": A,
    }


@pytest.mark.parametrize("separator", ["  ", " *", "\t", "   *"])
def test_sha256sum_separators(separator: str) -> None:
    assert parse_checksums(f"{A}{separator}discogs_x.xml.gz\r\n\n") == {"discogs_x.xml.gz": A}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("nothex discogs_x.xml.gz\n", "line 1"),
        (f"{A}\n", "line 1"),
        (f"{A} x\n{B} x\n", "twice"),
    ],
)
def test_malformed_checksum_files_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ChecksumFormatError, match=message):
        parse_checksums(text)


def test_non_utf8_is_rejected() -> None:
    with pytest.raises(ChecksumFormatError, match="UTF-8"):
        parse_checksums(b"\xff\xfe" + A.encode())
