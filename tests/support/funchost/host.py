"""LocalFunctionHost: wires the HTTP frontend, queue pollers and timers around one app."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from pathlib import Path

import azure.functions as func
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

from shared.settings import Settings
from tests.support.funchost.config import HostConfig
from tests.support.funchost.functions import FunctionSpec, describe
from tests.support.funchost.http import HttpFrontend, Keys
from tests.support.funchost.queues import QueuePoller
from tests.support.funchost.timers import TimerScheduler

log = logging.getLogger("funchost")


class HostError(RuntimeError):
    pass


class LocalFunctionHost:
    def __init__(
        self,
        app: func.FunctionApp,
        settings: Settings,
        *,
        config: HostConfig | None = None,
        port: int = 0,
        queues: bool = True,
        timers: bool = True,
        timer_status_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.config = config or HostConfig.load()
        self.specs = {spec.name: spec for spec in describe(app, settings)}
        self.stop_event = threading.Event()
        self.invocations: list[tuple[str, str]] = []  # (function, outcome), for tests and demos
        keys = Keys(
            function=_secret(settings.local_function_key), admin=_secret(settings.local_admin_key)
        )
        protected = [
            s.name for s in self.specs.values() if s.kind == "http" and s.auth_level != "ANONYMOUS"
        ]
        if protected and not (keys.function and keys.admin):
            raise HostError(
                "LOCAL_FUNCTION_KEY and LOCAL_ADMIN_KEY must be set: "
                f"{', '.join(protected)} require keys"
            )
        self.http = HttpFrontend(
            list(self.specs.values()),
            route_prefix=self.config.route_prefix,
            keys=keys,
            invoke=self.invoke,
            run_function=self.run_in_background,
            port=port,
        )
        self.pollers: list[QueuePoller] = []
        self.timers: list[TimerScheduler] = []
        if queues:
            self.pollers = [
                QueuePoller(
                    spec, self.config.queues, self._connection(spec), self.invoke, self.stop_event
                )
                for spec in self.specs.values()
                if spec.kind == "queue"
            ]
        if timers:
            self.timers = [
                TimerScheduler(spec, self.invoke, self.stop_event, timer_status_dir)
                for spec in self.specs.values()
                if spec.kind == "timer"
            ]

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def start(self) -> LocalFunctionHost:
        self.http.start()
        for worker in [*self.pollers, *self.timers]:
            worker.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.http.stop()
        for worker in [*self.pollers, *self.timers]:
            worker.join()

    def __enter__(self) -> LocalFunctionHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invoke(self, spec: FunctionSpec, value: object, reason: str) -> object:
        """Run one invocation with the host's log lines; exceptions are logged and re-raised."""
        invocation = uuid.uuid4()
        log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", spec.name, reason, invocation)
        started = time.perf_counter()
        try:
            result = spec.invoke(value)
        except Exception:
            elapsed = (time.perf_counter() - started) * 1000
            log.exception(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%.0fms)",
                spec.name,
                invocation,
                elapsed,
            )
            self.invocations.append((spec.name, "Failed"))
            raise
        elapsed = (time.perf_counter() - started) * 1000
        log.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%.0fms)",
            spec.name,
            invocation,
            elapsed,
        )
        self.invocations.append((spec.name, "Succeeded"))
        return result

    def run_function(self, name: str, text: str | None = None) -> object:
        """Invoke a non-HTTP function once, as `POST /admin/functions/<name>` does."""
        spec = self.specs[name]
        if spec.kind == "timer":
            return self.invoke(spec, TimerRequest(past_due=False), "Manual invocation")
        if spec.kind == "queue":
            message = QueueMessage(
                id=str(uuid.uuid4()), body=(text or "").encode(), dequeue_count=1, pop_receipt=""
            )
            return self.invoke(spec, message, "Manual invocation")
        raise HostError(f"{name} is an HTTP function: call its route instead")

    def run_in_background(self, name: str, text: str | None) -> None:
        if name not in self.specs or self.specs[name].kind == "http":
            raise KeyError(name)

        def run() -> None:
            with contextlib.suppress(Exception):  # invoke has logged it
                self.run_function(name, text)

        threading.Thread(target=run, name=f"admin-{name}", daemon=True).start()

    def _connection(self, spec: FunctionSpec) -> str:
        if spec.connection != "AzureWebJobsStorage" or not self.settings.storage_connection_string:
            raise HostError(
                f"{spec.name}: the local runner needs connection 'AzureWebJobsStorage' "
                "as a connection string (Azurite)"
            )
        return self.settings.storage_connection_string


def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]
