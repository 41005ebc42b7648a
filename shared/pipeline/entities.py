"""The four dump entities and the names the pipeline gives to their files and blobs."""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

Entity = Literal["artists", "labels", "masters", "releases"]
FileKind = Literal["artists", "labels", "masters", "releases", "checksum"]

# Labels and masters are small: listing them first lets their chunks load while releases split.
ENTITIES: Final[tuple[Entity, ...]] = ("labels", "masters", "artists", "releases")
CHECKSUM: Final = "checksum"
FILE_KINDS: Final[tuple[FileKind, ...]] = (*ENTITIES, CHECKSUM)


def run_id_for(dump_date: dt.date) -> str:
    """Runs are named by their dump date (`YYYYMMDD`), one run per published dump."""
    return dump_date.strftime("%Y%m%d")


def dump_date_of(run_id: str) -> dt.date:
    return dt.datetime.strptime(run_id, "%Y%m%d").date()


def file_name(dump_date: dt.date, kind: FileKind) -> str:
    stamp = run_id_for(dump_date)
    if kind == CHECKSUM:
        return f"discogs_{stamp}_CHECKSUM.txt"
    return f"discogs_{stamp}_{kind}.xml.gz"


def dump_blob_name(dump_date: dt.date, kind: FileKind) -> str:
    """`<YYYYMMDD>/<file name>` inside DUMPS_CONTAINER (i.e. `dumps/<YYYYMMDD>/...`)."""
    return f"{run_id_for(dump_date)}/{file_name(dump_date, kind)}"


def chunk_blob_name(run_id: str, attempt: int, entity: str, sequence: int) -> str:
    """One chunk inside CHUNKS_CONTAINER; the attempt keeps a restarted run's chunks apart."""
    return f"{chunk_blob_prefix(run_id, attempt)}{entity}/{sequence:06d}.xml"


def chunk_blob_prefix(run_id: str, attempt: int) -> str:
    return f"{run_id}/a{attempt}/"
