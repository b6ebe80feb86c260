"""The staff desk: login and lockout, roles and services, the workflow, audit, safety."""

from __future__ import annotations

import html
import time
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import AuditEntry, Notification, ServiceRequest, User
from counter_server.usecases.inbox import open_inbox
from counter_server.usecases.staff import Role, create_user, may_work_on
from shared.catalog.schema import Catalog
from shared.tracking_codes import format_code
from tests.conftest import csrf_token, login
from tests.server.test_requests_api import body
from tests import online


def file_online(client: FlaskClient, demo_catalog: Catalog, service: str = "tour-guide-card",
                **fields: object) -> str:
    data = body(demo_catalog)
    if service != "tour-guide-card":
        from counter_server.demo import sample_value

        spec = demo_catalog.service(service)
        data.update(service=service, fields={f.name: sample_value(f) for f in spec.form})
    data["fields"].update(fields)
    response = online.file_online(client, data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["tracking_code"]


def act(client: FlaskClient, code: str, action: str, **form: str) -> str:
    token = csrf_token(client, f"/desk/requests/{code}")
    response = client.post(f"/desk/requests/{code}/act",
                           data={"action": action, "csrf_token": token, **form},
                           follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def record_manual_result(client: FlaskClient, code: str, inquiry: str, reason: str,
                         holds: bool = True) -> str:
    token = csrf_token(client, f"/desk/requests/{code}")
    response = client.post(f"/desk/requests/{code}/inquiries/{inquiry}/manual",
                           data={"holds": "yes" if holds else "no", "reason": reason,
                                 "csrf_token": token}, follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def status_of(app: Flask, code: str) -> str:
    with app.app_context(), database().session() as session:
        return session.scalar(select(ServiceRequest.status)
                              .where(ServiceRequest.tracking_code == code))


def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient) -> None:
    for path in ("/desk/", "/desk/walk-in", "/desk/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and "/desk/login" in response.headers["Location"]


def test_repeated_failed_logins_lock_the_account(client: FlaskClient, staff_users: dict) -> None:
    token = csrf_token(client, "/desk/login")
    for _ in range(5):
        page = client.post("/desk/login", data={"username": "guides", "password": "wrong",
                                                "csrf_token": token}).get_data(as_text=True)
        assert "نام کاربری یا گذرواژه نادرست است" in html.unescape(page)
    locked = client.post("/desk/login", data={"username": "guides", "password":
                                              "correct horse battery", "csrf_token": token})
    assert locked.status_code == 200 and "قفل" in locked.get_data(as_text=True)


def test_forms_without_a_csrf_token_are_refused(client: FlaskClient, staff_users: dict) -> None:
    response = client.post("/desk/login", data={"username": "guides",
                                                "password": "correct horse battery"})
    assert response.status_code == 400
    assert "درخواست نامعتبر است" in response.get_data(as_text=True)


def test_clerk_sees_and_acts_only_on_assigned_services(
    app: Flask, client: FlaskClient, staff_users: dict, demo_catalog: Catalog
) -> None:
    mine = file_online(client, demo_catalog)
    theirs = file_online(client, demo_catalog, service="handicraft-production-licence")
    login(client, "guides")
    inbox = client.get("/desk/").get_data(as_text=True)
    assert format_code(mine, persian=True) in inbox
    assert format_code(theirs, persian=True) not in inbox
    assert client.get(f"/desk/requests/{theirs}").status_code == 403
    token = csrf_token(client, f"/desk/requests/{mine}")
    refused = client.post(f"/desk/requests/{theirs}/act",
                          data={"action": "claim", "csrf_token": token})
    assert refused.status_code == 403
    assert status_of(app, theirs) == "submitted"


def test_full_workflow_with_history_sms_and_audit(
    app: Flask, client: FlaskClient, staff_users: dict, demo_catalog: Catalog
) -> None:
    code = file_online(client, demo_catalog)
    login(client, "guides")
    act(client, code, "claim")
    assert status_of(app, code) == "in_review"
    page = act(client, code, "complete")
    assert "ممکن نیست" in page and status_of(app, code) == "in_review"
    page = act(client, code, "request_documents", public_note="گواهی دوره را دوباره بفرستید.")
    assert status_of(app, code) == "waiting_citizen"
    with app.app_context(), database().transaction() as session:
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        item.status = "in_review"  # the citizen's reply is covered by the browser test
    # No worker has run: the blocking mobile check is unanswered, so the request waits.
    assert "هنوز نتیجه ندارد" in act(client, code, "advance")
    assert status_of(app, code) == "in_review"
    record_manual_result(client, code, "mobile-check", "با متقاضی تماس گرفته شد؛ خط به نام خودش است.")
    act(client, code, "advance", internal_note="استعلام فرستاده شد")
    assert status_of(app, code) == "in_progress"
    record_manual_result(client, code, "criminal-record", "گواهی کاغذی عدم سوءپیشینه دیده شد.")
    assert "پیش از تأیید" in act(client, code, "approve") and status_of(app, code) == "in_progress"
    act(client, code, "record_payment", payment_reference="PAY-123456")
    act(client, code, "approve", public_note="تأیید شد")
    act(client, code, "complete", public_note="کارت با پست فرستاده شد.")
    assert status_of(app, code) == "completed"
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        assert [e.action for e in item.events] == [
            "submit", "claim", "request_documents", "advance", "record_payment", "approve",
            "complete"]
        assert item.events[3].internal_note == "استعلام فرستاده شد"
        sms = list(session.scalars(select(Notification).where(
            Notification.request_id == item.id).order_by(Notification.id)))
        # The step the clerk moved it to is not one the service announces: no «در حال انجام».
        assert [n.event for n in sms] == ["submit", "request_documents", "record_payment",
                                          "approve", "complete", "survey"]
        assert len({n.text for n in sms}) == len(sms)
        actions = [a.action for a in session.scalars(select(AuditEntry)
                                                      .where(AuditEntry.request_id == item.id))]
        assert "request.personal_data_viewed" in actions and "request.complete" in actions
    tracking = client.get(f"/api/v1/track/{code}").get_json()
    assert all(step["state"] == "done" for step in tracking["steps"])


def test_script_typed_into_a_form_does_not_run_on_the_desk(
    app: Flask, client: FlaskClient, staff_users: dict, demo_catalog: Catalog
) -> None:
    spec = demo_catalog.service("tour-guide-card")
    text_field = next(f.name for f in spec.form if f.type.value in ("text", "textarea"))
    code = file_online(client, demo_catalog, **{text_field: "<script>alert('x')</script>"})
    login(client, "guides")
    page = client.get(f"/desk/requests/{code}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    assert "script-src 'self'" in client.get(f"/desk/requests/{code}").headers[
        "Content-Security-Policy"]


def test_idle_session_expires_and_a_remember_cookie_cannot_revive_it(
    app: Flask, client: FlaskClient, staff_users: dict
) -> None:
    login(client, "boss")
    assert client.get("/desk/").status_code == 200
    with client.session_transaction() as http_session:
        http_session["last_seen"] = time.time() - 31 * 60
    expired = client.get("/desk/")
    assert expired.status_code == 302 and "/desk/login" in expired.headers["Location"]
    assert client.get("/desk/").status_code == 302

    from flask_login.utils import encode_cookie

    with app.test_request_context():
        cookie = encode_cookie(str(staff_users["boss"]))
    fresh = app.test_client()
    fresh.set_cookie("remember_token", cookie)
    response = fresh.get("/desk/")
    assert response.status_code == 302 and "/desk/login" in response.headers["Location"]


def test_receptionist_files_a_walk_in_and_gets_a_receipt(
    app: Flask, client: FlaskClient, staff_users: dict, demo_catalog: Catalog
) -> None:
    from counter_server.demo import sample_value

    login(client, "front")
    assert client.get("/desk/").headers["Location"].endswith("/desk/walk-in")
    spec = demo_catalog.service("general-correspondence")
    path = f"/desk/walk-in/{spec.slug}"
    token = csrf_token(client, path)
    form = {"csrf_token": token, "client_id": "3f6c1c52-8a5e-4c1e-9d3a-2b1f0e6c9a11",
            "applicant.name": "مهدی قاسمی", "applicant.national_code": "۰۰۶۷۷۴۹۸۲۸",
            "applicant.mobile": "۰۹۱۲۳۴۵۶۷۸۹"}
    for field in spec.form:
        value = sample_value(field)
        form[f"fields.{field.name}"] = value if not isinstance(value, bool) else "on"
    response = client.post(path, data=form)
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))[:3000]
    receipt = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "رسید ثبت درخواست" in receipt and spec.title in receipt
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest))
        assert (item.channel, item.applicant_national_code) == ("counter", "0067749828")
        assert item.created_by_id == staff_users["front"]
    replay = client.post(path, data=form)
    assert replay.status_code == 302
    with app.app_context(), database().session() as session:
        assert len(session.scalars(select(ServiceRequest)).all()) == 1


