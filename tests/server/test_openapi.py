"""The OpenAPI document: valid, and covering every /api/v1 route."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from counter_server.api.openapi import documented_rules


def test_openapi_document_is_valid(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    catalog = document["components"]["schemas"]["CatalogBody"]
    assert {"agency", "calendar", "categories", "services", "version"} <= set(
        catalog["properties"])


def test_every_api_route_is_documented(app: Flask, client: FlaskClient) -> None:
    undocumented = [(path, method) for path, method, op in documented_rules(app) if op is None]
    assert undocumented == []
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/v1/catalog", "/api/v1/services", "/api/v1/services/{slug}"} <= set(paths)
