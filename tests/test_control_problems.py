"""The control endpoints (account sync, dump ingestion) through the local runner: every error is
an RFC 9457 problem with the right status, hostile input is a 400 (never a 500), and a
property-based run over their parameters and bodies only gets answers the served OpenAPI
document describes.

The runner serves HTTP only (no queues, no timers): a started sync or ingestion stays queued, so
conflicts are deterministic and nothing loads in the background.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shared.api.control import MAX_BODY_BYTES, json_object_body, validate_body
from shared.api.http import ApiRequest
from shared.api.problems import ApiError
from shared.pipeline.http import IngestionRequest
from shared.settings import Settings
from shared.storage import clients
from tests.conftest import ADMIN_KEY, FUNCTION_KEY
from tests.support.dump_host import DumpHost
from tests.support.funchost import LocalFunctionHost
from tests.support.fuzzing import HOSTILE, TEXT, check_against_openapi

ADMIN = {"x-functions-key": ADMIN_KEY}
FUNCTION = {"x-functions-key": FUNCTION_KEY}
SAMPLES = Path(__file__).resolve().parent / "data" / "discogs" / "20200806"
STAMP = "20200806"
PROBLEM = "application/problem+json"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dump_host() -> Iterator[DumpHost]:
    with DumpHost.serving({STAMP: SAMPLES}) as host:
        yield host


@pytest.fixture
def control_env(settings_env: dict[str, str], dump_host: DumpHost, monkeypatch) -> dict[str, str]:
    extra = {"DISCOGS_DUMP_BASE_URL": dump_host.base_url, "DISCOGS_TIMEOUT_SECONDS": "5"}
    for key, value in extra.items():
        monkeypatch.setenv(key, value)
    settings_env.update(extra)
    return settings_env


@pytest.fixture
def host(control_env: dict[str, str], settings: Settings) -> Iterator[LocalFunctionHost]:
    from function_app import app

    with LocalFunctionHost(app, settings, queues=False, timers=False) as running:
        yield running


@pytest.fixture
def api(host: LocalFunctionHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=host.base_url, timeout=30) as client:
        yield client


def _problem(response: httpx.Response, status: int, instance: str) -> dict:
    """The body of a problem answer, after checking what every problem answer must carry."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    assert response.headers["cache-control"] == "no-store"
    problem = response.json()
    assert problem["status"] == status and problem["type"] == "about:blank"
    assert problem["title"] and problem["detail"]
    assert problem["instance"] == instance
    return problem


def _jobs(settings: Settings) -> int:
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        return conn.execute("SELECT count(*) FROM account.sync_jobs").fetchone()[0]


# --- pure parts --------------------------------------------------------------------------------


def test_a_problem_response_keeps_extension_nulls_and_headers():
    error = ApiError(
        409,
        "busy",
        headers={"Location": "/api/jobs/1"},
        extensions={"job": {"id": "1", "finished_at": None, "created": dt.date(2026, 11, 1)}},
    )
    response = error.response("/api/users/a/sync")
    assert response.status == 409 and response.media_type == PROBLEM
    assert response.headers == {"Cache-Control": "no-store", "Location": "/api/jobs/1"}
    assert json.loads(response.body) == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "busy",
        "instance": "/api/users/a/sync",
        "job": {"id": "1", "finished_at": None, "created": "2026-11-01"},
    }
    with pytest.raises(ValueError, match="clash"):
        ApiError(409, "busy", extensions={"status": "running"})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", None),
        (b"  \n", None),
        (b'{"a": 1}', {"a": 1}),
        (b"[]", ApiError),
        (b"nul", ApiError),
        (b"\xff", ApiError),
        (b"[" * 50_000, ApiError),
        (b"{}" + b" " * MAX_BODY_BYTES, ApiError),
    ],
)
def test_json_object_body(body, expected):
    request = ApiRequest("POST", "/api/x", body=body)
    if expected is ApiError:
        with pytest.raises(ApiError) as caught:
            json_object_body(request, "{}")
        assert caught.value.status == 400 and caught.value.errors[0].name == "body"
    else:
        assert json_object_body(request, "{}") == expected


