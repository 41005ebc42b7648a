"""The health report: can this app reach everything it depends on?

Each check runs with its own short timeout and reports only a status, a duration and an error
class with a redacted message, never connection strings or keys.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from pydantic import BaseModel

from shared.db.connection import connect
from shared.db.migrations import applied_version, latest_version
from shared.settings import Settings
from shared.storage import clients

_SECRET_PATTERNS = [
    re.compile(r"(?i)(AccountKey|SharedAccessSignature|sig|password|token|key)=([^;&\s]+)"),
    re.compile(r"(?i)postgres(?:ql)?://[^\s'\"]+"),
    re.compile(r"(?i)https?://[^\s'\"]+"),
]
_MAX_ERROR_LENGTH = 200


class CheckResult(BaseModel):
    status: Literal["ok", "fail"]
    duration_ms: float
    error: str | None = None
    detail: dict[str, int | str | None] | None = None


class HealthReport(BaseModel):
    status: Literal["ok", "fail"]
    checks: dict[str, CheckResult]

    @property
    def failing(self) -> list[str]:
        return [name for name, result in self.checks.items() if result.status != "ok"]


def redact(message: str) -> str:
    for pattern in _SECRET_PATTERNS:
        message = pattern.sub(
            lambda m: f"{m.group(1)}=***" if m.lastindex else "<redacted>", message
        )
    first_line = message.strip().splitlines()[0] if message.strip() else ""
    return first_line[:_MAX_ERROR_LENGTH]


def _run(check: Callable[[], dict | None]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # a health check reports every failure instead of raising
        return CheckResult(
            status="fail",
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
            error=f"{type(exc).__name__}: {redact(str(exc))}",
        )
    return CheckResult(
        status="ok", duration_ms=round((time.perf_counter() - started) * 1000, 1), detail=detail
    )


def _check_database(settings: Settings) -> dict:
    with connect(settings, autocommit=True) as conn:
        conn.execute("SELECT 1")
        version = applied_version(conn)
    expected = latest_version()
    if version != expected:
        raise RuntimeError(f"schema at migration {version}, code expects {expected}")
    return {"migration_version": version}


def _check_blob(settings: Settings) -> dict:
    client = clients.container(settings, settings.dumps_container)
    client.get_container_properties(timeout=5)
    return {"container": settings.dumps_container}


def _check_queue(settings: Settings) -> dict:
    props = clients.queue(settings, settings.load_queue).get_queue_properties(timeout=5)
    return {"queue": settings.load_queue, "approximate_messages": props.approximate_message_count}


def _check_table(settings: Settings) -> dict:
    client = clients.table(settings, settings.runs_table)
    next(iter(client.query_entities("PartitionKey eq 'health'", results_per_page=1)), None)
    return {"table": settings.runs_table}


def check_health(settings: Settings) -> HealthReport:
    checks: dict[str, Callable[[], dict | None]] = {
        "database": lambda: _check_database(settings),
        "blob": lambda: _check_blob(settings),
        "queue": lambda: _check_queue(settings),
        "table": lambda: _check_table(settings),
    }
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        futures = {name: pool.submit(_run, check) for name, check in checks.items()}
        results = {name: future.result() for name, future in futures.items()}
    status = "ok" if all(r.status == "ok" for r in results.values()) else "fail"
    return HealthReport(status=status, checks=results)
