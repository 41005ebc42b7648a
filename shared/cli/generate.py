"""Write a seeded synthetic dump in the current (2026) format (for benchmarks and scale tests).

    python -m shared.cli generate --entity releases --records 200000 \
        --out discogs_20261101_releases.xml.gz [--seed 1]
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

from shared.dumps.entities import ENTITIES
from shared.dumps.generate import generate_dump


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--entity", choices=ENTITIES, required=True)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="FILE.xml or FILE.xml.gz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--control-chars",
        action="store_true",
        help="sprinkle XML-invalid control characters (as old dumps had) into a few records",
    )


def run(args: argparse.Namespace) -> int:
    if args.records < 0:
        print("error: --records must be >= 0", file=sys.stderr)
        return 2
    pieces = generate_dump(
        args.entity, args.records, seed=args.seed, control_chars=args.control_chars
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with (
        gzip.open(args.out, "wb", compresslevel=6)
        if args.out.name.endswith(".gz")
        else args.out.open("wb")
    ) as out:
        for piece in pieces:
            out.write(piece)
            size += len(piece)
    print(f"{args.out}: {args.records:,} {args.entity}, {size:,} bytes of XML", file=sys.stderr)
    return 0
