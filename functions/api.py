"""The read API (issue 6): thin HTTP adapters over `shared.api.service`.

Read endpoints use the auth level of the API_AUTH_LEVEL setting (FUNCTION by default, ANONYMOUS
possible). Unlike every other setting it is read here at import: an HTTP trigger's auth level is
part of its binding, which the host fixes when it indexes the app, before any request, and which
cannot be a `%SETTING%` expression. `read_api_auth_level` reads only that one variable and never
fails, so indexing works even while other settings are missing.
"""

from __future__ import annotations

import azure.functions as func

from functions.http_adapter import api_request, http_response
from shared.api.service import handle, openapi_response, preflight_response
from shared.settings import read_api_auth_level

bp = func.Blueprint()

READ_AUTH_LEVEL = read_api_auth_level()
_READ = func.AuthLevel[READ_AUTH_LEVEL]


def _serve(name: str, req: func.HttpRequest) -> func.HttpResponse:
    return http_response(handle(name, api_request(req)))


@bp.route(route="search", methods=["GET"], auth_level=_READ)
def api_search(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_search", req)


@bp.route(route="releases/{id}", methods=["GET"], auth_level=_READ)
def api_release(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_release", req)


@bp.route(route="masters/{id}", methods=["GET"], auth_level=_READ)
def api_master(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_master", req)


@bp.route(route="artists/{id}", methods=["GET"], auth_level=_READ)
def api_artist(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_artist", req)


@bp.route(route="labels/{id}", methods=["GET"], auth_level=_READ)
def api_label(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_label", req)


@bp.route(route="users/{username}/collection", methods=["GET"], auth_level=_READ)
def api_collection(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_collection", req)


@bp.route(route="users/{username}/wantlist", methods=["GET"], auth_level=_READ)
def api_wantlist(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_wantlist", req)


@bp.route(route="users/{username}/inventory", methods=["GET"], auth_level=_READ)
def api_inventory(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_inventory", req)


@bp.route(route="users/{username}/stats", methods=["GET"], auth_level=_READ)
def api_user_stats(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_user_stats", req)


@bp.route(route="stats", methods=["GET"], auth_level=_READ)
def api_stats(req: func.HttpRequest) -> func.HttpResponse:
    return _serve("api_stats", req)


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def api_openapi(req: func.HttpRequest) -> func.HttpResponse:
    return http_response(openapi_response(api_request(req), read_auth=READ_AUTH_LEVEL))


@bp.route(route="{*path}", methods=["OPTIONS"], auth_level=func.AuthLevel.ANONYMOUS)
def api_cors_preflight(req: func.HttpRequest) -> func.HttpResponse:
    # Browsers send preflights without keys; the answer only grants CORS_ALLOWED_ORIGINS.
    return http_response(preflight_response(api_request(req)))
