"""Run one load message in this process (used by the killed-loader test as a victim)."""

from __future__ import annotations

import sys

from shared.pipeline.load import LoadOptions, handle_load
from shared.pipeline.messages import LoadMessage, parse_message
from shared.settings import get_settings

if __name__ == "__main__":
    handle_load(get_settings(), parse_message(LoadMessage, sys.argv[1]), 1, LoadOptions())
