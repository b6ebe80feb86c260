"""Serves the shared assets (fonts, icons, images) that pages and the kiosk both use."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory

bp = Blueprint("assets", __name__)
PUBLIC_FOLDERS = ("fonts", "icons", "images", "sounds")
ONE_DAY = 24 * 3600


@bp.get("/assets/<path:path>")
def asset(path: str) -> Response:
    folder, _, name = path.partition("/")
    if folder not in PUBLIC_FOLDERS or not name:
        abort(404)
    directory = Path(current_app.config["ASSETS_DIR"]) / folder
    return send_from_directory(directory, name, max_age=ONE_DAY)