def test_receptionist_cannot_open_requests(client: FlaskClient, staff_users: dict,
                                           demo_catalog: Catalog) -> None:
    code = file_online(client, demo_catalog)
    login(client, "front")
    assert client.get(f"/desk/requests/{code}").status_code == 403


@pytest.mark.parametrize("header", ["Content-Security-Policy", "X-Content-Type-Options",
                                    "Referrer-Policy", "X-Frame-Options"])
def test_security_headers_on_every_page(client: FlaskClient, header: str) -> None:
    for path in ("/", "/desk/login", "/api/v1/catalog"):
        assert header in client.get(path).headers


def test_session_cookie_flags(empty_app: Flask, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from counter_server import create_app

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "i")})
    response = app.test_client().get("/desk/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert (tmp_path / "i" / "secret_key").stat().st_mode & 0o077 == 0


def test_inbox_shows_exactly_the_requests_may_work_on_allows(
    app: Flask, client: FlaskClient, staff_users: dict, demo_catalog: Catalog
) -> None:
    services = ("tour-guide-card", "tour-guide-card-renewal", "handicraft-production-licence",
                "general-correspondence")
    filed = {file_online(client, demo_catalog, service=s): s for s in services}
    with app.app_context(), database().transaction() as session:
        create_user(session, "root", "Root", Role.admin, "correct horse battery")
    expected = {"guides": {"tour-guide-card", "tour-guide-card-renewal"},
                "crafts": {"handicraft-production-licence"},
                "boss": set(services), "root": set(services), "front": set()}
    with app.app_context(), database().session() as session:
        for username, visible in expected.items():
            user = session.scalar(select(User).where(User.username == username))
            found = open_inbox(session, user, {"status": "all"}, date.today()).items
            allowed = {code for code, slug in filed.items() if may_work_on(user, slug)}
            assert {item.tracking_code for item in found} == allowed, username
            assert {filed[code] for code in allowed} == visible, username
    login(client, "guides")
    page = client.get("/desk/?status=all").get_data(as_text=True)
    shown = {code for code in filed if format_code(code, persian=True) in page}
    assert {filed[code] for code in shown} == expected["guides"]
