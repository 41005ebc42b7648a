"""`make demo`: run the function app locally end to end and show what it reports.

Starts the app in the local runner (services and migrations are prepared by the Makefile), calls
it over HTTP like a user would, prints the results, and stops the runner again. Exits non-zero
when the app is not healthy.
"""

from __future__ import annotations

import json
import logging
import sys

import httpx

from shared.settings import SettingsError, get_settings
from shared.storage.clients import ensure_storage
from tests.support.funchost import LocalFunctionHost
from tests.support.localenv import apply_local_settings
from tests.support.services import port_open

PREFERRED_PORT = 7071


def _print_health(report: dict, status_code: int) -> None:
    print(f"\nGET /api/health -> {status_code} ({report.get('status')})\n")
    print(f"  {'part':<10} {'status':<7} {'ms':>7}  detail")
    for name, check in report.get("checks", {}).items():
        detail = check.get("error") or json.dumps(check.get("detail"))
        print(f"  {name:<10} {check['status']:<7} {check['duration_ms']:>7.1f}  {detail}")
    print("\nRaw report:\n" + json.dumps(report, indent=2))


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    apply_local_settings()
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ensure_storage(settings)
    from function_app import app

    port = 0 if port_open(PREFERRED_PORT) else PREFERRED_PORT
    with LocalFunctionHost(app, settings, port=port, timers=False) as host:
        print(f"cratedigger is running locally at {host.base_url}")
        print(f"functions: {', '.join(sorted(host.specs))}")
        response = httpx.get(f"{host.base_url}/api/health", timeout=30)
        _print_health(response.json(), response.status_code)
    print("\nTry it yourself: `make serve`, then `curl http://127.0.0.1:7071/api/health`")
    return 0 if response.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
