"""Timer triggers: NCRONTAB schedules (6 fields, UTC), with the host's schedule monitor.

Like the host's `useMonitor`, the last and next occurrence are recorded per timer; an occurrence
missed while the runner was down fires once at start with `past_due=True`, and so does an
occurrence missed because the previous invocation overran.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from azure.functions.timer import TimerRequest
from croniter import croniter

from tests.support.funchost.functions import FunctionSpec

log = logging.getLogger("funchost.timers")


def next_occurrence(schedule: str, after: datetime) -> datetime:
    fields = schedule.split()
    if len(fields) != 6:
        raise ValueError(f"NCRONTAB schedules have 6 fields, got {schedule!r}")
    return croniter(schedule, after, second_at_beginning=True).get_next(datetime)


class TimerScheduler:
    def __init__(
        self,
        spec: FunctionSpec,
        invoke: Callable[[FunctionSpec, object, str], object],
        stop: threading.Event,
        status_dir: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.spec = spec
        self.invoke = invoke
        self.stop_event = stop
        self.clock = clock
        self.status_file = status_dir / f"{spec.name}.json" if status_dir else None
        self.last: datetime | None = None
        self.thread = threading.Thread(target=self._run, name=f"timer-{spec.name}", daemon=True)

    def start(self) -> None:
        next_occurrence(self.spec.schedule or "", self.clock())  # fail fast on a bad schedule
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=10)

    def fire(self, *, past_due: bool, reason: str, next_due: datetime | None = None) -> None:
        now = self.clock()
        request = TimerRequest(
            past_due=past_due,
            schedule_status={
                "Last": (self.last or now).isoformat(),
                "Next": (next_due or now).isoformat(),
                "LastUpdated": now.isoformat(),
            },
            schedule={"AdjustForDST": False},
        )
        # A failed run is logged by the invoker and waits for its next occurrence.
        with contextlib.suppress(Exception):
            self.invoke(self.spec, request, reason)
        self.last = now

    def _run(self) -> None:
        schedule = self.spec.schedule or ""
        now = self.clock()
        recorded_next = self._read_status()
        if recorded_next is not None and recorded_next <= now:
            self.fire(past_due=True, reason="Timer is past due (missed while not running)")
        elif self.spec.run_on_startup:
            self.fire(past_due=False, reason="Timer run on startup")
        due = next_occurrence(schedule, self.clock())
        while not self.stop_event.is_set():
            self._write_status(due)
            if self.stop_event.wait(max(0.0, (due - self.clock()).total_seconds())):
                return
            following = next_occurrence(schedule, due)
            self.fire(past_due=False, reason="Timer fired", next_due=following)
            if following <= self.clock():
                # The run overran the next occurrence: the host runs it once, late, as past due.
                due = next_occurrence(schedule, self.clock())
                self.fire(
                    past_due=True, reason="Timer is past due (previous run overran)", next_due=due
                )
                due = next_occurrence(schedule, self.clock())
            else:
                due = following

    def _read_status(self) -> datetime | None:
        if not self.status_file or not self.status_file.exists():
            return None
        try:
            return datetime.fromisoformat(json.loads(self.status_file.read_text())["next"])
        except (ValueError, KeyError):
            return None

    def _write_status(self, due: datetime) -> None:
        if not self.status_file:
            return
        self.status_file.parent.mkdir(parents=True, exist_ok=True)
        last = self.last.isoformat() if self.last else None
        self.status_file.write_text(json.dumps({"last": last, "next": due.isoformat()}))
