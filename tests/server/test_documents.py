"""Documents: checked by their bytes, bounded, stored under server names, idempotent."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import RequestDocument
from counter_server.usecases import kiosks
from shared import tracking_codes
from shared.catalog.schema import Catalog
from tests.conftest import login
from tests.server.test_requests_api import body
from tests.online import file_online


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "navy").save(buffer, "PNG")
    return buffer.getvalue()


def tiff_bytes(pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (50, 70), colour) for colour in ("red", "green", "blue")[:pages]]
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


@pytest.fixture
def kiosk_request(app: Flask, client: FlaskClient, demo_catalog: Catalog) -> tuple[str, str, str]:
    """(tracking code, kiosk token, a PNG-accepting slot) of a request filed by a kiosk."""
    with app.app_context(), database().transaction() as session:
        registration = kiosks.register_kiosk(session, "lobby")
    token = registration.token
    data = body(demo_catalog, channel="kiosk", catalog_version=1,
                tracking_code=tracking_codes.new_code(registration.kiosk.id))
    response = file_online(client, data,
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    spec = demo_catalog.service("tour-guide-card")
    slot = next(d.id for d in spec.documents if "png" in d.formats)
    return data["tracking_code"], token, slot


def upload(client: FlaskClient, code: str, token: str, slot: str, data: bytes,
           filename: str = "scan.png", client_id: str | None = None) -> tuple[int, dict]:
    response = client.post(
        f"/api/v1/requests/{code}/documents",
        data={"client_id": client_id or str(uuid.uuid4()), "slot": slot,
              "file": (io.BytesIO(data), filename)},
        headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
    return response.status_code, response.get_json()


def stored(app: Flask) -> list[RequestDocument]:
    with app.app_context(), database().session() as session:
        return list(session.scalars(select(RequestDocument)))


def test_scan_is_stored_with_its_hash_and_a_replay_changes_nothing(
    app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str], demo_catalog: Catalog
) -> None:
    code, token, slot = kiosk_request
    data, client_id = png_bytes(), str(uuid.uuid4())
    first = upload(client, code, token, slot, data, client_id=client_id)
    again = upload(client, code, token, slot, data, client_id=client_id)
    assert (first[0], again[0]) == (201, 200) and first[1] == again[1]
    assert first[1]["sha256"] == hashlib.sha256(data).hexdigest()
    (document,) = stored(app)
    uploads = Path(app.config["UPLOADS_DIR"])
    assert (uploads / document.stored_name[:2] / document.stored_name).read_bytes() == data
    public = client.get(f"/api/v1/track/{code}").get_json()
    slot_name = next(d.name for d in demo_catalog.service("tour-guide-card").documents
                     if d.id == slot)
    assert public["documents"] == [slot_name]  # the slot's title, never the file's name


@pytest.mark.parametrize(("data", "filename", "code"), [
    (b"MZ\x90\x00 this is a Windows program", "licence.pdf", "document_format_not_accepted"),
    (b"#!/bin/sh\nrm -rf /\n", "photo.png", "document_format_not_accepted"),
    (b"", "empty.png", "document_empty"),
    (png_bytes()[:60], "cut.png", "document_damaged"),
    (b"%PDF-1.7\n" + b"x" * 100, "no-end.pdf", "document_damaged"),
])
def test_refused_files_leave_what_was_stored_untouched(
    app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str],
    data: bytes, filename: str, code: str,
) -> None:
    tracking_code, token, slot = kiosk_request
    assert upload(client, tracking_code, token, slot, png_bytes())[0] == 201
    before = [(d.id, d.sha256) for d in stored(app)]
    status, result = upload(client, tracking_code, token, slot, data, filename=filename)
    assert (status, result["code"]) == (422, code) and result["message"]
    assert [(d.id, d.sha256) for d in stored(app)] == before
    files = [p for p in Path(app.config["UPLOADS_DIR"]).rglob("*") if p.is_file()]
    assert len(files) == 1


def test_oversized_file_is_refused(app: Flask, client: FlaskClient,
                                   kiosk_request: tuple[str, str, str]) -> None:
    code, token, slot = kiosk_request
    app.config["MAX_DOCUMENT_BYTES"] = 2000
    status, result = upload(client, code, token, slot, png_bytes((900, 900)))
    assert (status, result["code"]) == (422, "document_too_large")
    assert stored(app) == []


def test_path_in_the_file_name_goes_nowhere(app: Flask, client: FlaskClient,
                                            kiosk_request: tuple[str, str, str],
                                            tmp_path: Path) -> None:
    code, token, slot = kiosk_request
    status, _ = upload(client, code, token, slot, png_bytes(), filename="../../../../evil.png")
    assert status == 201
    (document,) = stored(app)
    assert document.original_name == "evil.png"
    assert "/" not in document.stored_name and ".." not in document.stored_name
    uploads = Path(app.config["UPLOADS_DIR"]).resolve()
    for path in Path(app.instance_path).parent.rglob("evil*"):
        raise AssertionError(f"file written outside storage: {path}")
    assert all(p.resolve().is_relative_to(uploads) for p in uploads.rglob("*"))


def test_unknown_slot_and_stranger_are_refused(app: Flask, client: FlaskClient,
                                               kiosk_request: tuple[str, str, str]) -> None:
    code, token, slot = kiosk_request
    assert upload(client, code, token, "no_such_slot", png_bytes())[1]["code"] == \
        "unknown_document_slot"
    stranger = client.post(f"/api/v1/requests/{code}/documents", data={
        "client_id": str(uuid.uuid4()), "slot": slot, "file": (io.BytesIO(png_bytes()), "a.png"),
        "national_code": "0067749828", "mobile": "09351234567"},
        content_type="multipart/form-data")
    assert stranger.status_code == 403 and stranger.get_json()["code"] == "not_the_applicant"
    assert stored(app) == []


def test_tiff_scan_is_accepted_and_previewed_as_png_on_the_desk(
    app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str],
    demo_catalog: Catalog, staff_users: dict[str, int],
) -> None:
    code, token, _ = kiosk_request
    spec = demo_catalog.service("tour-guide-card")
    tiff_slot = next(d.id for d in spec.documents if "tiff" in d.formats)
    status, result = upload(client, code, token, tiff_slot, tiff_bytes(pages=2), "scan.tif")
    assert status == 201 and result["media_type"] == "image/tiff"
    login(client, "boss")
    preview = client.get(f"/desk/requests/{code}/documents/{result['id']}/preview.png")
    assert preview.mimetype == "image/png"
    with Image.open(io.BytesIO(preview.data)) as image:
        assert image.size == (50, 140)  # both pages, one above the other
        assert image.getpixel((25, 10)) == (255, 0, 0) and image.getpixel((25, 130)) == (0, 128, 0)
    original = client.get(f"/desk/requests/{code}/documents/{result['id']}")
    assert original.data == tiff_bytes(pages=2) and original.mimetype == "image/tiff"
