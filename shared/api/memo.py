"""A small per-process memo of computed responses, keyed by what they were computed from.

User statistics take a full pass over a collection, while the data behind them only changes when
a sync writes it or a new dump month is swapped in. Each request still reads a cheap fingerprint
of exactly that data (counts and last-change times of the user's rows, the served month's table
identity) in its own snapshot; a hit is therefore what a fresh computation would return, never
stale. Instances are short-lived and memory is bounded, so no eviction beyond LRU is needed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

MAX_ENTRIES = 128


class Memo:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries
        self.enabled = True

    def get(self, key: Hashable) -> Any | None:
        if not self.enabled:
            return None
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key]

    def put(self, key: Hashable, value: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


USER_STATS = Memo()
