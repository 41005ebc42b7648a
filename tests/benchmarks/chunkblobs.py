"""Chunk blobs raw vs gzip-compressed: does compressing make the releases split faster?

    python -m tests.benchmarks chunkblobs      (writes its section of docs/benchmarks.md)
    python -m tests.benchmarks.chunkblobs [--releases N]   (prints JSON only)

One generated current-format releases dump (shared.dumps.generate, gzip level 1 like the real
dumps' ratio) is split the way the split worker does it (python-isal decompression,
shared.dumps.chunking into 1 MiB chunks, the ordered sender thread uploading each chunk) into a
fresh Azurite container, once storing chunks raw (the split before compression) and once per
isal level 0/1/2, same data, same run. Reported per variant: MB/s of XML split (wall), bytes
uploaded, CPU seconds of this process (all threads; Azurite's own CPU is not in it) and the ratio
of those against raw. Then the loader side: per-chunk decompression time of the stored chunks
(isal, best of 3) against the chunk's XML size. Load queues are left out: one small message per
chunk either way.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
import time
import uuid

from tests.benchmarks._report import write_section

CHUNK_BYTES = 1024 * 1024
LEVELS = (0, 1, 2)


def _releases_dump(releases: int) -> bytes:
    from shared.dumps.generate import generate_dump

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=1, mtime=0) as gz:
        for piece in generate_dump("releases", releases, seed=7):
            gz.write(piece)
    return out.getvalue()


def split_once(dump: bytes, storage: str, level: int | None) -> dict[str, float]:
    """Split `dump` into chunk blobs of a new container; `level` None stores them raw."""
    from azure.storage.blob import BlobServiceClient

    from shared.dumps.chunking import split_records
    from shared.pipeline.chunkblob import CHUNK_CONTENT_SETTINGS, encode_chunk
    from shared.pipeline.chunksender import OrderedSender
    from shared.pipeline.gzipstream import open_gzip

    service = BlobServiceClient.from_connection_string(storage)
    container = service.create_container(f"bench-chunkblobs-{uuid.uuid4().hex[:8]}")
    uploaded = xml = chunks = 0

    def send(item: tuple[str, bytes]) -> None:
        nonlocal uploaded
        name, data = item
        if level is None:
            container.upload_blob(name, data, overwrite=True, max_concurrency=4)
        else:
            data = encode_chunk(data, level)
            container.upload_blob(
                name,
                data,
                overwrite=True,
                max_concurrency=4,
                content_settings=CHUNK_CONTENT_SETTINGS,
            )
        uploaded += len(data)

    try:
        cpu, wall = time.process_time(), time.perf_counter()
        sender: OrderedSender[tuple[str, bytes]] = OrderedSender(send)
        stream = open_gzip(io.BytesIO(dump))  # type: ignore[arg-type]
        for chunk in split_records(stream, "releases", CHUNK_BYTES):
            sender.submit((f"releases/{chunk.sequence:06d}.xml", chunk.data))
            xml += len(chunk.data)
            chunks += 1
        sender.finish()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        decompress = _codec_cost(container, level) if level is not None else None
    finally:
        container.delete_container()
    result = {
        "chunks": chunks,
        "xml_mb": round(xml / 1e6, 1),
        "uploaded_mb": round(uploaded / 1e6, 2),
        "split_seconds": round(wall, 2),
        "xml_mb_per_s": round(xml / 1e6 / wall, 1),
        "cpu_seconds": round(cpu, 2),
    }
    if decompress is not None:
        result.update(decompress)
    return result


def _codec_cost(container: object, level: int, sample: int = 8) -> dict[str, float]:
    """Per chunk, best of 3 over a few chunks: what the loader pays to decompress (isal), and
    the compression rate of this level alone (one thread, no upload)."""
    from shared.pipeline.chunkblob import download_chunk, encode_chunk

    names = [b.name for b in container.list_blobs()][:sample]  # type: ignore[attr-defined]
    seconds = compress_seconds = xml = 0.0
    for name in names:
        blob = container.get_blob_client(name)  # type: ignore[attr-defined]
        stored = blob.download_blob(decompress=False).readall()
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            data = _decode(stored)
            best = min(best, time.perf_counter() - started)
        assert data == download_chunk(blob)
        seconds += best
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            encode_chunk(data, level)
            best = min(best, time.perf_counter() - started)
        compress_seconds += best
        xml += len(data)
    return {
        "decompress_ms_per_mib_chunk": round(seconds / (xml / CHUNK_BYTES) * 1000, 2),
        "decompress_xml_mb_per_s": round(xml / 1e6 / seconds, 1),
        "compress_xml_mb_per_s": round(xml / 1e6 / compress_seconds, 1),
    }


def _decode(stored: bytes) -> bytes:
    from shared.pipeline.chunkblob import decode_chunk

    return decode_chunk(stored, "gzip")


def run(releases: int) -> dict[str, object]:
    from tests.support import services

    running = services.up(app_database=None)
    dump = _releases_dump(releases)
    storage = running.storage_connection_string
    raw = split_once(dump, storage, None)
    results: dict[str, object] = {"releases": releases, "dump_gzip_mb": round(len(dump) / 1e6, 1)}
    results["raw"] = raw
    for level in LEVELS:
        measured = split_once(dump, storage, level)
        measured["upload_vs_raw"] = round(measured["uploaded_mb"] / raw["uploaded_mb"], 3)
        measured["speed_vs_raw"] = round(measured["xml_mb_per_s"] / raw["xml_mb_per_s"], 2)
        measured["cpu_vs_raw"] = round(measured["cpu_seconds"] / raw["cpu_seconds"], 2)
        results[f"isal_level_{level}"] = measured
    return results


def _write_doc(results: dict) -> None:
    import datetime as dt
    import platform

    variants = ["raw", *(f"isal_level_{level}" for level in LEVELS)]
    raw = results["raw"]
    rows = []
    for name in variants:
        r = results[name]
        rows.append(
            f"| {name.replace('_', ' ')} | {r['xml_mb_per_s']} | "
            f"{r.get('speed_vs_raw', 1.0)}× | {r['uploaded_mb']} | "
            f"{r.get('upload_vs_raw', 1.0)}× | {r['cpu_seconds']} | "
            f"{r.get('cpu_vs_raw', 1.0)}× | {r.get('compress_xml_mb_per_s', '—')} | "
            f"{r.get('decompress_ms_per_mib_chunk', '—')} |"
        )
    write_section(
        "chunkblobs",
        [
            "## Chunk blobs raw vs gzip (issue 4)",
            "",
            f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
            f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end). "
            "Rerun: `python -m tests.benchmarks chunkblobs` (BENCH_CHUNKBLOBS_RELEASES). "
            f"Generated releases dump of {results['releases']:,} releases "
            f"({results['dump_gzip_mb']} MB gzip, {raw['xml_mb']} MB XML) split into "
            f"{raw['chunks']} 1 MiB chunk blobs in Azurite; CPU is this process's (all threads).",
            "",
            "| chunk blobs | XML MB/s split | vs raw | MB uploaded | vs raw | CPU s | vs raw | "
            "compress XML MB/s (1 thread) | loader decompress ms per MiB chunk |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ],
    )


def main() -> None:
    """`python -m tests.benchmarks` entry point: measure, print JSON, rewrite our doc section."""
    results = run(int(os.environ.get("BENCH_CHUNKBLOBS_RELEASES", "20000")))
    print(json.dumps(results, indent=2))
    _write_doc(results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--releases", type=int, default=20000)
    args = parser.parse_args(sys.argv[1:])
    print(json.dumps(run(args.releases), indent=2))
