"""One Discogs request budget for the whole app, shared by every function instance.

Discogs counts requests per source IP over a moving minute. Every instance that talks to Discogs
records its requests in one Table Storage entity (a sliding log of request times) and only sends
when fewer than `budget` requests were logged within the window. Updates are ETag-checked, so two
instances never both take the last slot; a lost race simply re-reads and tries again.

The limiter also brakes when Discogs says the IP's real budget runs low
(`X-Discogs-Ratelimit-Remaining`, which includes other tenants behind a shared egress IP): it
stores a `brake_until` time in the same entity, so every instance slows down, not only the one
that saw the header.

Each instance remembers the entity as it last wrote it (with the ETag the write returned) and
tries its next update on that copy, so an uncontended request costs one table round trip (the
conditional write) instead of two (read, then write); a 412 means another instance wrote in
between, and only then is the entity read again.

Times are wall-clock seconds (`time.time()`), shared across machines; small clock skew only makes
the moving window a little longer or shorter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, UpdateMode

PARTITION = "discogs"
ROW = "requests"
_MAX_CONFLICT_RETRIES = 200


class RateLimiterError(RuntimeError):
    pass


@dataclass(frozen=True)
class BudgetState:
    times: list[float]
    brake_until: float


class SharedRateLimiter:
    """`acquire()` blocks until one request may be sent, then records it in the shared log."""

    def __init__(
        self,
        table: TableClient,
        *,
        budget: int,
        window_seconds: float = 60.0,
        low_remaining: int = 5,
        row_key: str = ROW,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float | None = None,
    ) -> None:
        if budget < 1:
            raise ValueError("budget must be at least 1")
        self._table = table
        self.budget = budget
        self.window = window_seconds
        self.low_remaining = low_remaining
        self._row = row_key
        self._clock = clock
        self._sleep = sleep
        # Never wait longer than this in one acquire (a broken clock must not hang a function).
        self._max_wait = max_wait_seconds if max_wait_seconds is not None else 3 * window_seconds
        self.waited_seconds = 0.0
        # The entity as this instance last wrote it; None until then and after a lost race.
        self._known: tuple[BudgetState, str] | None = None

    # --- public -----------------------------------------------------------------------------

    def acquire(self) -> float:
        """Wait for a free slot, take it, and return the time recorded for it."""
        waited = 0.0
        for _ in range(_MAX_CONFLICT_RETRIES * 10):
            state, etag = self._current()
            now = self._clock()
            times = sorted(t for t in state.times if t > now - self.window)
            wait = 0.0
            if state.brake_until > now:
                wait = state.brake_until - now
            elif len(times) >= self.budget:
                wait = times[len(times) - self.budget] + self.window - now
            if wait > 0:
                if waited + wait > self._max_wait:
                    raise RateLimiterError(
                        f"waited {waited:.1f}s for the Discogs request budget; giving up"
                    )
                # Wake up a little late rather than early: the time in the log is taken before
                # the entity write, the request leaves after it, so allow for that latency.
                step = wait + self.window * 0.02
                self._sleep(step)
                waited += step
                self.waited_seconds += step
                continue
            times.append(now)
            if self._write(BudgetState(times, state.brake_until), etag):
                return now
        raise RateLimiterError("too many concurrent updates of the rate limit entity")

    def observe_remaining(self, remaining: int | None, limit: int | None = None) -> None:
        """Slow every instance down when Discogs' own counter says the budget runs low."""
        if remaining is None or remaining > self.low_remaining:
            return
        limit = limit or 60
        pause = (self.window / limit) * (self.low_remaining - remaining + 1)
        for _ in range(_MAX_CONFLICT_RETRIES):
            state, etag = self._current()
            until = self._clock() + pause
            if state.brake_until >= until:
                return
            if self._write(BudgetState(state.times, until), etag):
                return

    def used_in_window(self) -> int:
        state, _ = self._read()
        now = self._clock()
        return sum(1 for t in state.times if t > now - self.window)

    # --- storage ------------------------------------------------------------------------------

    def _current(self) -> tuple[BudgetState, str | None]:
        """The last entity this instance wrote if it has one (a stale copy only costs a failed
        conditional write: others only ever add times or extend the brake), else a fresh read."""
        return self._known or self._read()

    def _read(self) -> tuple[BudgetState, str | None]:
        try:
            entity = self._table.get_entity(PARTITION, self._row)
        except ResourceNotFoundError:
            return BudgetState([], 0.0), None
        times = json.loads(entity.get("times") or "[]")
        return BudgetState(times, float(entity.get("brake_until") or 0.0)), entity.metadata["etag"]

    def _write(self, state: BudgetState, etag: str | None) -> bool:
        # Only the last `budget` entries matter for the decision; keep the entity small.
        written = BudgetState([round(t, 4) for t in state.times[-self.budget :]], state.brake_until)
        entity = {
            "PartitionKey": PARTITION,
            "RowKey": self._row,
            "times": json.dumps(written.times),
            "brake_until": float(written.brake_until),
        }
        try:
            if etag is None:
                metadata = self._table.create_entity(entity)
            else:
                metadata = self._table.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=etag,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError):
            # Another instance wrote first (or the entity was removed): read it again.
            self._known = None
            return False
        self._known = (written, metadata["etag"])
        return True
