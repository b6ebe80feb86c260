"""Abuse limits: online filings per address and per mobile, a filing's total size (its form
back with a Persian message, never a bare 413), proxies' forwarded addresses, production's
shared limiter store and HSTS, kiosks' own limits, and the small ones of issue 13 (a ticket's
`issued_at`, tracking-code routes rate-limited, no tracking code from the public ticket API,
PDFs downloaded rather than opened)."""

from __future__ import annotations

import html
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from counter_server import create_app
from counter_server.context import database
from counter_server.demo import sample_value
from counter_server.models import AuditEntry, ServiceRequest, Ticket
from counter_server.usecases import kiosks
from shared import tracking_codes
from shared.catalog.schema import Catalog
from tests.conftest import TEST_PASSWORD, csrf_token, login
from tests.online import confirm_on_web, file_online
from tests.server.test_queue import MORNING, OFFICE, run
from tests.server.test_requests_api import APPLICANT, body
from tests.server.test_documents import png_bytes

SERVICE = "general-correspondence"  # no mandatory document: one slot of up to ten files
APPLY = f"/services/{SERVICE}/apply"
MB = 1024 * 1024


def requests_filed(app: Flask) -> int:
    with app.app_context(), database().session() as session:
        return session.scalar(select(func.count()).select_from(ServiceRequest)) or 0


def applicant(mobile: str) -> dict[str, str]:
    return {**APPLICANT, "mobile": mobile}


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


# 1. Filing -----------------------------------------------------------------------------------

def test_online_filings_are_limited_per_mobile_and_per_address(
        app: Flask, client: FlaskClient, demo_catalog: Catalog) -> None:
    app.config.update(FILINGS_PER_MOBILE="2 per day", FILINGS_PER_ADDRESS="3 per hour")
    first = body(demo_catalog, applicant=applicant("09121234567"))
    statuses = [file_online(client, first).status_code,
                file_online(client, body(demo_catalog, applicant=applicant("09121234567")))
                .status_code]
    third = file_online(client, body(demo_catalog, applicant=applicant("09121234567")))
    assert statuses == [201, 201] and third.status_code == 429
    assert third.get_json()["code"] == "too_many_filings"
    assert "درخواست‌های بسیاری ثبت" in third.get_json()["message"]
    replay = client.post("/api/v1/requests", json={**first, "mobile_confirmation": None})
    assert replay.status_code == 200  # a replay files nothing and is always answered
    # The address's third filing (another mobile) passes; its fourth does not.
    assert file_online(client, body(demo_catalog, applicant=applicant("09351234567"))
                       ).status_code == 201
    fourth = file_online(client, body(demo_catalog, applicant=applicant("09131234567")))
    assert (fourth.status_code, fourth.get_json()["code"]) == (429, "too_many_filings")
    elsewhere = file_online(client, body(demo_catalog, applicant=applicant("09131234567")),
                            **from_address("10.1.2.3"))
    assert elsewhere.status_code == 201
    assert requests_filed(app) == 4


def test_the_web_form_counts_with_the_api_and_comes_back_when_the_limit_is_reached(
        app: Flask, client: FlaskClient, demo_catalog: Catalog) -> None:
    app.config.update(FILINGS_PER_MOBILE="1 per day")
    assert file_online(client, body(demo_catalog)).status_code == 201
    confirm_on_web(client, SERVICE)
    response = client.post(APPLY, data=service_form(client, demo_catalog),
                           content_type="multipart/form-data")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 429 and "درخواست‌های بسیاری ثبت" in page
    assert 'value="زهرا احمدی"' in page  # what was typed is kept
    assert requests_filed(app) == 1


def service_form(client: FlaskClient, demo_catalog: Catalog) -> dict[str, object]:
    """The online form of SERVICE filled in (no files)."""
    spec = demo_catalog.service(SERVICE)
    assert spec is not None
    form: dict[str, object] = {
        "csrf_token": csrf_token(client, APPLY), "client_id": str(uuid.uuid4()),
        "applicant.name": "زهرا احمدی"}
    for field in spec.form:
        value = sample_value(field)
        form[f"fields.{field.name}"] = "on" if value is True else value
    return form


def big_pdf(size: int) -> bytes:
    return b"%PDF-1.7\n" + b"0" * (size - 16) + b"\n%%EOF\n"


def test_seven_documents_under_the_file_limit_but_over_the_total_come_back_with_the_form(
        app: Flask, client: FlaskClient, demo_catalog: Catalog) -> None:
    confirm_on_web(client, SERVICE)
    form = service_form(client, demo_catalog)
    pdf = big_pdf(int(9.5 * MB))
    form["documents.attachments"] = [(io.BytesIO(pdf), f"scan-{n}.pdf") for n in range(7)]
    response = client.post(APPLY, data=form, content_type="multipart/form-data")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422, page[-1500:]
    assert "روی هم ۶۷ مگابایت است و بیش از ۴۰ مگابایت پذیرفته نمی‌شود" in page
    assert 'value="زهرا احمدی"' in page and 'name="fields.' in page
    assert "لطفاً «" not in page  # no "upload X" errors for files that were sent
    assert requests_filed(app) == 0


