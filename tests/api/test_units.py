"""The API's pure parts: parameters, cursors, problems, caching, CORS, attribution, OpenAPI."""

from __future__ import annotations

import json

import pytest

from shared.api.caching import CacheKind, cache_control
from shared.api.cors import cors_headers, preflight_headers
from shared.api.cursor import decode_cursor, encode_cursor, fingerprint
from shared.api.endpoints import ENDPOINTS
from shared.api.openapi import build_openapi, openapi_path
from shared.api.params import (
    CollectionParams,
    InventoryParams,
    SearchParams,
    parse_id,
    parse_params,
)
from shared.api.problems import ApiError
from shared.queries.search import position_is_valid
from shared.settings import read_api_auth_level


def _errors(model, raw) -> dict[str, str]:
    with pytest.raises(ApiError) as caught:
        parse_params(model, raw)
    assert caught.value.status == 400
    return {e.name: e.reason for e in caught.value.errors or []}


def test_search_parameters_are_parsed_and_stripped():
    p = parse_params(SearchParams, {"q": "  björk ", "limit": "5", "type": "artist", "code": "k"})
    assert (p.q, p.limit, p.type, p.sort) == ("björk", 5, "artist", "relevance")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "101"}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"type": "song"}, "query.type"),
        ({"sort": "popularity"}, "query.sort"),
        ({"q": "x" * 201}, "query.q"),
        ({"q": "a\x00b"}, "query.q"),
        ({"q": "   "}, "query.q"),
        ({"genre": "g" * 101}, "query.genre"),
        ({"year_from": "999"}, "query.year_from"),
        ({"year_from": "2000", "year_to": "1990"}, "query"),
        ({"in_collection": "true"}, "query"),
        ({"in_collection": "maybe", "username": "a"}, "query.in_collection"),
        ({"username": "../etc"}, "query.username"),
        ({"genere": "Rock"}, "query.genere"),
        ({"cursor": "c" * 600}, "query.cursor"),
    ],
)
def test_bad_search_parameters_are_400_naming_the_parameter(raw, field):
    assert field in _errors(SearchParams, raw)


def test_unknown_parameter_is_named_as_unknown():
    assert _errors(SearchParams, {"genere": "Rock"}) == {"query.genere": "unknown parameter"}


def test_account_list_parameters():
    assert parse_params(CollectionParams, {"folder": "0", "rating": "5"}).rating == 5
    assert "query.rating" in _errors(CollectionParams, {"rating": "6"})
    assert "query.condition" in _errors(InventoryParams, {"condition": "Like new"})
    assert "query" in _errors(InventoryParams, {"price_min": "10", "price_max": "5"})
    assert "query.price_min" in _errors(InventoryParams, {"price_min": "NaN"})
    assert "query.price_min" in _errors(InventoryParams, {"price_min": "-1"})
    assert _errors(InventoryParams, {"rating": "5"}) == {"query.rating": "unknown parameter"}


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1e3", "99999999999999999999", "", "١٢"])
def test_bad_path_ids_are_400(value):
    with pytest.raises(ApiError) as caught:
        parse_id(value)
    assert caught.value.status == 400


def test_cursor_round_trip_and_tamper_evidence():
    bound = fingerprint({"q": "love", "sort": "year", "limit": 5})
    cursor = encode_cursor([1999, "release", 42], bound)
    assert decode_cursor(cursor, bound) == [1999, "release", 42]
    assert fingerprint({"q": "love", "sort": "year", "limit": 50}) == bound  # limit may change
    for bad in (cursor[:-2] + "AA", "x" + cursor, cursor.replace(".", ""), "!!!.???", "a.b.c"):
        with pytest.raises(ApiError) as caught:
            decode_cursor(bad, bound)
        assert caught.value.status == 400
    with pytest.raises(ApiError):
        decode_cursor(cursor, fingerprint({"q": "hate", "sort": "year"}))


def test_decoded_positions_are_type_checked_per_sort():
    assert position_is_valid("year", False, [1999, "release", 3])
    assert not position_is_valid("year", False, ["1999", "release", 3])
    assert not position_is_valid("relevance", True, [0.5, "song", 3])
    assert not position_is_valid("title", False, ["a", "label", -3])


