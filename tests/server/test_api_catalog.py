"""The catalog API: every directive field, ETags, search, and errors with stable codes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator

from counter_server.context import database, session
from counter_server.usecases import catalog_versions
from shared.catalog.schema import Catalog
from tests.factories import catalog_data

DIRECTIVE_FIELDS = ("steps", "documents", "laws", "faq", "duration", "fees", "complaint",
                    "responsible")
SERVICE_FIELDS = ("slug", "title", "category", "summary", "channels", "form", "survey",
                  *DIRECTIVE_FIELDS)


def _validate_against_openapi(client: FlaskClient, body: Any, schema_name: str) -> None:
    document = client.get("/api/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{schema_name}",
              "components": document["components"]}
    OAS31Validator(schema).validate(body)


def test_catalog_has_every_directive_field_of_every_service(
    client: FlaskClient, demo_catalog: Catalog
) -> None:
    response = client.get("/api/v1/catalog")
    body = response.get_json()
    assert response.status_code == 200
    assert body["version"] == 1
    assert body["agency"]["name"] == demo_catalog.agency.name
    assert body["agency"]["public_base_url"].startswith("https://")
    assert body["calendar"]["timezone"] == "Asia/Tehran" and body["calendar"]["holidays"]
    assert [c["slug"] for c in body["categories"]] == [c.slug for c in demo_catalog.categories]
    assert len(body["services"]) == len(demo_catalog.services) >= 12
    for service in body["services"]:
        missing = [f for f in SERVICE_FIELDS if f not in service]
        assert not missing, (service["slug"], missing)
        for field in DIRECTIVE_FIELDS:
            assert service[field], (service["slug"], field)
        step = service["steps"][0]
        assert {"id", "title", "description", "actor", "agency", "duration", "legal_basis"} <= set(step)
        assert {"name", "kind", "mandatory", "formats", "count"} <= set(service["documents"][0])
        assert {"how", "follow_up", "authority"} <= set(service["complaint"])
        assert {"name", "title", "unit", "phone", "hours"} <= set(service["responsible"])
    _validate_against_openapi(client, body, "CatalogBody")


def test_catalog_etag_answers_304_until_a_new_version(app: Flask, client: FlaskClient) -> None:
    first = client.get("/api/v1/catalog")
    etag = first.headers["ETag"]
    unchanged = client.get("/api/v1/catalog", headers={"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.data) == (304, b"")
    assert unchanged.headers["ETag"] == etag

    data = catalog_data()
    with app.app_context(), database().transaction() as db_session:
        catalog_versions.import_catalog(db_session, Catalog.model_validate(data))
    changed = client.get("/api/v1/catalog", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["version"] == 2
    assert [s["slug"] for s in changed.get_json()["services"]] == ["guide-card", "craft-licence"]


def test_snapshot_is_built_once_per_version(app: Flask) -> None:
    with app.test_request_context():
        first = catalog_versions.current_snapshot(session())
        second = catalog_versions.current_snapshot(session())
    assert first is second


def test_one_service(client: FlaskClient, demo_catalog: Catalog) -> None:
    expected = demo_catalog.services[0]
    body = client.get(f"/api/v1/services/{expected.slug}").get_json()
    assert body["title"] == expected.title and body["catalog_version"] == 1
    assert body["category_title"] == next(
        c.title for c in demo_catalog.categories if c.slug == expected.category)
    assert [s["title"] for s in body["steps"]] == [s.title for s in expected.steps]
    _validate_against_openapi(client, body, "ServiceBody")


def test_unknown_and_withdrawn_services(app: Flask, client: FlaskClient) -> None:
    unknown = client.get("/api/v1/services/no-such-service")
    assert unknown.status_code == 404
    assert unknown.get_json() == {"code": "service_not_found",
                                  "message": "خدمتی با این شناسه وجود ندارد."}
    slug = client.get("/api/v1/catalog").get_json()["services"][0]["slug"]
    with app.app_context(), database().transaction() as db_session:
        catalog_versions.import_catalog(db_session, Catalog.model_validate(catalog_data()))
    gone = client.get(f"/api/v1/services/{slug}")
    assert gone.status_code == 410 and gone.get_json()["code"] == "service_withdrawn"


def _search(client: FlaskClient, query: str, **params: str) -> list[str]:
    response = client.get("/api/v1/services", query_string={"q": query, **params})
    assert response.status_code == 200
    _validate_against_openapi(client, response.get_json(), "ServiceList")
    return [s["slug"] for s in response.get_json()["services"]]


def test_search_is_persian_aware_and_ranked(app: Flask, client: FlaskClient) -> None:
    data = catalog_data()
    data["services"][0]["summary"] = "کارت برای ۱۲ ماه صادر می‌شود."
    with app.app_context(), database().transaction() as db_session:
        catalog_versions.import_catalog(db_session, Catalog.model_validate(data))
    assert _search(client, "كارت") == _search(client, "کارت") != []
    assert _search(client, "12 ماه") == _search(client, "۱۲ ماه") == ["guide-card"]
    assert _search(client, "صنايع دستي") == ["craft-licence"]
    assert _search(client, "پروانه", category="guides") == []


def test_listing_without_query_filters_by_category(client: FlaskClient,
                                                    demo_catalog: Catalog) -> None:
    category = demo_catalog.categories[0].slug
    listed = client.get("/api/v1/services", query_string={"category": category}).get_json()
    assert listed["count"] == len([s for s in demo_catalog.services if s.category == category])
    assert {s["category"] for s in listed["services"]} == {category}


def test_overlong_query_is_refused_with_a_code(client: FlaskClient) -> None:
    response = client.get("/api/v1/services", query_string={"q": "ا" * 201})
    assert response.status_code == 400
    assert response.get_json()["code"] == "query_too_long"


def test_no_catalog_yet_is_503_with_a_code(empty_app: Flask) -> None:
    response = empty_app.test_client().get("/api/v1/catalog")
    assert response.status_code == 503
    assert response.get_json()["code"] == "catalog_unavailable"


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("get", "/api/v1/nothing-here", 404, "not_found"),
    ("post", "/api/v1/catalog", 405, "method_not_allowed"),
])
def test_api_errors_are_json_with_stable_codes(
    client: FlaskClient, method: str, path: str, status: int, code: str
) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.is_json and response.get_json()["code"] == code
    assert response.get_json()["message"]


def test_healthz_reports_database_and_catalog(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {
        "status": "ok", "database": "ok", "catalog_version": 1}
