"""`make demo`: run the main job end to end on the local setup and show the result.

Services and migrations are prepared by the Makefile. The demo starts the function app in the
local runner, checks its health, and runs a dump month through the whole pipeline (see
`tests.support.pipeline_demo`). `DEMO_RELEASES` sets the size of the generated month.
"""

from __future__ import annotations

import logging
import os
import sys

from shared.settings import SettingsError
from tests.support.localenv import apply_local_settings
from tests.support.pipeline_demo import run_demo

DEFAULT_RELEASES = 4000


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    apply_local_settings()
    try:
        return run_demo(int(os.environ.get("DEMO_RELEASES", DEFAULT_RELEASES)))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
