"""HTTP handlers called directly with real request objects: problems for the unexpected."""

from __future__ import annotations

import json

import azure.functions as func

from functions.pipeline import ingestions_get, ingestions_list
from shared.settings import Settings
from shared.storage import clients


def _call(builder, request: func.HttpRequest) -> func.HttpResponse:
    return builder.build().get_user_function()(request)


def test_unexpected_failure_is_a_500_problem_without_internals(settings: Settings) -> None:
    clients.table_service(settings).delete_table(settings.runs_table)  # storage went away
    request = func.HttpRequest("GET", "/api/ingestions", body=b"")
    response = _call(ingestions_list, request)
    assert response.status_code == 500
    body = json.loads(response.get_body())
    assert body == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "internal error; see the function log",
        "instance": "/api/ingestions",
    }
    assert response.mimetype == "application/problem+json"


def test_unknown_run_is_a_404_problem(settings: Settings) -> None:
    request = func.HttpRequest(
        "GET", "/api/ingestions/20991231", body=b"", route_params={"id": "20991231"}
    )
    response = _call(ingestions_get, request)
    assert response.status_code == 404
    assert json.loads(response.get_body()) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no ingestion run 20991231",
        "instance": "/api/ingestions/20991231",
    }
