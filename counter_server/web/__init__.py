"""The online desk: public pages of the catalog in Persian, right-to-left."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

bp = Blueprint("web", __name__)


def init_app(app: Flask) -> None:
    from counter_server.web import (  # noqa: F401
        assets,
        filters,
        lobby,
        pages,
        survey_pages,
        tracking_pages,
        verify_pages,
    )

    app.register_blueprint(bp)
    app.register_blueprint(assets.bp)
    filters.register(app)
    app.context_processor(_agency)


def _agency() -> dict[str, Any]:
    """Every page shows the agency's name and contact, when a catalog is published."""
    from counter_server.context import session
    from counter_server.usecases.catalog_versions import current_snapshot

    try:
        return {"agency": current_snapshot(session()).catalog.agency}
    except Exception:  # noqa: BLE001  — an error page must render even without a catalog
        return {"agency": None}
