"""The public tracking page: progress for anyone, personal data only for the applicant."""

from __future__ import annotations

import html
import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from counter_server.context import database
from counter_server.models import ServiceRequest
from shared.catalog.schema import Catalog
from tests.conftest import csrf_token
from tests.server.test_documents import png_bytes
from tests.server.test_requests_api import APPLICANT, body
from tests.online import confirm_on_web, file_online


def _text(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status
    return html.unescape(response.get_data(as_text=True))


def _verify(client: FlaskClient, code: str, national_code: str, mobile: str) -> str:
    token = csrf_token(client, f"/t/{code}")
    response = client.post(f"/t/{code}/verify", data={
        "national_code": national_code, "mobile": mobile, "csrf_token": token},
        follow_redirects=True)
    return html.unescape(response.get_data(as_text=True))


def test_stranger_sees_progress_but_no_personal_data(client: FlaskClient,
                                                     demo_catalog: Catalog) -> None:
    data = body(demo_catalog)
    code = file_online(client, data).get_json()["tracking_code"]
    page = _text(client, f"/t/{code}")
    spec = demo_catalog.service("tour-guide-card")
    assert spec.title in page and spec.steps[0].title in page
    assert spec.complaint.authority in page and spec.responsible.name in page
    assert "ثبت‌شده، در انتظار بررسی" in page
    for secret in (APPLICANT["name"], APPLICANT["national_code"], APPLICANT["mobile"],
                   "۰۴۹۹۳۷۰۸۹۹", "۰۹۱۲۱۲۳۴۵۶۷"):
        assert secret not in page


def test_applicant_check_reveals_data_and_failures_lock_it(client: FlaskClient,
                                                           demo_catalog: Catalog) -> None:
    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    for _ in range(5):
        page = _verify(client, code, APPLICANT["national_code"], "09120000000")
        assert "یکسان نیست" in page
    locked = _verify(client, code, APPLICANT["national_code"], APPLICANT["mobile"])
    assert "قفل" in locked and APPLICANT["name"] not in locked

    other = client.application.test_client()
    code2 = file_online(other, body(demo_catalog)).get_json()["tracking_code"]
    page = _verify(other, code2, "۰۴۹۹۳۷۰۸۹۹", "+98 912 123 4567")
    assert "هویت شما تأیید شد" in page and APPLICANT["name"] in page


def test_malformed_and_unknown_codes_get_persian_pages(client: FlaskClient) -> None:
    assert "۱۶ رقم" in _text(client, "/t/12345", status=400)
    assert "پیدا نشد" in _text(client, "/t/0000000000000000", status=404)
    assert "نادرست" in _text(client, "/t/0000000000000001", status=400)
    redirect = client.get("/t?code=" + "۰۰۰۰ " * 4)
    assert redirect.status_code == 302 and redirect.headers["Location"].endswith("/t/" + "0" * 16)


def test_online_apply_with_a_document(app: Flask, client: FlaskClient,
                                      demo_catalog: Catalog) -> None:
    from counter_server.demo import sample_value

    spec = demo_catalog.service("general-correspondence")
    confirm_on_web(client, spec.slug)
    token = csrf_token(client, f"/services/{spec.slug}/apply")
    form: dict[str, object] = {
        "csrf_token": token, "client_id": "0d4c8f8e-3c57-4a3e-8f1e-4c1f5d2a9b10",
        "applicant.name": "زهرا احمدی", "applicant.national_code": "0499370899",
        "applicant.mobile": "09121234567"}
    for field in spec.form:
        value = sample_value(field)
        form[f"fields.{field.name}"] = "on" if value is True else value
    slot = spec.documents[0]
    form[f"documents.{slot.id}"] = (io.BytesIO(png_bytes()), "letter.png")
    response = client.post(f"/services/{spec.slug}/apply", data=form,
                           content_type="multipart/form-data")
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))[-3000:]
    receipt = html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "درخواست شما ثبت شد" in receipt
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest))
        assert [d.slot for d in item.documents] == [slot.id]
    qr = client.get(f"/t/{item.tracking_code}/qr.svg")
    assert qr.mimetype == "image/svg+xml" and b"<svg" in qr.data


def test_apply_form_shows_persian_errors_per_field(client: FlaskClient,
                                                   demo_catalog: Catalog) -> None:
    spec = demo_catalog.service("tour-guide-card")
    confirm_on_web(client, spec.slug)
    token = csrf_token(client, f"/services/{spec.slug}/apply")
    response = client.post(f"/services/{spec.slug}/apply", data={
        "csrf_token": token, "applicant.name": "12", "applicant.national_code": "123",
        "applicant.mobile": "0912"}, content_type="multipart/form-data")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "لطفاً این موارد را درست کنید" in page
    assert 'aria-invalid="true"' in page
    mandatory = [d.name for d in spec.documents if d.mandatory]
    assert all(f"لطفاً «{name}» را بارگذاری کنید." in page for name in mandatory)


