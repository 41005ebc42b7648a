"""A/B of one loader process: whole-chunk (`parse_chunk`, then `write_parsed_chunk`, what
`load_chunk` did before streaming) vs streamed `load_chunk`, chunk by chunk interleaved (so
both see the same load on this shared machine), into two fresh months of a scratch database.

    python -m tests.support.localenv -- python -m tests.benchmarks._stream_ab \\
        .local/bench/releases-30000-seed1/discogs_20261101_releases.xml.gz [CHUNK_BYTES]

Prints wall seconds, process CPU seconds (both threads) and wall/CPU per path. Without a
quiet machine compare only within one run.
"""

from __future__ import annotations

import datetime
import sys
import time
import uuid

from shared.db.connection import connect
from shared.dumps.chunking import split_records
from shared.dumps.files import open_dump
from shared.dumps.parser import parse_chunk
from shared.loading import load_chunk
from shared.settings import get_settings, load_settings
from tests.benchmarks.dumps import _create_database, _drop_database
from tests.support.whole_chunk import write_parsed_chunk

WHOLE, STREAMED = datetime.date(2027, 1, 1), datetime.date(2027, 2, 1)


def main(path: str, chunk_bytes: int = 16 * 1024 * 1024) -> None:
    server_url = get_settings().database_url.get_secret_value()
    database = f"cd_ab_{uuid.uuid4().hex[:8]}"
    url = _create_database(server_url, database)
    try:
        _measure(url, path, chunk_bytes)
    finally:
        _drop_database(server_url, database)


def _measure(url: str, path: str, chunk_bytes: int) -> None:
    settings = load_settings(database_url=url)
    with open_dump(path) as (file, stream):
        chunks = list(split_records(stream, file.entity, chunk_bytes))
    totals = {"whole": [0.0, 0.0, 0], "streamed": [0.0, 0.0, 0]}
    with connect(settings, autocommit=True) as conn:
        for chunk in chunks:
            order = ("whole", "streamed") if chunk.sequence % 2 == 0 else ("streamed", "whole")
            for name in order:
                wall, cpu = time.perf_counter(), time.process_time()
                if name == "whole":
                    parsed = parse_chunk(
                        chunk.data, file.entity, first_byte_offset=chunk.first_byte_offset
                    )
                    result = write_parsed_chunk(
                        conn, WHOLE, file.entity, chunk.sequence, parsed, settings=settings,
                        data_bytes=len(chunk.data), first_byte_offset=chunk.first_byte_offset,
                    )  # fmt: skip
                else:
                    result = load_chunk(
                        conn, STREAMED, file.entity, chunk.sequence, chunk.data,
                        settings=settings, first_byte_offset=chunk.first_byte_offset,
                    )  # fmt: skip
                totals[name][0] += time.perf_counter() - wall
                totals[name][1] += time.process_time() - cpu
                totals[name][2] += result.record_count
    for name, (wall, cpu, records) in totals.items():
        print(
            f"{file.entity} {name}: {records} records in {len(chunks)} chunks; wall {wall:.2f} s "
            f"({records / wall:,.0f}/s), CPU {cpu:.2f} s ({records / cpu:,.0f}/CPU-s), "
            f"wall/CPU {wall / cpu:.2f}"
        )


if __name__ == "__main__":
    main(sys.argv[1], *(int(arg) for arg in sys.argv[2:3]))
