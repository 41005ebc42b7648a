"""Paths and helpers for the dump test data in tests/data/discogs/."""

from __future__ import annotations

import gzip
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "discogs"
SAMPLES_2020 = DATA / "20200806"
SAMPLES_2017 = DATA / "20170401-head50"
SINGLE_RECORDS = DATA / "single-records"
TAR_NOT_GZIP = DATA / "negative" / "artists_tar_not_gzip.xml.gz"


def sample_path(entity: str) -> Path:
    return SAMPLES_2020 / f"discogs_20200806_{entity}.xml.gz"


def sample_bytes(entity: str) -> bytes:
    return gzip.decompress(sample_path(entity).read_bytes())


def document(entity: str, *records: str) -> bytes:
    """A dump document as the chunker makes it: root element, one record per line."""
    body = "".join(record.strip() + "\n" for record in records)
    return f"<{entity}>\n{body}</{entity}>\n".encode()
