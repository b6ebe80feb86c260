"""Miz counter server: the one back end of kiosks, counters and the online desk.

`create_app` builds the Flask app; `flask --app counter_server …` runs its commands.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from counter_server import config as default_config
from counter_server import security
from counter_server.agencies import bus_from_config
from counter_server.context import close_session
from counter_server.db import Database
from counter_server.extensions import CookieSessions, csrf, limiter
from counter_server.sms import provider_from_config
from counter_server.storage import storage_from_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database, blueprints, error pages and commands."""
    config = dict(config or {})
    app = Flask(
        __name__,
        instance_path=config.pop("INSTANCE_PATH", None) or os.environ.get("MIZ_INSTANCE_PATH"),
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(default_config.defaults(app.instance_path))
    app.config.from_prefixed_env("MIZ")
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = default_config.load_secret_key(app.instance_path)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.session_interface = CookieSessions()
    security.check_production(app.config)

    app.extensions["miz.db"] = Database(app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"],
                                        pool_size=int(app.config["DATABASE_POOL_SIZE"]),
                                        max_overflow=int(app.config["DATABASE_MAX_OVERFLOW"]))
    app.extensions["miz.storage"] = storage_from_config(app.config)
    app.extensions["miz.sms"] = provider_from_config(app.config, app.instance_path)
    app.extensions["miz.bus"] = bus_from_config(app.config) if app.config.get("INQUIRY_URL") \
        else None
    app.teardown_appcontext(close_session)

    from counter_server import api, cli, desk, errors, web
    from counter_server.api import lobby_reads

    limiter.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    api.init_app(app)
    csrf.exempt(api.bp)
    web.init_app(app)
    desk.init_app(app)
    cli.init_app(app)
    errors.register(app)
    lobby_reads.init_app(app)  # last: in front of every other layer
    return app
