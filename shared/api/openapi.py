"""The OpenAPI 3.1 document, generated from the endpoint list and the pydantic models in use.

The app's functions cannot be listed at run time (the host indexes them once), so a test checks
that every HTTP function the app registers is described in `shared/api/endpoints.py`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.api.attribution import ATTRIBUTION
from shared.api.endpoints import ENDPOINTS, Endpoint
from shared.api.problems import PROBLEM_MEDIA_TYPE, Problem

REF = "#/components/schemas/{model}"
_CONSTRAINT = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]*)?(\?)?\}")


def openapi_path(route: str) -> str:
    """`releases/{id:int}` → `/api/releases/{id}`."""
    return "/api/" + _CONSTRAINT.sub(lambda m: "{" + m[2] + "}", route.strip("/"))


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value, never null: drop the `null` branch pydantic adds."""
    branches = prop.get("anyOf")
    if branches and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        prop = {k: v for k, v in prop.items() if k != "anyOf"}
        prop.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        if prop.get("default", 0) is None:
            del prop["default"]
    return prop


def _query_parameters(model: type[BaseModel]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    definitions = schema.pop("$defs", {})
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": _without_null(prop),
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters, definitions


def _security(endpoint: Endpoint) -> list[dict[str, list[str]]]:
    if endpoint.auth == "anonymous":
        return []
    if endpoint.auth == "admin":
        return [{"adminKey": []}]
    return [{"functionKey": []}, {"functionKeyQuery": []}]


def build_openapi(
    *,
    read_auth: str = "FUNCTION",
    server_url: str = "/",
) -> dict[str, Any]:
    """The document; `read_auth` is the deployed auth level of read endpoints."""
    models: list[type[BaseModel]] = [Problem]
    for endpoint in ENDPOINTS:
        models += [m for _, m in endpoint.responses.values() if m is not None]
        if endpoint.body is not None:
            models.append(endpoint.body)
    unique = list(dict.fromkeys(models))
    keys, schema = models_json_schema([(m, "serialization") for m in unique], ref_template=REF)
    components: dict[str, Any] = dict(schema.get("$defs", {}))
    body_keys, body_schema = models_json_schema(
        [(m, "validation") for m in unique if any(e.body is m for e in ENDPOINTS)],
        ref_template=REF,
    )
    for name, definition in body_schema.get("$defs", {}).items():
        components.setdefault(name, definition)

    def ref(model: type[BaseModel], mode: str = "serialization") -> dict[str, Any]:
        table = keys if mode == "serialization" else body_keys
        return table[(model, mode)]

    paths: dict[str, dict[str, Any]] = {}
    for endpoint in ENDPOINTS:
        operation: dict[str, Any] = {
            "operationId": endpoint.name,
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "responses": {},
        }
        parameters = [
            {
                "name": p.name,
                "in": "path",
                "required": True,
                "description": p.description,
                "schema": p.schema,
            }
            for p in endpoint.path_params
        ]
        if endpoint.query is not None:
            query, definitions = _query_parameters(endpoint.query)
            parameters += query
            for name, definition in definitions.items():
                components.setdefault(name, definition)
        if parameters:
            operation["parameters"] = parameters
        if endpoint.body is not None:
            operation["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": ref(endpoint.body, "validation")}},
            }
        for status, (description, model) in sorted(endpoint.responses.items()):
            response: dict[str, Any] = {"description": description}
            if status >= 400 and (model is None or issubclass(model, Problem)):
                response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": ref(model or Problem)}}
            elif model is not None:
                response["content"] = {"application/json": {"schema": ref(model)}}
            elif endpoint.name == "api_openapi":
                response["content"] = {"application/json": {"schema": {"type": "object"}}}
            operation["responses"][str(status)] = response
        if endpoint.auth != "anonymous" and not (
            endpoint.auth == "read" and read_auth == "ANONYMOUS"
        ):
            operation["responses"]["401"] = {"description": "Missing or wrong function key"}
            operation["security"] = _security(endpoint)
        if endpoint.problem_faults:
            operation["responses"]["500"] = {
                "description": "Server fault (never a client's mistake)",
                "content": {PROBLEM_MEDIA_TYPE: {"schema": ref(Problem)}},
            }
            operation["responses"].setdefault(
                "503",
                {
                    "description": "The database is unavailable or a query took too long; "
                    "see Retry-After",
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": ref(Problem)}},
                },
            )
        paths.setdefault(openapi_path(endpoint.route), {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cratedigger API",
            "version": "1.0.0",
            "description": (
                "Search and browse the Discogs monthly data dumps and a collector's own Discogs "
                f"account. {ATTRIBUTION.text} {ATTRIBUTION.url} — {ATTRIBUTION.notice}"
            ),
        },
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"},
                "adminKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-functions-key",
                    "description": "The host's admin (master) key",
                },
            },
        },
    }
