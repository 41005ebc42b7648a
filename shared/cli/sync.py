"""Sync one user's Discogs account in the foreground: progress on stderr, summary at the end."""

from __future__ import annotations

import argparse
import json
import sys

from shared.discogs.errors import InvalidUsernameError
from shared.settings import get_settings
from shared.sync.jobs import Job
from shared.sync.scope import SyncRequestError, parse_scope
from shared.sync.service import SyncConflictError, run_foreground

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CONFLICT, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("username", help="Discogs username")
    parser.add_argument(
        "--scope",
        default="collection,wantlist,inventory,value",
        help="comma-separated: collection,wantlist,inventory,value (default: all)",
    )
    parser.add_argument(
        "--full", action="store_true", help="full reconcile: detect changes and removals"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")


def _progress(job: Job) -> None:
    phase = job.cursor.get("phase", "")
    totals = job.totals()
    known = sum(job.pages_total.values()) if job.pages_total else "?"
    print(
        f"\r{job.username}: {phase:<15} pages {job.pages_done}/{known}  "
        f"+{totals['added']} ~{totals['updated']} -{totals['removed']} ={totals['unchanged']}  "
        f"requests {job.requests_used}",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _print_summary(summary: dict) -> None:
    print(f"sync {summary['id']} for {summary['username']}: {summary['state']}")
    print(f"  scope      {', '.join(summary['scope'])}{' (full)' if summary['full'] else ''}")
    print(
        f"  items      added {summary['added']}, updated {summary['updated']}, "
        f"removed {summary['removed']}, unchanged {summary['unchanged']}"
    )
    print(f"  pages      {summary['pages_done']}")
    print(f"  requests   {summary['requests_used']}")
    print(f"  duration   {summary['duration_seconds']} s")
    for error in summary["errors"]:
        print(f"  error      [{error['phase']}] {error['kind']}: {error['message']}")


def run(args: argparse.Namespace) -> int:
    try:
        scope = parse_scope(args.scope)
        job = run_foreground(
            get_settings(),
            args.username,
            scope,
            args.full,
            progress=_progress,
        )
    except (SyncRequestError, InvalidUsernameError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SyncConflictError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFLICT
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(file=sys.stderr)
    summary = job.summary()
    if args.json:
        print(json.dumps(summary))
    else:
        _print_summary(summary)
    return EXIT_OK if job.state == "succeeded" else EXIT_FAILED
