"""Functions SDK request/response ↔ the SDK-free `ApiRequest`/`ApiResponse` that `shared/`
handles. Not a blueprint: every HTTP blueprint converts through these two functions."""

from __future__ import annotations

from urllib.parse import urlsplit

import azure.functions as func

from shared.api.http import ApiRequest, ApiResponse


def api_request(req: func.HttpRequest) -> ApiRequest:
    return ApiRequest(
        method=req.method,
        path=urlsplit(req.url).path,
        query=dict(req.params),
        route_params=dict(req.route_params),
        headers=dict(req.headers),
        body=req.get_body() or b"",
    )


def http_response(response: ApiResponse) -> func.HttpResponse:
    return func.HttpResponse(
        response.body,
        status_code=response.status,
        headers=response.headers,
        mimetype=response.media_type if response.body else None,
    )
