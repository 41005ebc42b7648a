"""Parse only, no database: decompress, `split_records` and `parse_chunk` every chunk of FILE
with one record extractor, rows built and dropped (`make bench`'s "parse only" rows, which
isolate the extractor from COPY and PostgreSQL).

`python -m tests.benchmarks._parse_only {compiled|python} ENTITY FILE CHUNK_BYTES` prints
{"records": N}.
"""

from __future__ import annotations

import gzip
import json
import sys

from shared.dumps.chunking import split_records
from shared.dumps.parser import parse_chunk


def main(argv: list[str]) -> int:
    mode, entity, path, chunk_bytes = argv
    records = 0
    with gzip.open(path, "rb") as stream:
        for chunk in split_records(stream, entity, int(chunk_bytes)):
            result = parse_chunk(chunk.data, entity, compiled=mode == "compiled")
            records += result.record_count
    print(json.dumps({"records": records}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
