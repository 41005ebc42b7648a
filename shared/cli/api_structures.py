"""Rebuild the served month's API structures (search documents and index, statistics facts)."""

from __future__ import annotations

import argparse
import sys
import time

from shared.db.connection import connect
from shared.queries.finalize import build_api_structures
from shared.queries.served import dump_served
from shared.settings import get_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Rebuild the API structures of the served month in place, in one transaction (the"
        " API's reads wait until it commits: minutes at full size). Needed once after an"
        " upgrade whose search or statistics structures changed, for a month built before it;"
        " each month's ingestion builds them anyway."
    )


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    with connect(settings, autocommit=True) as conn:
        if not dump_served(conn):
            print("error: no dump month is served", file=sys.stderr)
            return 1
        started = time.perf_counter()
        build_api_structures(conn)
    print(f"API structures of the served month rebuilt in {time.perf_counter() - started:.1f} s")
    return 0