@pytest.mark.parametrize(
    ("body", "month", "errors"),
    [
        (None, "latest", None),
        ({"month": "2026-11-01"}, "2026-11-01", None),
        ({"month": "2024-02-29"}, "2024-02-29", None),
        ({"month": "2025-02-29"}, None, ["body.month"]),
        ({"month": "2026-11-01T00:00"}, None, ["body.month"]),
        ({"month": ["latest"]}, None, ["body.month"]),
        ({"month": "LATEST"}, None, ["body.month"]),
        ({"mont": "latest"}, None, ["body.mont"]),
        ({"month": 1, "x": 2}, None, ["body.month", "body.x"]),
    ],
)
def test_ingestion_request_validation(body, month, errors):
    if errors is None:
        assert validate_body(IngestionRequest, body).month == month
        return
    with pytest.raises(ApiError) as caught:
        validate_body(IngestionRequest, body)
    assert sorted(e.name for e in caught.value.errors) == errors
    assert caught.value.status == 400


# --- account sync ------------------------------------------------------------------------------

_BAD_SYNC_BODIES = [
    pytest.param(b"{not json", "body", "must be JSON", id="not-json"),
    pytest.param(b"\xff\xfe\x00", "body", "must be JSON", id="not-utf8"),
    pytest.param(b"[1, 2]", "body", "JSON object", id="array"),
    pytest.param(b'"collection"', "body", "JSON object", id="string"),
    pytest.param(b"null", "body", "JSON object", id="null"),
    pytest.param(b"[" * 10_000, "body", "must be JSON", id="deeply-nested"),
    pytest.param(
        json.dumps({"scope": ["collection"], "pad": "x" * MAX_BODY_BYTES}).encode(),
        "body",
        "at most",
        id="huge",
    ),
    pytest.param(b'{"since": 1}', "body", "unknown fields", id="unknown-field"),
    pytest.param(b'{"scope": ["records"]}', "body", "unknown scope", id="unknown-scope"),
    pytest.param(b'{"scope": "collection"}', "body", "must be a list", id="scope-string"),
    pytest.param(b'{"scope": [1]}', "body", "must be a list", id="scope-numbers"),
    pytest.param(b'{"full": "yes"}', "body", "full must be true or false", id="full-string"),
]


@pytest.mark.parametrize(("body", "where", "detail"), _BAD_SYNC_BODIES)
def test_hostile_sync_bodies_are_400_problems(api, settings, body, where, detail):
    response = api.post("/api/users/digger/sync", content=body, headers=ADMIN)
    problem = _problem(response, 400, "/api/users/digger/sync")
    assert detail in problem["detail"]
    assert [e["name"] for e in problem["errors"]] == [where]
    assert _jobs(settings) == 0  # nothing stored for a rejected request


@pytest.mark.parametrize(
    "username",
    ["x" * 65, "x" * 3000, "bad name", "dig\x00ger", "dïgger", "<script>", "'; DROP TABLE x; --"],
)
def test_invalid_usernames_are_400_problems(api, settings, username):
    path = f"/api/users/{quote(username, safe='')}/sync"
    response = api.post(path, json={"scope": ["value"]}, headers=ADMIN)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith(PROBLEM)
    assert problem["errors"][0]["name"] == "path.username"
    assert "username" in problem["detail"]
    assert _jobs(settings) == 0


def test_a_running_sync_is_a_409_problem_with_the_job_and_its_location(api):
    first = api.post("/api/users/digger/sync", json={"scope": ["wantlist"]}, headers=ADMIN)
    assert first.status_code == 202 and first.headers["content-type"].startswith("application/json")
    again = api.post("/api/users/digger/sync", json={"scope": ["wantlist"]}, headers=ADMIN)
    problem = _problem(again, 409, "/api/users/digger/sync")
    assert problem["title"] == "Conflict" and "already running" in problem["detail"]
    assert problem["job"] == first.json()
    assert again.headers["location"] == f"/api/jobs/{first.json()['id']}"


