"""GET /api/health: anonymous report on database, Blob, Queue and Table access."""

from __future__ import annotations

import azure.functions as func

from shared.health import check_health
from shared.settings import get_settings

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    report = check_health(get_settings())
    return func.HttpResponse(
        report.model_dump_json(),
        status_code=200 if report.status == "ok" else 503,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )
