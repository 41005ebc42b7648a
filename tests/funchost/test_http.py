import json

import httpx
import pytest

from tests.conftest import ADMIN_KEY, FUNCTION_KEY
from tests.funchost.conftest import build_test_app
from tests.support.funchost import LocalFunctionHost
from tests.support.funchost.http import compile_route


@pytest.fixture
def host(settings, recorder, fast_config):
    with LocalFunctionHost(
        build_test_app(recorder), settings, config=fast_config, queues=False, timers=False
    ) as running:
        yield running


def test_a_request_reaches_the_function_with_route_params_query_body_and_headers(host):
    response = httpx.post(
        f"{host.base_url}/api/echo/alice/3?x=1&code={FUNCTION_KEY}",
        content=b"hello",
        headers={"x-probe": "p"},
    )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-echo"] == "yes"
    assert response.json() == {
        "method": "POST",
        "route": {"name": "alice", "count": "3"},
        "params": {"x": "1", "code": FUNCTION_KEY},
        "body": "hello",
        "header": "p",
    }


def test_optional_and_constrained_route_parameters(host):
    headers = {"x-functions-key": FUNCTION_KEY}
    assert httpx.get(f"{host.base_url}/api/echo/bob", headers=headers).json()["route"] == {
        "name": "bob"
    }
    assert httpx.get(f"{host.base_url}/api/echo/bob/x", headers=headers).status_code == 404
    assert httpx.get(f"{host.base_url}/api/nothing", headers=headers).status_code == 404
    assert httpx.get(f"{host.base_url}/echo/bob", headers=headers).status_code == 404


def test_a_path_only_a_catch_all_matches_is_404_not_405(host):
    headers = {"x-functions-key": FUNCTION_KEY}
    assert httpx.get(f"{host.base_url}/api/nothing/here", headers=headers).status_code == 404
    assert httpx.options(f"{host.base_url}/api/nothing/here").status_code == 204


def test_declared_methods_only(host):
    response = httpx.delete(
        f"{host.base_url}/api/echo/bob", headers={"x-functions-key": FUNCTION_KEY}
    )
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("path", "key", "status"),
    [
        ("/api/echo/a", None, 401),
        ("/api/echo/a", "wrong", 401),
        ("/api/echo/a", FUNCTION_KEY, 201),
        ("/api/echo/a", ADMIN_KEY, 201),
        ("/api/admin-only", FUNCTION_KEY, 401),
        ("/api/admin-only", ADMIN_KEY, 200),
        ("/api/open", None, 204),
    ],
)
def test_auth_levels(host, path, key, status):
    headers = {"x-functions-key": key} if key else {}
    assert httpx.get(host.base_url + path, headers=headers).status_code == status


def test_an_exception_is_a_bare_500_without_details(host):
    response = httpx.get(f"{host.base_url}/api/boom")
    assert response.status_code == 500
    assert "secret" not in response.text
    assert ("boom", "Failed") in host.invocations


def test_admin_endpoint_runs_a_non_http_function(host, recorder):
    url = f"{host.base_url}/admin/functions/tick"
    assert httpx.post(url, json={}).status_code == 401
    assert httpx.post(url, json={}, headers={"x-functions-key": ADMIN_KEY}).status_code == 202
    assert recorder.event.wait(5)
    assert recorder.timer_calls == [False]
    missing = httpx.post(
        f"{host.base_url}/admin/functions/nope", json={}, headers={"x-functions-key": ADMIN_KEY}
    )
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("releases/{id:int}", "/releases/42", {"id": "42"}),
        ("releases/{id:int}", "/releases/abc", None),
        ("users/{username}/sync", "/USERS/Bob/sync", {"username": "Bob"}),
        ("files/{*rest}", "/files/a/b/c", {"rest": "a/b/c"}),
        ("jobs/{id?}", "/jobs", {"id": None}),
        ("jobs/{id?}", "/jobs/7", {"id": "7"}),
    ],
)
def test_route_templates(template, path, expected):
    match = compile_route(template).match(path)
    assert (match.groupdict() if match else None) == expected


def test_health_through_the_runner_with_the_real_app(settings):
    from function_app import app

    with LocalFunctionHost(app, settings, queues=False, timers=False) as running:
        response = httpx.get(f"{running.base_url}/api/health")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "ok"
    assert set(report["checks"]) == {"database", "blob", "queue", "table"}
    assert json.dumps(report).count("ok") >= 5
