"""The ceiling (bench only): the least a Flask tracking read can do on this stack — one
indexed query with SQLAlchemy Core, no ORM, no session, no limiter — on the same database.

    .venv/bin/python bench/track_bench.py --wsgi 'ceiling_app:create_app()' --endpoint api ...

Its figures say how far app-level fixes can take Miz under gunicorn on this machine: if even
this stays below the target, the rest must come from elsewhere (caching, more cores, another
server).
"""

from __future__ import annotations

import os
from typing import Any

import common
from flask import Flask, abort
from sqlalchemy import create_engine, text

from counter_server.db import normalize_url

QUERY = text("SELECT tracking_code, status, service_slug, current_step, created_at, "
             "updated_at, due_date FROM requests WHERE tracking_code = :code")


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(normalize_url(os.environ.get("DATABASE_URL")
                                         or common.DEFAULT_SQLITE_URL))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/track/<code>")
    def track(code: str) -> dict[str, Any]:
        with engine.connect() as connection:
            row = connection.execute(QUERY, {"code": code}).mappings().first()
        if row is None:
            abort(404)
        return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}

    return app
