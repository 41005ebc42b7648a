"""The sequential reader both splits decompress from (shared.pipeline.blobstream)."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from shared.pipeline.blobstream import HashingReader


def test_reader_hands_out_every_piece_in_order_and_hashes_it() -> None:
    data = gzip.compress(b"<releases>" + b"<release/>" * 5000 + b"</releases>")
    pieces = [data[i : i + 777] for i in range(0, len(data), 777)]
    reader = HashingReader(iter(pieces))

    first = reader.read(100)
    reader.drain()

    assert first == data[:100]
    assert reader.bytes_read == len(data)
    assert reader.sha256 == hashlib.sha256(data).hexdigest()
    assert reader.read(10) == b""  # ended, and stays ended


def test_reader_without_hashing_counts_the_same_and_has_no_hash() -> None:
    data = b"abcdefghij" * 1000
    reader = HashingReader(iter([data[:3000], data[3000:]]), hashing=False)

    assert reader.read() == data
    assert reader.bytes_read == len(data)
    with pytest.raises(ValueError, match="hashing=False"):
        _ = reader.sha256