def test_the_form_says_the_limits_and_its_script_checks_them(
        client: FlaskClient, demo_catalog: Catalog) -> None:
    confirm_on_web(client, SERVICE)
    page = html.unescape(client.get(APPLY).get_data(as_text=True))
    assert "هر پرونده حداکثر ۱۰ مگابایت و همه پرونده‌ها روی هم حداکثر ۴۰ مگابایت" in page
    assert f'data-max-file-bytes="{10 * MB}" data-max-total-bytes="{40 * MB}"' in page
    assert "data-size-error" in page and "<script>" not in page
    script = client.get("/static/file-picker.js").get_data(as_text=True)
    assert "data-max-total-bytes" in script and "preventDefault" in script


def test_a_body_past_the_ceiling_gets_the_form_back_in_persian(
        app: Flask, client: FlaskClient, demo_catalog: Catalog) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2 * MB
    confirm_on_web(client, SERVICE)
    form = service_form(client, demo_catalog)
    form["documents.attachments"] = (io.BytesIO(big_pdf(3 * MB)), "scan.pdf")
    response = client.post(APPLY, data=form, content_type="multipart/form-data")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 413
    assert "بیش از ۲ مگابایت بود و دریافت نشد" in page and 'name="fields.' in page


# 2. Behind a proxy -----------------------------------------------------------------------------

