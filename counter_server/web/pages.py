"""Public pages of the online desk: home, the service list, a service, search."""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for

from counter_server.context import session
from counter_server.usecases import catalog_versions
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.web import bp
from shared import tracking_codes

MAX_QUERY_LENGTH = 200


def _snapshot() -> Snapshot:
    try:
        return catalog_versions.current_snapshot(session())
    except catalog_versions.NoCatalog:
        abort(503)


@bp.get("/")
def home() -> str:
    snapshot = _snapshot()
    return render_template("home.html", snapshot=snapshot)


@bp.get("/services")
def services() -> str:
    snapshot = _snapshot()
    category = request.args.get("category") or None
    categories = snapshot.categories()
    if category and category not in {c.slug for c in categories}:
        abort(404)
    shown = [c for c in categories if category in (None, c.slug)]
    return render_template("services.html", snapshot=snapshot,
                           categories=categories, shown=shown, selected=category)


@bp.get("/services/<slug>")
def service(slug: str) -> tuple[str, int] | str:
    try:
        snapshot, spec = catalog_versions.get_service(session(), slug)
    except catalog_versions.NoCatalog:
        abort(503)
    except catalog_versions.ServiceWithdrawn as exc:
        snapshot = _snapshot()
        return render_template("withdrawn.html",
                               title=exc.service.title), 410
    except catalog_versions.ServiceNotFound:
        abort(404)
    return render_template("service.html", snapshot=snapshot,
                           service=spec, category_title=snapshot.category_title(spec.category))


@bp.get("/search")
def search() -> str | Response:
    """Services matching the query; a tracking code typed here goes to its tracking page."""
    snapshot = _snapshot()
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    code, mistyped = _tracking_code(query)
    if code:
        return redirect(url_for("web.track", code=code))
    hits = snapshot.search(query) if query and not mistyped else []
    return render_template("search.html", snapshot=snapshot,
                           query=query, hits=hits, mistyped_code=mistyped)


def _tracking_code(query: str) -> tuple[str | None, bool]:
    """(the code, False) when `query` is a valid tracking code (Persian digits, spaces and
    dashes allowed); (None, True) when it is 16 digits whose check digit is wrong."""
    try:
        return tracking_codes.normalize(query), False
    except tracking_codes.InvalidCode as exc:
        return None, exc.code == tracking_codes.CHECK_FAILED
