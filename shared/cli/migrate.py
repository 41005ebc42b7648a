"""Apply pending database migrations and create the storage containers, queues and tables."""

from __future__ import annotations

import argparse

from shared.db.connection import connect
from shared.db.migrations import applied_version, apply_migrations
from shared.settings import get_settings
from shared.storage.clients import ensure_storage


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-storage", action="store_true", help="only migrate the database")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    with connect(settings, autocommit=True, migrate=False) as conn:
        applied = apply_migrations(conn)
        version = applied_version(conn)
    names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none pending"
    print(f"database at migration {version} (applied: {names})")
    if not args.no_storage:
        ensure_storage(settings)
        print("storage containers, queues and tables are in place")
    return 0
