"""The app indexes exactly the designed functions, with their triggers and bindings."""

import json

from function_app import app
from tests.support.funchost.functions import indexed_functions

# name -> (trigger type, route or queue name or schedule, methods, auth level)
EXPECTED = {
    "health": ("httpTrigger", "health", ["GET"], "ANONYMOUS"),
    "api_search": ("httpTrigger", "search", ["GET"], "FUNCTION"),
    "api_release": ("httpTrigger", "releases/{id}", ["GET"], "FUNCTION"),
    "api_master": ("httpTrigger", "masters/{id}", ["GET"], "FUNCTION"),
    "api_artist": ("httpTrigger", "artists/{id}", ["GET"], "FUNCTION"),
    "api_label": ("httpTrigger", "labels/{id}", ["GET"], "FUNCTION"),
    "api_collection": ("httpTrigger", "users/{username}/collection", ["GET"], "FUNCTION"),
    "api_wantlist": ("httpTrigger", "users/{username}/wantlist", ["GET"], "FUNCTION"),
    "api_inventory": ("httpTrigger", "users/{username}/inventory", ["GET"], "FUNCTION"),
    "api_user_stats": ("httpTrigger", "users/{username}/stats", ["GET"], "FUNCTION"),
    "api_stats": ("httpTrigger", "stats", ["GET"], "FUNCTION"),
    "api_openapi": ("httpTrigger", "openapi.json", ["GET"], "ANONYMOUS"),
    "api_cors_preflight": ("httpTrigger", "{*path}", ["OPTIONS"], "ANONYMOUS"),
    "dump_discover": ("timerTrigger", "%DUMP_SCHEDULE%", None, None),
    "dump_fetch": ("queueTrigger", "%FETCH_QUEUE%", None, None),
    "dump_split": ("queueTrigger", "%SPLIT_QUEUE%", None, None),
    "dump_load": ("queueTrigger", "%LOAD_QUEUE%", None, None),
    "ingestions_start": ("httpTrigger", "ingestions", ["POST"], "ADMIN"),
    "ingestions_list": ("httpTrigger", "ingestions", ["GET"], "FUNCTION"),
    "ingestions_get": ("httpTrigger", "ingestions/{id}", ["GET"], "FUNCTION"),
    "ingestions_retry": ("httpTrigger", "ingestions/{id}/retry", ["POST"], "ADMIN"),
    "sync_start": ("httpTrigger", "users/{username}/sync", ["POST"], "ADMIN"),
    "sync_job_status": ("httpTrigger", "jobs/{job_id}", ["GET"], "FUNCTION"),
    "sync_continue": ("queueTrigger", "%SYNC_QUEUE%", None, None),
    "sync_schedule": ("timerTrigger", "%SYNC_SCHEDULE%", None, None),
    "sync_reconcile": ("timerTrigger", "%RECONCILE_SCHEDULE%", None, None),
}


def _describe(function) -> tuple:
    bindings = json.loads(function.get_function_json())["bindings"]
    trigger = bindings[0]
    kind = trigger["type"]
    if kind == "httpTrigger":
        return (kind, trigger.get("route"), trigger.get("methods"), trigger.get("authLevel"))
    if kind == "queueTrigger":
        assert trigger["connection"] == "AzureWebJobsStorage"
        return (kind, trigger["queueName"], None, None)
    if kind == "timerTrigger":
        assert trigger.get("runOnStartup") is False, "run_on_startup fires on every scale-out"
        return (kind, trigger["schedule"], None, None)
    raise AssertionError(f"unexpected trigger {kind}")


def test_exactly_the_designed_functions():
    found = {f.get_function_name(): _describe(f) for f in indexed_functions(app)}
    assert found == EXPECTED


def test_queue_names_and_schedules_are_binding_expressions():
    for function in indexed_functions(app):
        trigger = json.loads(function.get_function_json())["bindings"][0]
        for key in ("queueName", "schedule"):
            if key in trigger:
                assert trigger[key].startswith("%") and trigger[key].endswith("%"), function


def test_shared_never_imports_azure_functions():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "shared"
    offenders = [
        str(path.relative_to(root.parent))
        for path in root.rglob("*.py")
        if "azure.functions" in path.read_text() or "import azure.functions" in path.read_text()
    ]
    assert offenders == []


def test_function_app_only_registers_blueprints():
    from pathlib import Path

    source = (Path(__file__).resolve().parents[1] / "function_app.py").read_text()
    assert source.count("func.FunctionApp(") == 1
    assert "@app." not in source, "functions belong in blueprints under functions/"