@pytest.mark.parametrize(
    "job_id",
    ["not-a-uuid", "1", "x" * 5000, "00000000-0000-0000-0000-00000000000g", "%00", "%E2%80%AE"],
)
def test_malformed_job_ids_are_400_problems(api, job_id):
    response = api.get(f"/api/jobs/{job_id}", headers=FUNCTION)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["errors"][0]["name"] == "path.job_id"
    assert len(problem["detail"]) < 200  # the echoed id is cut short


def test_an_unknown_job_is_a_404_problem(api):
    job_id = str(uuid.uuid4())
    problem = _problem(api.get(f"/api/jobs/{job_id}", headers=FUNCTION), 404, f"/api/jobs/{job_id}")
    assert problem["detail"] == f"no job {job_id}"


def test_an_unreachable_database_is_a_503_problem_with_retry_after(
    control_env, settings_env, monkeypatch
):
    from function_app import app
    from shared.settings import get_settings, reset_settings_cache

    monkeypatch.setenv("DATABASE_URL", f"postgresql://cratedigger@127.0.0.1:{_closed_port()}/x")
    reset_settings_cache()
    try:
        with LocalFunctionHost(app, get_settings(), queues=False, timers=False) as down:
            job_id = str(uuid.uuid4())
            response = httpx.get(f"{down.base_url}/api/jobs/{job_id}", headers=FUNCTION)
            problem = _problem(response, 503, f"/api/jobs/{job_id}")
            assert response.headers["retry-after"] == "30"
            assert "database" in problem["detail"] and "postgresql" not in response.text
            started = httpx.post(f"{down.base_url}/api/users/digger/sync", headers=ADMIN)
            _problem(started, 503, "/api/users/digger/sync")
            # The read API answers the same problem (one shared definition).
            read = httpx.get(f"{down.base_url}/api/releases/1", headers=FUNCTION)
            read_problem = _problem(read, 503, "/api/releases/1")
            assert read.headers["retry-after"] == "30"
            assert read_problem["detail"] == problem["detail"]
    finally:
        reset_settings_cache()


# --- dump ingestion ----------------------------------------------------------------------------

_BAD_INGESTION_BODIES = [
    pytest.param(b"{nope", "body", id="not-json"),
    pytest.param(b'["latest"]', "body", id="array"),
    pytest.param(b"42", "body", id="number"),
    pytest.param(json.dumps({"month": "x" * 20_000}).encode(), "body", id="huge"),
    pytest.param(b'{"month": "latest", "force": true}', "body.force", id="unknown-field"),
    pytest.param(b'{"month": 202611}', "body.month", id="month-number"),
    pytest.param(b'{"month": null}', "body.month", id="month-null"),
    pytest.param(b'{"month": "August"}', "body.month", id="month-word"),
    pytest.param(b'{"month": "2026-13-01"}', "body.month", id="month-13"),
    pytest.param(b'{"month": "2026-02-30"}', "body.month", id="february-30"),
    pytest.param(b'{"month": "20261101"}', "body.month", id="basic-format"),
    pytest.param(b'{"month": "2026-W44-1"}', "body.month", id="week-date"),
    pytest.param(b'{"month": "2026-11"}', "body.month", id="year-month"),
    pytest.param(b'{"month": "latest\\n"}', "body.month", id="latest-newline"),
    pytest.param(b'{"month": "\\u0662\\u0660\\u0662\\u0666-11-01"}', "body.month", id="arabic"),
    pytest.param(json.dumps({"month": "9" * 5000}).encode(), "body.month", id="month-long"),
]


@pytest.mark.parametrize(("body", "where"), _BAD_INGESTION_BODIES)
def test_hostile_ingestion_bodies_are_400_problems(api, dump_host, body, where):
    problem = _problem(
        api.post("/api/ingestions", content=body, headers=ADMIN), 400, "/api/ingestions"
    )
    assert where in [e["name"] for e in problem["errors"]]
    assert api.get("/api/ingestions", headers=FUNCTION).json() == {"ingestions": []}


