"""`POST /api/v1/filings`: a kiosk's request and its documents in one call. A replay of the
whole call changes nothing; a replay after the request came alone adds only the documents; a
document refused inside it (a bomb, a wrong type) refuses it whole and leaves nothing
written, neither row nor file; only kiosks may call it."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from counter_server.context import database
from counter_server.models import Notification, RequestDocument, RequestEvent, ServiceRequest
from counter_server.usecases import kiosks
from shared import tracking_codes
from shared.catalog.schema import Catalog
from tests.server.test_document_bombs import blank_tiff
from tests.server.test_documents import png_bytes
from tests.server.test_requests_api import body

SERVICE = "tour-guide-card"


@pytest.fixture
def kiosk(app: Flask) -> tuple[int, str]:
    """(issuer number, token) of a registered kiosk."""
    with app.app_context(), database().transaction() as session:
        registration = kiosks.register_kiosk(session, "lobby")
    return registration.kiosk.id, registration.token


def png_slot(catalog: Catalog) -> str:
    spec = catalog.service(SERVICE)
    assert spec is not None
    return next(d.id for d in spec.documents if "png" in d.formats)


def new_request(catalog: Catalog, kiosk_id: int) -> dict[str, Any]:
    return body(catalog, channel="kiosk", catalog_version=1,
                tracking_code=tracking_codes.new_code(kiosk_id))


def file_with(client: FlaskClient, token: str | None, request_body: dict[str, Any],
              files: list[tuple[str, str, bytes]]) -> tuple[int, dict[str, Any]]:
    """POST a filing of `request_body` and `files` as (client_id, slot, bytes)."""
    form: dict[str, Any] = {
        "request": json.dumps(request_body, ensure_ascii=False),
        "documents": json.dumps([{"client_id": c, "slot": s} for c, s, _ in files])}
    for client_id, _, data in files:
        form[client_id] = (io.BytesIO(data), "scan.png")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = client.post("/api/v1/filings", data=form, headers=headers,
                         content_type="multipart/form-data")
    return answer.status_code, answer.get_json()


def counts(app: Flask) -> dict[str, int]:
    with app.app_context(), database().session() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                or 0 for model in (ServiceRequest, RequestDocument, RequestEvent, Notification)}


def stored_files(app: Flask) -> list[Path]:
    return [p for p in Path(app.config["UPLOADS_DIR"]).rglob("*") if p.is_file()]


def test_a_filing_stores_the_request_and_its_documents_and_a_replay_changes_nothing(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        kiosk: tuple[int, str]) -> None:
    kiosk_id, token = kiosk
    data, slot = new_request(demo_catalog, kiosk_id), png_slot(demo_catalog)
    files = [(str(uuid.uuid4()), slot, png_bytes((40, 30)))]
    status, first = file_with(client, token, data, files)
    assert status == 201, first
    assert first["created"] and first["request"]["tracking_code"] == data["tracking_code"]
    [document] = first["documents"]
    assert document["client_id"] == files[0][0] and document["created"]
    assert document["sha256"] == hashlib.sha256(files[0][2]).hexdigest()
    after_first = counts(app)
    assert after_first["requests"] == after_first["request_documents"] == 1

    status, again = file_with(client, token, data, files)
    assert status == 200
    assert not again["created"] and not again["documents"][0]["created"]
    assert again["documents"][0]["id"] == document["id"]
    assert counts(app) == after_first and len(stored_files(app)) == 1


def test_a_filing_after_its_request_came_alone_adds_only_the_documents(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        kiosk: tuple[int, str]) -> None:
    kiosk_id, token = kiosk
    data, slot = new_request(demo_catalog, kiosk_id), png_slot(demo_catalog)
    alone = client.post("/api/v1/requests", json=data,
                        headers={"Authorization": f"Bearer {token}"})
    assert alone.status_code == 201
    status, answer = file_with(client, token, data, [(str(uuid.uuid4()), slot, png_bytes())])
    assert status == 201 and not answer["created"] and answer["documents"][0]["created"]
    assert counts(app)["requests"] == 1 and counts(app)["request_documents"] == 1


@pytest.mark.parametrize(("bad", "code"), [
    (blank_tiff(5000), "document_too_many_pages"),
    (b"#!/bin/sh\nrm -rf /\n", "document_format_not_accepted"),
    (png_bytes()[:60], "document_damaged"),
])
def test_a_document_refused_inside_a_filing_leaves_nothing_written(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, kiosk: tuple[int, str],
        bad: bytes, code: str) -> None:
    kiosk_id, token = kiosk
    data, slot = new_request(demo_catalog, kiosk_id), png_slot(demo_catalog)
    spec = demo_catalog.service(SERVICE)
    assert spec is not None
    tiff_slot = next(d.id for d in spec.documents if "tiff" in d.formats and d.id != slot)
    good, refused = str(uuid.uuid4()), str(uuid.uuid4())
    before = counts(app)
    status, answer = file_with(client, token, data, [(good, slot, png_bytes()),
                                                     (refused, tiff_slot, bad)])
    assert (status, answer["code"], answer["document"]) == (422, code, refused)
    assert answer["message"]
    assert counts(app) == before  # no request, no event, no SMS, no document
    assert stored_files(app) == []  # the good document's file went with the rollback

    status, fixed = file_with(client, token, data, [(good, slot, png_bytes())])
    assert status == 201 and fixed["created"]  # nothing half-written stood in the way


def test_only_a_kiosk_may_file_with_documents(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        kiosk: tuple[int, str]) -> None:
    kiosk_id, _ = kiosk
    data = new_request(demo_catalog, kiosk_id)
    status, answer = file_with(client, None, data,
                               [(str(uuid.uuid4()), png_slot(demo_catalog), png_bytes())])
    assert (status, answer["code"]) == (401, "kiosk_token_required")
    status, answer = file_with(client, "not-a-token", data, [])
    assert (status, answer["code"]) == (401, "invalid_token")
    assert counts(app)["requests"] == 0


def test_malformed_parts_are_refused_with_stable_codes(
        client: FlaskClient, demo_catalog: Catalog, kiosk: tuple[int, str]) -> None:
    kiosk_id, token = kiosk
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.post("/api/v1/filings", data={"request": "{not json", "documents": "[]"},
                         headers=headers, content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.get_json()["code"] == "invalid_body"
    data, missing = new_request(demo_catalog, kiosk_id), str(uuid.uuid4())
    answer = client.post(
        "/api/v1/filings", headers=headers, content_type="multipart/form-data",
        data={"request": json.dumps(data),
              "documents": json.dumps([{"client_id": missing, "slot": "x"}])})
    assert answer.status_code == 422
    assert (answer.get_json()["code"], answer.get_json()["document"]) == (
        "document_file_missing", missing)


def test_the_filing_is_in_the_openapi_document(client: FlaskClient) -> None:
    operation = client.get("/api/openapi.json").get_json()["paths"]["/api/v1/filings"]["post"]
    media = operation["requestBody"]["content"]["multipart/form-data"]
    assert media["encoding"]["request"]["contentType"] == "application/json"
    assert {"200", "201", "401", "422"} <= set(operation["responses"])
