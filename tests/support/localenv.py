"""Run a command with the local settings file merged under the environment.

Mirrors what `func start` does with local.settings.json: its `Values` become environment variables,
and variables already set (e.g. DATABASE_URL) win. Without local.settings.json the committed
example is used, so a fresh clone works as it is.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def local_settings_file() -> Path:
    own = ROOT / "local.settings.json"
    return own if own.exists() else ROOT / "local.settings.example.json"


def local_values() -> dict[str, str]:
    values = json.loads(local_settings_file().read_text())["Values"]
    return {key: str(value) for key, value in values.items()}


def apply_local_settings(environ: dict[str, str] | os._Environ = os.environ) -> None:
    for key, value in local_values().items():
        environ.setdefault(key, value)


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m tests.support.localenv -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    apply_local_settings()
    os.execvp(argv[0], argv)  # replaces this process; never returns
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
