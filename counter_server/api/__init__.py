"""The versioned JSON API (`/api/v1`), its OpenAPI document and the health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app
from sqlalchemy import text
from werkzeug.routing import BaseConverter

from counter_server.api.schemas import TICKET_ID
from counter_server.context import session

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class TicketIdConverter(BaseConverter):
    """A ticket's public id in a path (`<ticket:public_id>`): nothing else matches, so
    `/tickets/leases` is never taken for a ticket (nor answers a GET, nor lists it in Allow)."""

    regex = TICKET_ID


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

    app.url_map.converters["ticket"] = TicketIdConverter
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
