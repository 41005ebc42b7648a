"""What the app declares: one `FunctionSpec` per function from `app.get_functions()`."""

from __future__ import annotations

import asyncio
import inspect
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import azure.functions as func

from shared.settings import Settings
from tests.support.funchost.config import resolve

SUPPORTED_TRIGGERS = {"httpTrigger": "http", "queueTrigger": "queue", "timerTrigger": "timer"}


class UnsupportedFunctionError(RuntimeError):
    pass


@dataclass
class FunctionSpec:
    name: str
    kind: str  # "http" | "queue" | "timer"
    argument: str  # the trigger binding's parameter name
    user_function: Callable[..., Any]
    route: str | None = None
    methods: list[str] = field(default_factory=list)  # empty: every method
    auth_level: str = "FUNCTION"
    queue_name: str | None = None
    connection: str | None = None
    schedule: str | None = None
    run_on_startup: bool = False

    def invoke(self, value: Any) -> Any:
        result = self.user_function(**{self.argument: value})
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return result


_indexed: weakref.WeakKeyDictionary[func.FunctionApp, list[func.Function]] = (
    weakref.WeakKeyDictionary()
)


def indexed_functions(app: func.FunctionApp) -> list[func.Function]:
    """`app.get_functions()`, once per app: a second call raises its duplicate-name error."""
    if app not in _indexed:
        _indexed[app] = app.get_functions()
    return _indexed[app]


def describe(app: func.FunctionApp, settings: Settings) -> list[FunctionSpec]:
    specs = []
    for function in indexed_functions(app):
        name = function.get_function_name()
        bindings = json.loads(function.get_function_json())["bindings"]
        trigger = next(b for b in bindings if b["type"].endswith("Trigger"))
        others = [b for b in bindings if b is not trigger and b["type"] != "http"]
        if trigger["type"] not in SUPPORTED_TRIGGERS or others:
            raise UnsupportedFunctionError(
                f"{name}: the local runner supports HTTP, queue and timer triggers without "
                f"extra bindings; got {[b['type'] for b in bindings]}"
            )
        spec = FunctionSpec(
            name=name,
            kind=SUPPORTED_TRIGGERS[trigger["type"]],
            argument=trigger["name"],
            user_function=function.get_user_function(),
        )
        if spec.kind == "http":
            spec.route = (trigger.get("route") or name).strip("/")
            spec.methods = [m.upper() for m in trigger.get("methods") or []]
            spec.auth_level = str(trigger.get("authLevel", "FUNCTION")).upper()
        elif spec.kind == "queue":
            spec.queue_name = resolve(trigger["queueName"], settings)
            spec.connection = trigger.get("connection") or "AzureWebJobsStorage"
        else:
            spec.schedule = resolve(trigger["schedule"], settings)
            spec.run_on_startup = bool(trigger.get("runOnStartup", False))
        specs.append(spec)
    return specs
