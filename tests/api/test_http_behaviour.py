"""HTTP behaviour of the API through the local runner: auth, problems, CORS, OpenAPI document."""

from __future__ import annotations

import httpx

from tests.support.funchost.functions import indexed_functions


def test_read_endpoints_need_the_function_key(api, function_host):
    response = httpx.get(f"{function_host.base_url}/api/search?q=love")
    assert response.status_code == 401
    assert api.get("search", {"q": "love"}).status_code == 200


def test_bad_input_is_a_400_problem_listing_every_parameter(api):
    response = api.get("search", {"limit": "1000", "sort": "best", "colour": "red"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert problem["instance"] == "/api/search"
    assert {e["name"] for e in problem["errors"]} == {"query.limit", "query.sort", "query.colour"}


def test_malformed_or_foreign_cursor_is_400(api):
    first = api.ok("search", {"q": "the", "limit": 2})
    assert first["next_cursor"]
    assert api.get("search", {"q": "the", "limit": 2, "cursor": "garbage"}).status_code == 400
    foreign = api.get("search", {"q": "love", "limit": 2, "cursor": first["next_cursor"]})
    assert foreign.status_code == 400
    assert (
        api.get("search", {"q": "the", "limit": 5, "cursor": first["next_cursor"]}).status_code
        == 200
    )


def test_malformed_ids_are_400_and_unknown_ones_404(api):
    assert api.get("releases/abc").status_code == 400
    assert api.get("releases/0").status_code == 400
    assert api.get("releases/123456789012345678901234").status_code == 400
    assert api.get("releases/999999999").status_code == 404


def test_cors_headers_and_preflight(api, function_host):
    from tests.conftest import FUNCTION_KEY

    origin = "http://localhost:3000"
    response = api.get("search", {"q": "x"}, Origin=origin)
    # CORS_ALLOWED_ORIGINS is empty in tests: no grant, but the answer varies by Origin.
    assert "access-control-allow-origin" not in response.headers
    assert "Origin" in response.headers["vary"]
    preflight = httpx.options(
        f"{function_host.base_url}/api/search",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 403
    assert preflight.headers["content-type"].startswith("application/problem+json")
    assert preflight.json()["title"] == "Forbidden" and "Origin" in preflight.headers["vary"]
    assert "access-control-allow-origin" not in preflight.headers
    assert FUNCTION_KEY


def test_cors_grant_for_an_allowed_origin(settings_env, monkeypatch, function_host):
    from shared.settings import reset_settings_cache
    from tests.conftest import FUNCTION_KEY

    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://crate.example, http://localhost:3000")
    reset_settings_cache()
    base = function_host.base_url
    response = httpx.get(
        f"{base}/api/search?q=love",
        headers={"Origin": "https://crate.example", "x-functions-key": FUNCTION_KEY},
    )
    assert response.headers["access-control-allow-origin"] == "https://crate.example"
    preflight = httpx.options(
        f"{base}/api/releases/1",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "x-functions-key" in preflight.headers["access-control-allow-headers"]


def test_openapi_document_is_anonymous_and_covers_every_http_function(function_host):
    from function_app import app
    from shared.api.openapi import openapi_path

    response = httpx.get(f"{function_host.base_url}/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    for function in indexed_functions(app):
        trigger = function.get_trigger()
        if trigger.type != "httpTrigger" or function.get_function_name() == "api_cors_preflight":
            continue
        path = openapi_path(trigger.route)
        for method in trigger.methods:
            operation = document["paths"][path][str(method.value).lower()]
            assert operation["operationId"] == function.get_function_name(), (path, method)