def test_cache_control_per_kind_of_data():
    assert "max-age=3600" in cache_control(CacheKind.DUMP)
    assert cache_control(CacheKind.ACCOUNT).startswith("private")
    assert cache_control(CacheKind.LIVE) == "no-store"


def test_cors_echoes_only_allowed_origins():
    allowed = ["https://crate.example"]
    assert cors_headers("https://crate.example", allowed)["Access-Control-Allow-Origin"] == (
        "https://crate.example"
    )
    assert "Access-Control-Allow-Origin" not in cors_headers("https://evil.example", allowed)
    assert preflight_headers("https://evil.example", allowed) is None
    assert (
        "x-functions-key"
        in preflight_headers("https://crate.example", allowed)["Access-Control-Allow-Headers"]
    )


def test_auth_level_read_at_import_never_fails(monkeypatch):
    monkeypatch.delenv("API_AUTH_LEVEL", raising=False)
    assert read_api_auth_level() == "FUNCTION"
    monkeypatch.setenv("API_AUTH_LEVEL", "anonymous")
    assert read_api_auth_level() == "ANONYMOUS"
    monkeypatch.setenv("API_AUTH_LEVEL", "nonsense")
    assert read_api_auth_level() == "FUNCTION"


def test_openapi_document_is_31_and_complete():
    document = build_openapi()
    assert document["openapi"] == "3.1.0"
    json.dumps(document)  # serializable
    for endpoint in ENDPOINTS:
        operation = document["paths"][openapi_path(endpoint.route)][endpoint.method.lower()]
        assert operation["operationId"] == endpoint.name
        for status, (_, model) in endpoint.responses.items():
            assert str(status) in operation["responses"]
            if model is not None:
                (content,) = operation["responses"][str(status)]["content"].values()
                assert content["schema"]["$ref"].split("/")[-1] in document["components"]["schemas"]
    search = document["paths"]["/api/search"]["get"]
    names = {p["name"] for p in search["parameters"]}
    assert names == set(SearchParams.model_fields)
    limit = next(p for p in search["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100
    assert "security" in search
    assert "security" not in build_openapi(read_auth="ANONYMOUS")["paths"]["/api/search"]["get"]
    sync = document["paths"]["/api/users/{username}/sync"]["post"]
    assert sync["security"] == [{"adminKey": []}]


def test_every_documented_error_of_every_operation_is_a_problem():
    """4xx/5xx bodies are application/problem+json with the Problem schema (or one extending it
    with members such as a sync conflict's `job`). Two answers are not ours to shape: the host's
    401 for a missing key (no body) and the health probe's 503, whose body is its report."""
    document = build_openapi()
    schemas = document["components"]["schemas"]
    problem = schemas["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    checked: dict[str, int] = {}
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                if status == "401":
                    assert "content" not in response, (path, status)
                    continue
                if operation["operationId"] == "health" and status == "503":
                    continue
                (media, content), *others = response["content"].items()
                assert media == "application/problem+json" and not others, (path, status)
                schema = schemas[content["schema"]["$ref"].split("/")[-1]]
                for name, member in problem["properties"].items():
                    assert schema["properties"][name] == member, (path, status, name)
                assert set(problem["required"]) <= set(schema["required"]), (path, status)
                checked[operation["operationId"]] = checked.get(operation["operationId"], 0) + 1
    for name in ("sync_start", "sync_job_status", "ingestions_start", "ingestions_list"):
        assert checked[name] >= 2, (name, checked)  # at least the 500 and 503 faults
    assert checked["ingestions_get"] >= 4 and checked["ingestions_retry"] >= 5
    conflict = schemas["SyncConflict"]
    assert conflict["properties"]["job"]["$ref"].endswith("JobSummaryDescription")
    assert "ingestion" in schemas["IngestionConflict"]["properties"]


def test_openapi_refs_all_resolve():
    document = build_openapi()
    text = json.dumps(document)
    import re

    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in document["components"]["schemas"], ref
