"""Catalog endpoints: the whole catalog (with ETag), one service, and search."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request

from counter_server.api import bp
from counter_server.api.errors import ApiError
from counter_server.api.openapi import operation, query_param
from counter_server.api.schemas import CatalogBody, ErrorBody, ServiceBody, ServiceList
from counter_server.context import session
from counter_server.usecases import catalog_versions
from counter_server.usecases.catalog_versions import Snapshot
from shared.catalog.schema import ServiceSpec

MAX_QUERY_LENGTH = 200
NO_CATALOG = ("catalog_unavailable", "فهرست خدمات هنوز منتشر نشده است؛ کمی بعد دوباره تلاش کنید.")


def _snapshot() -> Snapshot:
    try:
        return catalog_versions.current_snapshot(session())
    except catalog_versions.NoCatalog:
        raise ApiError(503, *NO_CATALOG) from None


@bp.get("/catalog")
@operation(
    "The whole published catalog",
    {200: ("The catalog", CatalogBody), 304: ("Unchanged since the ETag given", None),
     503: ("No catalog published yet", ErrorBody)},
    tag="catalog",
    description="Send the last ETag in If-None-Match to receive 304 when nothing changed.",
)
def get_catalog() -> Response:
    snapshot = _snapshot()
    headers = {"ETag": snapshot.etag, "Cache-Control": "no-cache"}
    if snapshot.etag in request.if_none_match or request.if_none_match.contains_weak(
        snapshot.etag.strip('"')
    ):
        return Response(status=304, headers=headers)
    return Response(snapshot.body, mimetype="application/json", headers=headers)


@bp.get("/services/<slug>")
@operation(
    "One service of the current catalog",
    {200: ("The service", ServiceBody), 404: ("No such service", ErrorBody),
     410: ("The service has been withdrawn", ErrorBody)},
    tag="catalog",
)
def get_service(slug: str) -> dict[str, Any]:
    try:
        snapshot, spec = catalog_versions.get_service(session(), slug)
    except catalog_versions.NoCatalog:
        raise ApiError(503, *NO_CATALOG) from None
    except catalog_versions.ServiceWithdrawn:
        raise ApiError(410, "service_withdrawn", "این خدمت دیگر ارائه نمی‌شود.") from None
    except catalog_versions.ServiceNotFound:
        raise ApiError(404, "service_not_found", "خدمتی با این شناسه وجود ندارد.") from None
    return {**spec.model_dump(mode="json"), "catalog_version": snapshot.version,
            "category_title": snapshot.category_title(spec.category)}


def summary(snapshot: Snapshot, spec: ServiceSpec, score: int | None = None) -> dict[str, Any]:
    return {
        "slug": spec.slug,
        "title": spec.title,
        "category": spec.category,
        "category_title": snapshot.category_title(spec.category),
        "summary": spec.summary,
        "channels": [c.value for c in spec.channels],
        "duration": spec.duration.model_dump(mode="json"),
        "free": spec.fees.free,
        "total_fee_rials": spec.fees.total_rials,
        "score": score,
    }


@bp.get("/services")
@operation(
    "List or search services",
    {200: ("Matching services, best first when searching", ServiceList),
     400: ("The query is too long", ErrorBody)},
    tag="catalog",
    description="Search is Persian-aware: Arabic and Persian letter forms, digits in any "
    "script, and ZWNJ or spaces match alike; every word of `q` must match.",
    parameters=[
        query_param("q", "Words to search for", {"type": "string", "maxLength": MAX_QUERY_LENGTH}),
        query_param("category", "Only services of this category (slug)", {"type": "string"}),
    ],
)
def list_services() -> dict[str, Any]:
    query = request.args.get("q", "").strip()
    category = request.args.get("category") or None
    if len(query) > MAX_QUERY_LENGTH:
        raise ApiError(400, "query_too_long",
                       f"عبارت جست‌وجو نباید بیش از {MAX_QUERY_LENGTH} نویسه باشد.")
    snapshot = _snapshot()
    if query:
        found = [summary(snapshot, h.service, h.score) for h in snapshot.search(query, category)]
    else:
        found = [summary(snapshot, s) for s in snapshot.catalog.services
                 if category is None or s.category == category]
    current_app.logger.debug("service search %r in %s: %d", query, category, len(found))
    return {"catalog_version": snapshot.version, "query": query or None, "category": category,
            "count": len(found), "services": found}
