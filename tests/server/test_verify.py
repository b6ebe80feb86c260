"""Anyone checks a delivered document: `GET /api/v1/verify/<id>`, the page `/v/<id>` with its
file check, and the documents a request's tracking lists."""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sqlalchemy import select

from counter_server.context import database
from counter_server.models import Deliverable, User
from counter_server.usecases import delivery
from shared.catalog.schema import Catalog
from tests.server.test_delivery import (  # noqa: F401  (fixtures)
    NOW,
    Desk,
    approved,
    key_files,
    signing,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def issued(app: Flask, client: FlaskClient, demo_catalog: Catalog, signing: delivery.Signing,
           staff_users: dict) -> tuple[str, Deliverable]:
    """A card issued for an approved request, committed: (tracking code, document)."""
    code = approved(app, client, demo_catalog)
    with app.app_context(), database().transaction() as session:
        document, _ = Desk(session, app, signing).issue(code)
        session.flush()
        session.expunge(document)
    app.config["CLOCK"] = lambda: NOW + timedelta(days=1)
    return code, document


def _revoke(app: Flask, document: Deliverable, reason: str) -> None:
    with app.app_context(), database().transaction() as session:
        boss = session.scalars(select(User).where(User.username == "boss")).one()
        found = delivery.find(session, document.public_id)
        assert found is not None
        delivery.revoke(session, found, boss, reason, NOW + timedelta(days=1))


def test_the_api_says_valid_revoked_or_expired_and_nothing_personal(
        app: Flask, client: FlaskClient, issued: tuple[str, Deliverable]) -> None:
    _code, document = issued
    answer = client.get(f"/api/v1/verify/{document.public_id}")
    assert answer.status_code == 200
    assert answer.get_json() == {
        "status": "valid", "kind": "card", "number": "1405-000001",
        "issued_at": document.issued_at.isoformat(), "sha256": document.sha256,
        "expires_at": document.expires_on.isoformat() if document.expires_on else None}
    assert document.holder not in answer.get_data(as_text=True)

    assert document.expires_on is not None
    app.config["CLOCK"] = lambda: NOW + timedelta(days=731)
    assert client.get(f"/api/v1/verify/{document.public_id}").get_json()["status"] == "expired"
    app.config["CLOCK"] = lambda: NOW + timedelta(days=1)
    _revoke(app, document, "کارت به اشتباه صادر شد.")
    assert client.get(f"/api/v1/verify/{document.public_id}").get_json()["status"] == "revoked"


def test_the_api_refuses_malformed_and_unknown_ids(client: FlaskClient) -> None:
    malformed = client.get("/api/v1/verify/not-an-id")
    assert malformed.status_code == 400 and malformed.get_json()["code"] == "invalid_document_id"
    unknown = client.get(f"/api/v1/verify/{'a' * 24}")
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "document_not_found"
    assert "سندی" in unknown.get_json()["message"]


def test_verification_is_rate_limited(client: FlaskClient) -> None:
    statuses = [client.get(f"/api/v1/verify/{'b' * 24}").status_code for _ in range(61)]
    assert statuses[:60] == [404] * 60 and statuses[60] == 429
    pages = [client.get(f"/v/{'b' * 24}").status_code for _ in range(61)]
    assert pages[:60] == [404] * 60 and pages[60] == 429


def test_tracking_lists_the_delivered_documents(app: Flask, client: FlaskClient,
                                                issued: tuple[str, Deliverable]) -> None:
    code, document = issued
    track = client.get(f"/api/v1/track/{code}").get_json()
    assert track["deliverables"] == [{
        "id": document.public_id, "title": "کارت راهنمای گردشگری",
        "issued_at": document.issued_at.isoformat(),
        "verify_url": f"https://miz.chht-isfahan.example/v/{document.public_id}"}]


def _page(client: FlaskClient, path: str) -> str:
    return html.unescape(client.get(path).get_data(as_text=True))


def test_the_page_shows_the_facts_and_the_state(app: Flask, client: FlaskClient,
                                                issued: tuple[str, Deliverable]) -> None:
    _code, document = issued
    page = _page(client, f"/v/{document.public_id}")
    assert "وضعیت سند: <strong>معتبر</strong>" in page
    for fact in ("کارت راهنمای گردشگری (کارت)", "۱۴۰۵-۰۰۰۰۰۱", document.holder,
                 "۱ فروردین ۱۴۰۵", "۱ فروردین ۱۴۰۷"):
        assert fact in page, fact
    masked = document.masked_national_code
    assert masked.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in page

    _revoke(app, document, "کارت به اشتباه صادر شد.")
    page = _page(client, f"/v/{document.public_id}")
    assert "وضعیت سند: <strong>باطل‌شده</strong>" in page
    assert "دلیل: کارت به اشتباه صادر شد." in page

    missing = client.get(f"/v/{'c' * 24}")
    assert missing.status_code == 404 and "سندی با این شناسه صادر نشده است" in html.unescape(
        missing.get_data(as_text=True))


def test_the_page_tells_whether_a_file_is_the_one_issued(
        app: Flask, client: FlaskClient, issued: tuple[str, Deliverable]) -> None:
    _code, document = issued
    path = f"/v/{document.public_id}"
    original = app.extensions["miz.storage"].read(document.stored_name)

    def check(data: bytes) -> str:
        token = CSRF.search(client.get(path).get_data(as_text=True))
        assert token is not None
        response = client.post(path, data={"csrf_token": token.group(1),
                                           "file": (io.BytesIO(data), "سند.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code == 200
        return html.unescape(response.get_data(as_text=True))

    assert "این پرونده دقیقاً همان سندی است که صادر شده است." in check(original)
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01
    assert "این پرونده با سند صادرشده یکسان نیست" in check(bytes(changed))