@pytest.fixture
def proxied(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app (same database) behind one trusted proxy: `MIZ_PROXY_HOPS=1`."""
    behind = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                         "INSTANCE_PATH": str(tmp_path / "proxied"),
                         "SESSION_COOKIE_SECURE": False, "PROXY_HOPS": 1})
    yield behind
    with behind.app_context():
        database().dispose()


def test_with_a_trusted_proxy_each_client_has_its_own_bucket(proxied: Flask) -> None:
    client, code = proxied.test_client(), tracking_codes.new_code(0)
    first = {"X-Forwarded-For": "5.6.7.8"}
    statuses = [client.get(f"/api/v1/track/{code}", headers=first).status_code
                for _ in range(61)]
    assert statuses[-2:] == [404, 429]
    other = client.get(f"/api/v1/track/{code}", headers={"X-Forwarded-For": "9.9.9.9"})
    assert other.status_code == 404


def test_without_hops_a_forged_forwarded_for_changes_nothing(client: FlaskClient) -> None:
    code = tracking_codes.new_code(0)
    statuses = [client.get(f"/api/v1/track/{code}",
                           headers={"X-Forwarded-For": f"10.0.0.{n}"}).status_code
                for n in range(61)]
    assert statuses[-2:] == [404, 429]


def test_the_audit_log_records_the_client_not_the_proxy(
        proxied: Flask, staff_users: dict[str, int]) -> None:
    client = proxied.test_client()
    token = csrf_token(client, "/desk/login")
    response = client.post("/desk/login", headers={"X-Forwarded-For": "203.0.113.7"}, data={
        "username": "guides", "password": TEST_PASSWORD, "csrf_token": token})  # no 2nd factor
    assert response.status_code == 302
    with proxied.app_context(), database().session() as session:
        addresses = list(session.scalars(select(AuditEntry.address)
                                         .where(AuditEntry.action == "staff.login")))
    assert addresses == ["203.0.113.7"]


def test_production_refuses_the_in_memory_limiter_and_sends_hsts(
        database_url: str, tmp_path: Path) -> None:
    settings = {"DATABASE_URL": database_url, "SECRET_KEY": "test", "ENV": "production",
                "INSTANCE_PATH": str(tmp_path / "prod")}
    from counter_server.security import UnsafeConfiguration

    with pytest.raises(UnsafeConfiguration, match="MIZ_RATELIMIT_STORAGE_URI"):
        create_app(settings)
    app = create_app({**settings, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with app.app_context():
        database().dispose()


def test_hsts_is_not_sent_outside_production(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_kiosks_have_limits_of_their_own_by_token(app: Flask, client: FlaskClient) -> None:
    app.config["KIOSK_RATE_LIMIT"] = "5 per minute"
    tokens = [run(app, lambda s, n=n: kiosks.register_kiosk(s, f"lobby {n}")).token
              for n in range(2)]
    code = tracking_codes.new_code(0)

    def track(token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.get(f"/api/v1/track/{code}", headers=headers)

    first = [track(tokens[0]).status_code for _ in range(6)]
    assert first == [404] * 5 + [429]
    assert track(tokens[0]).get_json()["code"] == "kiosk_rate_limited"
    assert track(tokens[1]).status_code == 404  # the other kiosk, same address
    assert track(None).status_code == 404  # citizens at that address are not held back


# 8. The small ones -----------------------------------------------------------------------------

@pytest.fixture
def lobby(app: Flask, staff_users: dict[str, int]) -> dict[str, str]:
    """A working morning and a kiosk of the office (its Authorization header)."""
    from counter_server.usecases import lobby_admin

    app.config["CLOCK"] = lambda: MORNING
    run(app, lambda s: lobby_admin.add_counter(s, OFFICE, 1, None, ["tour-guides"]))
    registration = run(app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE))
    return {"Authorization": f"Bearer {registration.token}"}


def take(client: FlaskClient, headers: dict[str, str], **extra: object) -> Any:
    return client.post("/api/v1/tickets", headers=headers, json={
        "client_id": str(uuid.uuid4()), "service": "tour-guide-card", **extra})


def test_issued_at_only_from_a_kiosk_with_a_leased_number_and_never_after_now(
        app: Flask, client: FlaskClient, lobby: dict[str, str]) -> None:
    early = (MORNING - timedelta(hours=2)).isoformat()
    plain = take(client, lobby, issued_at=early)
    assert (plain.status_code, plain.get_json()["code"]) == (422, "issued_at_not_allowed")
    reception = app.test_client()
    login(reception, "front")
    staff = take(reception, {"X-CSRFToken": csrf_token(reception, "/desk/tickets")},
                 issued_at=early)
    assert (staff.status_code, staff.get_json()["code"]) == (422, "issued_at_not_allowed")
    client.post("/api/v1/tickets/leases", json={"queue": "tour-guides", "size": 5},
                headers=lobby)
    future = take(client, lobby, number=2, issued_at=(MORNING + timedelta(hours=3)).isoformat())
    assert future.status_code == 201
    with app.app_context(), database().session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.public_id == future.get_json()["id"]))
        assert ticket.issued_at == ticket.received_at == MORNING


def test_the_public_ticket_api_does_not_tell_the_tracking_code(
        client: FlaskClient, lobby: dict[str, str]) -> None:
    code = tracking_codes.new_code(0)
    issued = take(client, lobby, tracking_code=code)
    assert issued.get_json()["tracking_code"] == code  # to the kiosk that sent it
    public = client.get(f"/api/v1/tickets/{issued.get_json()['id']}")
    assert public.status_code == 200 and public.get_json()["tracking_code"] is None
    assert code not in public.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/t/{code}/receipt", "/t/{code}/qr.svg"])
def test_pages_keyed_by_a_tracking_code_are_rate_limited(
        client: FlaskClient, demo_catalog: Catalog, path: str) -> None:
    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    statuses = [client.get(path.format(code=code)).status_code for _ in range(61)]
    assert statuses[:60] == [200] * 60 and statuses[60] == 429


def test_documents_posted_by_tracking_code_are_rate_limited(
        client: FlaskClient, demo_catalog: Catalog) -> None:
    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    token = csrf_token(client, f"/t/{code}")
    web = [client.post(f"/t/{code}/documents", data={"csrf_token": token}).status_code
           for _ in range(21)]
    assert web[:20] == [403] * 20 and web[20] == 429
    api = [client.post(f"/api/v1/requests/{code}/documents", data={
        "client_id": str(uuid.uuid4()), "slot": "drug_test", "national_code": "0499370899",
        "mobile": "09350000000"}).get_json()["code"] for _ in range(21)]
    assert "rate_limited" not in api[:20] and api[20] == "rate_limited"


def test_uploaded_pdfs_are_downloaded_and_images_shown(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    registration = run(app, lambda s: kiosks.register_kiosk(s, "lobby"))
    kiosk = {"Authorization": f"Bearer {registration.token}"}
    code = tracking_codes.new_code(registration.kiosk.id)
    filed = file_online(client, body(demo_catalog, channel="kiosk", catalog_version=1,
                                     tracking_code=code), headers=kiosk)
    assert filed.status_code == 201
    ids = {}
    for slot, data, name in (("drug_test", big_pdf(2000), "test.pdf"),
                             ("exam_pass_certificate", png_bytes(), "pass.png")):
        sent = client.post(f"/api/v1/requests/{code}/documents", headers=kiosk, data={
            "client_id": str(uuid.uuid4()), "slot": slot, "file": (io.BytesIO(data), name)},
            content_type="multipart/form-data")
        assert sent.status_code == 201, sent.get_json()
        ids[sent.get_json()["media_type"]] = sent.get_json()["id"]
    login(client, "guides")
    pdf = client.get(f"/desk/requests/{code}/documents/{ids['application/pdf']}")
    png = client.get(f"/desk/requests/{code}/documents/{ids['image/png']}")
    assert pdf.status_code == 200 and pdf.headers["Content-Disposition"].startswith("attachment")
    assert png.status_code == 200 and png.headers["Content-Disposition"].startswith("inline")
