"""Property-based run: hypothesis draws parameters for every read endpoint (valid, out-of-range,
unknown and hostile values) and sends them through the local runner. No answer may be a 500, and
every answer must match the OpenAPI document the app serves (status listed, body valid against the
schema of that status)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.api.endpoints import ENDPOINTS
from shared.api.openapi import openapi_path
from tests.support.fuzzing import TEXT, check_against_openapi


def _value(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """Strings for one query parameter: mostly plausible for its schema, sometimes hostile."""
    plausible: st.SearchStrategy[str]
    if "enum" in schema:
        plausible = st.sampled_from([str(v) for v in schema["enum"]])
    elif schema.get("type") == "integer":
        low, high = schema.get("minimum", -10), schema.get("maximum", 10**6)
        plausible = st.integers(min(low, 0) - 5, min(high, 10**7) + 5).map(str)
    elif schema.get("type") == "boolean":
        plausible = st.sampled_from(["true", "false", "1", "0", "yes", "maybe"])
    else:
        plausible = st.sampled_from(
            ["Rock", "Electronic", "Vinyl", "UK", "love", "the", "Björk", "Live"]
        )
    return plausible | TEXT


def _params(operation: dict[str, Any]) -> st.SearchStrategy[dict[str, str]]:
    query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
    fields = {p["name"]: st.one_of(st.none(), _value(p["schema"])) for p in query}
    fields["__unknown"] = st.one_of(st.none(), st.none(), st.none(), TEXT)
    return st.fixed_dictionaries(fields).map(
        lambda d: {("colour" if k == "__unknown" else k): v for k, v in d.items() if v is not None}
    )


_PATH_VALUES = {
    "id": st.sampled_from(["1", "52", "96", "4497850", "129684", "5", "999999999"])
    | st.integers(-5, 2**64).map(str)
    | TEXT.filter(lambda s: s and "/" not in s and "?" not in s and "#" not in s),
    "username": st.sampled_from(["Digger", "digger", "nobody", "a" * 64, "a" * 65])
    | TEXT.filter(lambda s: s and "/" not in s and "?" not in s and "#" not in s),
}


# One existing id or user per endpoint, so every run includes a request that must succeed.
_KNOWN = {
    "api_release": "4497850",
    "api_master": "129684",
    "api_artist": "96",
    "api_label": "1",
    "api_collection": "Digger",
    "api_wantlist": "Digger",
    "api_inventory": "Digger",
    "api_user_stats": "Digger",
}


@pytest.fixture
def served(api, account):
    document = api.ok("openapi.json")
    return api, document


_READS = [e for e in ENDPOINTS if e.owned and e.method == "GET" and e.name != "api_openapi"]


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", _READS, ids=[e.name for e in _READS])
def test_no_500_and_no_schema_violation(served, endpoint):
    api, document = served
    operation = document["paths"][openapi_path(endpoint.route)]["get"]
    path_names = [p.name for p in endpoint.path_params]
    paths = st.fixed_dictionaries({name: _PATH_VALUES[name] for name in path_names})

    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(path=paths, params=_params(operation))
    @example(path=dict.fromkeys(path_names, _KNOWN.get(endpoint.name, "")), params={})
    def run(path: dict[str, str], params: dict[str, str]) -> None:
        route = endpoint.route
        for name, value in path.items():
            route = route.replace("{" + name + "}", quote(value, safe=""))
        response = api.get(route, params)
        seen.add(response.status_code)
        if response.status_code in (404, 405) and not response.content:
            return  # the host's own routing answered (a value changed the path's shape)
        check_against_openapi(document, operation, response)

    seen: set[int] = set()
    run()
    assert {200, 400} <= seen, seen  # the run reached both answers, not only rejections
