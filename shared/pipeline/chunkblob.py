"""Chunk blobs as stored: gzip-compressed by the split, decompressed by the loader.

A releases month is ~65 GiB of chunk XML; uploading it raw made the split upload-bound
(docs/scaling.md §6). Chunk XML compresses ~5x even at python-isal's fastest levels, and isal
compresses several times faster than a blob upload moves the raw bytes, so the split compresses
each chunk (on its sender thread, overlapping the dump's decompression) and marks the blob
`Content-Encoding: gzip`. The loader accepts both forms: a month split before this change holds
plain XML chunks and still loads. A blob is taken as gzip when its Content-Encoding says so or
when it starts with the gzip magic (a chunk re-uploaded by hand loses its properties; plain
chunk XML always starts with `<`). Blob names stay `....xml`: the encoding is a property of the
stored bytes, like HTTP's, not a different chunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from azure.storage.blob import ContentSettings

from shared.pipeline.gzipstream import GZIP_ERRORS

if TYPE_CHECKING:
    from azure.storage.blob import BlobClient

try:
    from isal import igzip as _gzip
except ImportError:  # pragma: no cover - isal is pinned in requirements.txt
    import gzip as _gzip  # type: ignore[no-redef]

# isal level 1 (tests/benchmarks/chunkblobs.py): nearly level 0's speed at a clearly better ratio.
CHUNK_COMPRESS_LEVEL = 1
GZIP_MAGIC = b"\x1f\x8b"
CHUNK_CONTENT_SETTINGS = ContentSettings(content_type="application/xml", content_encoding="gzip")


class ChunkBlobError(ValueError):
    """A chunk blob that claims to be gzip but does not decompress (permanent: poison it)."""


def encode_chunk(data: bytes, level: int = CHUNK_COMPRESS_LEVEL) -> bytes:
    """The bytes to store for one chunk's XML (mtime 0: the same chunk gives the same blob)."""
    return _gzip.compress(data, compresslevel=level, mtime=0)


def is_gzip(data: bytes, content_encoding: str | None) -> bool:
    return (content_encoding or "").strip().lower() == "gzip" or data[:2] == GZIP_MAGIC


def decode_chunk(data: bytes, content_encoding: str | None, name: str = "chunk") -> bytes:
    """A stored chunk's XML: decompressed if it is gzip, as it is if it is plain (older runs)."""
    if not is_gzip(data, content_encoding):
        return data
    try:
        xml = _gzip.decompress(data)
    except GZIP_ERRORS as exc:
        raise ChunkBlobError(
            f"chunk blob {name} is not a valid gzip stream ({len(data)} bytes stored): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not xml:
        # An empty member would load as a chunk of zero records and silently lose them.
        raise ChunkBlobError(f"chunk blob {name} decompresses to nothing ({len(data)} bytes)")
    return xml


def upload_chunk(container_blob: BlobClient, xml: bytes) -> int:
    """Compress and upload one chunk (overwriting: a resumed split re-cuts the same bytes);
    returns the bytes uploaded."""
    stored = encode_chunk(xml)
    container_blob.upload_blob(
        stored, overwrite=True, content_settings=CHUNK_CONTENT_SETTINGS, max_concurrency=4
    )
    return len(stored)


def download_chunk(blob: BlobClient) -> bytes:
    """One chunk's XML, whichever way it was stored (raises ResourceNotFoundError if gone)."""
    # decompress=False: the SDK would otherwise undo Content-Encoding itself, silently and with
    # no clear error for a corrupt blob; decoding here treats every stored form alike.
    downloader = blob.download_blob(decompress=False)
    data = downloader.readall()
    encoding = downloader.properties.content_settings.content_encoding
    return decode_chunk(data, encoding, blob.blob_name)
