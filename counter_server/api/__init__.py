"""The versioned JSON API (`/api/v1`), its OpenAPI document and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app
from sqlalchemy import text

from counter_server.context import session

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _kiosk_quota() -> None:
    from counter_server.api.auth import spend_kiosk_quota

    spend_kiosk_quota()


def init_app(app: Flask) -> None:
    from counter_server.api import (  # noqa: F401  (routes)
        catalog,
        deliveries,
        kiosks,
        requests,
        tickets,
    )
    from counter_server.api.openapi import build_document

    app.register_blueprint(bp)

    @app.get("/api/openapi.json", endpoint="api.openapi")
    def openapi() -> dict[str, Any]:
        return build_document(current_app)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int] | Response:
        from counter_server.usecases.catalog_versions import current_version

        try:
            session().execute(text("SELECT 1"))
            version = current_version(session())
        except Exception:  # noqa: BLE001  — any database failure means "unreachable"
            current_app.logger.exception("health check: database unreachable")
            return {"status": "degraded", "database": "unreachable", "catalog_version": None}, 503
        return {"status": "ok", "database": "ok", "catalog_version": version}, 200
