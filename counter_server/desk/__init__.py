"""The counter desk: staff log in, work their inbox, serve walk-ins (`/desk`)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("desk", __name__, url_prefix="/desk")


def init_app(app: Flask) -> None:
    from counter_server.desk import (  # noqa: F401  (registers the routes)
        admin,
        auth,
        background,
        catalog,
        counter,
        reports,
        two_factor,
        views,
    )

    auth.init_login(app)
    app.register_blueprint(bp)