def _apply_general_correspondence(client: FlaskClient, demo_catalog: Catalog,
                                  client_id: str) -> str:
    """File a general-correspondence request online with one PNG; its tracking code."""
    from counter_server.demo import sample_value

    spec = demo_catalog.service("general-correspondence")
    confirm_on_web(client, spec.slug)
    form: dict[str, object] = {
        "csrf_token": csrf_token(client, f"/services/{spec.slug}/apply"), "client_id": client_id,
        "applicant.name": "زهرا احمدی", "applicant.national_code": "0499370899",
        "applicant.mobile": "09121234567",
        f"documents.{spec.documents[0].id}": (io.BytesIO(png_bytes()), "letter.png")}
    for field in spec.form:
        value = sample_value(field)
        form[f"fields.{field.name}"] = "on" if value is True else value
    response = client.post(f"/services/{spec.slug}/apply", data=form,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    return response.headers["Location"].split("/t/")[1].split("/")[0]


def test_both_upload_forms_name_their_files_the_same_way(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    """The apply form and the missing-document form derive each file's id with
    `forms.upload_id`, so a re-sent form never stores a file twice."""
    from counter_server.models import User
    from counter_server.usecases.workflow import StaffAction, perform
    from counter_server.web.forms import upload_id
    from shared.workflow import Action

    slot = demo_catalog.service("general-correspondence").documents[0].id
    first, second = "0d4c8f8e-3c57-4a3e-8f1e-4c1f5d2a9b10", "6f1c2a9e-8d7b-4c3a-9e21-5b0d7f4e8a11"
    code = _apply_general_correspondence(client, demo_catalog, first)
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        boss = session.get(User, staff_users["boss"])
        perform(session, item, boss, StaffAction(Action.claim))
        perform(session, item, boss, StaffAction(Action.request_documents,
                                                 public_note="نامه امضا ندارد."))
        session.commit()
    _verify(client, code, "0499370899", "09121234567")
    page = client.post(f"/t/{code}/documents", data={
        "csrf_token": csrf_token(client, f"/t/{code}"), "client_id": second,
        f"documents.{slot}": (io.BytesIO(png_bytes((50, 50))), "signed.png")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "مدارک شما رسید" in html.unescape(page.get_data(as_text=True))
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        assert item.status == "in_review"
        assert [(d.original_name, d.client_id) for d in item.documents] == [
            ("letter.png", upload_id(first, slot, 0)), ("signed.png", upload_id(second, slot, 0))]


def test_apply_error_summary_follows_the_page(client: FlaskClient, demo_catalog: Catalog) -> None:
    """Applicant fields, then the service's fields, then documents — as they sit on the page."""
    import re

    spec = demo_catalog.service("tour-guide-card")
    confirm_on_web(client, spec.slug)
    token = csrf_token(client, f"/services/{spec.slug}/apply")
    response = client.post(f"/services/{spec.slug}/apply", data={
        "csrf_token": token, "applicant.name": "", "applicant.national_code": "123",
        "applicant.mobile": "0912"}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    summary = page[page.index('id="error-summary"'):page.index("</ul>", page.index('id="error-summary"'))]
    listed = re.findall(r'href="#([^"]+)"', summary)
    expected = ["applicant-name"]  # the national code and mobile are the confirmed ones
    expected += [f"fields-{f.name}" for f in spec.form if f.required]
    expected += [f"documents-{d.id}" for d in spec.documents if d.mandatory]
    assert listed == expected
    ids_on_page = re.findall(r'\bid="((?:applicant|fields|documents)-[^"]+?)"', page)
    assert sorted(listed, key=ids_on_page.index) == listed


def test_failed_check_keeps_what_was_typed(client: FlaskClient, demo_catalog: Catalog) -> None:
    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    token = csrf_token(client, f"/t/{code}")
    response = client.post(f"/t/{code}/verify", data={
        "national_code": "۰۴۹۹۳۷۰۸۹۹", "mobile": "09121234568", "csrf_token": token})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert 'value="۰۴۹۹۳۷۰۸۹۹"' in page and 'value="09121234568"' in page
    assert "یکسان نیست" in page and APPLICANT["name"] not in page
    assert f'action="/t/{code}/verify#applicant"' in page
    assert "یکسان نیست" not in _text(client, f"/t/{code}")  # said once, not kept for later


def test_the_applicant_can_stop_and_resume_the_sms_of_their_request(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict) -> None:
    from counter_server.models import Notification

    request_sms = select(Notification).where(Notification.request_id.is_not(None))
    from tests.conftest import login
    from tests.server.test_desk import act

    response = file_online(client, body(demo_catalog))
    code = response.get_json()["tracking_code"]
    stranger = app.test_client()
    assert stranger.post(f"/t/{code}/sms", data={"sms": "stop", "csrf_token": csrf_token(
        stranger, f"/t/{code}")}).status_code == 403  # only the applicant, once proven
    _verify(client, code, APPLICANT["national_code"], APPLICANT["mobile"])
    token = csrf_token(client, f"/t/{code}")
    page = html.unescape(client.post(f"/t/{code}/sms", data={"sms": "stop", "csrf_token": token},
                                     follow_redirects=True).get_data(as_text=True))
    assert "دیگر برای این درخواست پیامکی فرستاده نمی‌شود" in page
    with app.app_context(), database().session() as session:
        assert [m.status for m in session.scalars(request_sms)] == ["cancelled"]
    staff = app.test_client()
    login(staff, "guides")
    act(staff, code, "claim")
    act(staff, code, "request_documents", public_note="گواهی دوره خوانا نیست.")
    with app.app_context(), database().session() as session:
        assert session.scalar(select(func.count()).select_from(request_sms.subquery())) == 1  # no new one
    token = csrf_token(client, f"/t/{code}")
    client.post(f"/t/{code}/sms", data={"sms": "resume", "csrf_token": token})
    act(staff, code, "reject", public_note="مهلت ارسال مدرک گذشت.")
    with app.app_context(), database().session() as session:
        events = [m.event for m in session.scalars(request_sms.order_by(Notification.id))]
    assert events == ["submit", "reject"]