def test_an_unpublished_month_is_a_404_problem(api):
    response = api.post("/api/ingestions", json={"month": "2020-09-01"}, headers=ADMIN)
    assert "2020-09" in _problem(response, 404, "/api/ingestions")["detail"]


def test_a_month_in_progress_is_a_409_problem_naming_the_run(api):
    started = api.post("/api/ingestions", json={"month": "2020-08-01"}, headers=ADMIN)
    assert started.status_code == 202, started.text
    assert (
        started.json()["id"] == STAMP and started.headers["location"] == f"/api/ingestions/{STAMP}"
    )
    for body in ({"month": "latest"}, {"month": "2020-08-31"}):
        again = api.post("/api/ingestions", json=body, headers=ADMIN)
        problem = _problem(again, 409, "/api/ingestions")
        assert "in progress" in problem["detail"]
        assert problem["ingestion"] == {"id": STAMP, "status": f"/api/ingestions/{STAMP}"}
        assert again.headers["location"] == f"/api/ingestions/{STAMP}"


def test_a_failing_dump_host_is_a_502_problem(settings_env, settings, monkeypatch):
    from function_app import app
    from shared.settings import get_settings, reset_settings_cache

    monkeypatch.setenv("DISCOGS_DUMP_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("DISCOGS_TIMEOUT_SECONDS", "2")
    reset_settings_cache()
    with LocalFunctionHost(app, get_settings(), queues=False, timers=False) as running:
        response = httpx.post(
            f"{running.base_url}/api/ingestions", json={"month": "latest"}, headers=ADMIN
        )
    problem = _problem(response, 502, "/api/ingestions")
    assert problem["title"] == "Bad Gateway" and "dump host failed" in problem["detail"]


@pytest.mark.parametrize(
    "run_id",
    ["not-a-run", "2026110", "202611011", "２０２６１１０１", "2026-11-01", "9" * 3000, "%00"],
)
def test_malformed_run_ids_are_400_problems(api, run_id):
    for method, path, headers in (
        ("GET", f"/api/ingestions/{run_id}", FUNCTION),
        ("POST", f"/api/ingestions/{quote(run_id, safe='%')}/retry", ADMIN),
    ):
        response = api.request(method, path, headers=headers)
        assert response.status_code == 400, (method, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        problem = response.json()
        assert problem["errors"] == [
            {"name": "path.id", "reason": "ingestion ids are dump dates such as 20261101"}
        ]


def test_unknown_runs_are_404_problems(api):
    got = api.get("/api/ingestions/20991231", headers=FUNCTION)
    assert _problem(got, 404, "/api/ingestions/20991231")["detail"] == "no ingestion run 20991231"
    retried = api.post("/api/ingestions/20991231/retry", headers=ADMIN)
    assert _problem(retried, 404, "/api/ingestions/20991231/retry")["title"] == "Not Found"


def test_an_unexpected_fault_is_a_500_problem_without_internals(api, settings):
    clients.table_service(settings).delete_table(settings.runs_table)  # storage went away
    problem = _problem(api.get("/api/ingestions", headers=FUNCTION), 500, "/api/ingestions")
    assert problem == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "internal error; see the function log",
        "instance": "/api/ingestions",
    }


# --- property-based run ------------------------------------------------------------------------

_SEGMENT = TEXT.filter(lambda s: s and "/" not in s and "?" not in s and "#" not in s)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
_SCOPE = st.sampled_from(["collection", "wantlist", "inventory", "value"])
_SYNC_BODY = st.fixed_dictionaries(
    {},
    optional={
        "scope": st.lists(_SCOPE, max_size=4) | st.lists(TEXT, max_size=2) | _JSON,
        "full": st.booleans() | _JSON,
        "since": _JSON,
    },
)
_MONTH = (
    st.sampled_from(["latest", "2020-08-01", "2020-08-06", "2020-09-01", "2020-02-30", "2020-8-1"])
    | st.dates().map(lambda d: d.isoformat())
    | TEXT
)
_INGESTION_BODY = st.fixed_dictionaries(
    {}, optional={"month": _MONTH | _JSON, "force": st.booleans()}
)


def _bodies(objects: st.SearchStrategy[dict]) -> st.SearchStrategy[bytes]:
    """Mostly plausible JSON objects, sometimes other JSON, raw bytes or hostile text."""
    return st.one_of(
        objects.map(lambda o: json.dumps(o).encode()),
        objects.map(lambda o: json.dumps(o).encode()),
        _JSON.map(lambda o: json.dumps(o).encode()),
        st.binary(max_size=64),
        HOSTILE.map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.just(b" " * (MAX_BODY_BYTES + 1)),
    )


# operationId → (method, route template, path parameter strategies, body strategy, key)
_OPERATIONS = {
    "sync_start": (
        "POST",
        "/api/users/{username}/sync",
        {"username": st.sampled_from(["digger", "Digger", "a" * 64, "a" * 65]) | _SEGMENT},
        _bodies(_SYNC_BODY),
        ADMIN,
    ),
    "sync_job_status": (
        "GET",
        "/api/jobs/{job_id}",
        {"job_id": st.uuids().map(str) | _SEGMENT},
        st.just(b""),
        FUNCTION,
    ),
    "ingestions_start": ("POST", "/api/ingestions", {}, _bodies(_INGESTION_BODY), ADMIN),
    "ingestions_list": ("GET", "/api/ingestions", {}, st.just(b""), FUNCTION),
    "ingestions_get": (
        "GET",
        "/api/ingestions/{id}",
        {"id": st.sampled_from([STAMP, "20991231", "00000000"]) | _SEGMENT},
        st.just(b""),
        FUNCTION,
    ),
    "ingestions_retry": (
        "POST",
        "/api/ingestions/{id}/retry",
        {"id": st.sampled_from([STAMP, "20991231"]) | _SEGMENT},
        _bodies(_INGESTION_BODY),
        ADMIN,
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_OPERATIONS))
def test_no_500_and_no_schema_violation_on_control_endpoints(api, name):
    document = api.get("/api/openapi.json").json()
    method, route, path_values, bodies, headers = _OPERATIONS[name]
    operation = document["paths"][route][method.lower()]
    assert operation["operationId"] == name
    # A sync job and a started run exist, and the first example asks for them: every run
    # reaches successful answers as well as rejections.
    job = api.post("/api/users/digger/sync", json={"scope": ["value"]}, headers=ADMIN)
    started = api.post("/api/ingestions", json={"month": "2020-08-01"}, headers=ADMIN)
    assert job.status_code == started.status_code == 202, (job.text, started.text)
    valid = {
        "sync_start": ({"username": "someone"}, b'{"scope": ["wantlist"], "full": true}'),
        "sync_job_status": ({"job_id": job.json()["id"]}, b""),
        "ingestions_start": ({}, b""),  # a conflict with the run above
        "ingestions_list": ({}, b""),
        "ingestions_get": ({"id": STAMP}, b""),
        "ingestions_retry": ({"id": STAMP}, b""),
    }
    seen: set[int] = set()

    @hypothesis_settings(
        max_examples=60 if path_values or method == "POST" else 5,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(path=st.fixed_dictionaries(path_values), body=bodies)
    @example(path=valid[name][0], body=valid[name][1])
    def run(path: dict[str, str], body: bytes) -> None:
        url = route
        for key, value in path.items():
            url = url.replace("{" + key + "}", quote(value, safe=""))
        response = api.request(method, url, content=body, headers=headers)
        seen.add(response.status_code)
        if response.status_code in (404, 405) and not response.content:
            return  # the host's own routing answered (a value changed the path's shape)
        check_against_openapi(document, operation, response)
        if response.status_code >= 400:
            assert response.headers["content-type"].split(";")[0] == PROBLEM

    run()
    assert seen & {200, 202, 409}, seen  # not only rejections
    if path_values or method == "POST":
        assert 400 in seen, seen
