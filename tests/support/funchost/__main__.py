"""`python -m tests.support.funchost serve|run|list`: the local stand-in for `func start`."""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading

from shared.settings import SettingsError, get_settings
from shared.storage.clients import ensure_storage
from tests.support.funchost.config import ROOT
from tests.support.funchost.host import HostError, LocalFunctionHost
from tests.support.localenv import apply_local_settings


def _load_app():
    sys.path.insert(0, str(ROOT))
    return importlib.import_module("function_app").app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.funchost")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the function app until interrupted")
    serve.add_argument("--port", type=int, default=7071)
    serve.add_argument("--no-queues", action="store_true")
    serve.add_argument("--no-timers", action="store_true")
    run = commands.add_parser("run", help="invoke one timer or queue function once")
    run.add_argument("name")
    run.add_argument("--input", default=None, help="queue message body")
    commands.add_parser("list", help="list the functions the app declares")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    apply_local_settings()
    try:
        settings = get_settings()
        host = LocalFunctionHost(
            _load_app(),
            settings,
            port=getattr(args, "port", 0),
            queues=args.command == "serve" and not args.no_queues,
            timers=args.command == "serve" and not args.no_timers,
            timer_status_dir=ROOT / ".local" / "funchost" / "timers",
        )
    except (SettingsError, HostError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.command == "list":
        for spec in host.specs.values():
            target = spec.route or spec.queue_name or spec.schedule
            print(f"{spec.name}: {spec.kind} {target} {spec.methods or ''}".rstrip())
        return 0
    if args.command == "run":
        try:
            host.run_function(args.name, args.input)
        except KeyError:
            print(f"error: no function named {args.name!r}", file=sys.stderr)
            return 2
        except Exception:
            return 1
        return 0

    ensure_storage(settings)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with host:
        print("\nFunctions:\n")
        for spec in host.specs.values():
            if spec.kind == "http":
                methods = ",".join(spec.methods) or "ALL"
                url = f"{host.base_url}/{host.config.route_prefix}/{spec.route}"
                print(f"  {spec.name}: [{methods}] {url}")
            else:
                print(f"  {spec.name}: {spec.kind}Trigger {spec.queue_name or spec.schedule}")
        print(f"\nHost running on {host.base_url} (Ctrl+C to stop)\n", flush=True)
        stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
