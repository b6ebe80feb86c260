"""Staff ask for named documents: the ask keeps them, the citizen's page lists exactly those,
the upload form (and the API) takes only those, the SMS names them; an ask that named none
works as before (its note says what is needed)."""

from __future__ import annotations

import html
import io
import re
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import Notification, RequestEvent, ServiceRequest
from shared.catalog.schema import Catalog
from tests.conftest import csrf_token, login
from tests.server.test_desk import act, file_online
from tests.server.test_documents import png_bytes
from tests.server.test_requests_api import APPLICANT
from tests.server.test_tracking_page import _verify

COURSE, PHOTO, EXAM = "course_certificate", "personal_photo", "exam_pass_certificate"
NAMES = {COURSE: "گواهی پایان دوره آموزشی", PHOTO: "عکس پرسنلی",
         EXAM: "گواهی قبولی در آزمون جامع راهنمایان گردشگری"}


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _ask(staff: FlaskClient, code: str, documents: list[str], note: str = "") -> str:
    token = csrf_token(staff, f"/desk/requests/{code}")
    return _text(staff.post(f"/desk/requests/{code}/act", data={
        "action": "request_documents", "csrf_token": token, "documents": documents,
        "public_note": note}, follow_redirects=True))


def _waiting(app: Flask, client: FlaskClient, demo_catalog: Catalog, documents: list[str],
             note: str = "") -> str:
    """A tour-guide-card request whose clerk asked for `documents`; its code."""
    code = file_online(client, demo_catalog)
    staff = app.test_client()
    login(staff, "guides")
    act(staff, code, "claim")
    page = _ask(staff, code, documents, note)
    assert "انجام شد: درخواست مدرک یا اصلاح از متقاضی" in page, page[-2000:]
    return code


def _send(client: FlaskClient, code: str, files: dict[str, tuple[bytes, str]]) -> str:
    data: dict[str, object] = {"csrf_token": csrf_token(client, f"/t/{code}"),
                               "client_id": str(uuid.uuid4())}
    for slot, (content, name) in files.items():
        data[f"documents.{slot}"] = (io.BytesIO(content), name)
    return _text(client.post(f"/t/{code}/documents", data=data,
                             content_type="multipart/form-data", follow_redirects=True))


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def _upload_form_slots(page: str) -> list[str]:
    form = page[page.index("فرستادن مدارک خواسته‌شده"):]
    form = form[:form.index("</form>")]
    return re.findall(r'name="documents\.([a-z_]+)"', form)


def _state(app: Flask, code: str) -> tuple[str, list[tuple[str, str]]]:
    """The request's status and its documents' (slot, uploaded by)."""
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        return item.status, sorted((d.slot, d.uploaded_by) for d in item.documents)


def test_the_ask_keeps_the_documents_and_the_page_lists_exactly_those(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = _waiting(app, client, demo_catalog, [PHOTO, COURSE])  # kept in the service's order

    with app.app_context(), database().session() as session:
        ask = session.scalars(select(RequestEvent).where(
            RequestEvent.action == "request_documents")).one()
        assert ask.details == {"documents": [COURSE, PHOTO]} and ask.public_note is None
        sms = session.scalars(select(Notification).where(
            Notification.event == "request_documents")).one()
    assert f"مدارک خواسته‌شده: «{NAMES[COURSE]}»، «{NAMES[PHOTO]}»" in sms.text

    track = client.get(f"/api/v1/track/{code}").get_json()
    assert track["asked_documents"] == [{"id": COURSE, "name": NAMES[COURSE]},
                                        {"id": PHOTO, "name": NAMES[PHOTO]}]
    assert track["citizen_action"] == f"این مدارک را بفرستید: «{NAMES[COURSE]}»، «{NAMES[PHOTO]}»."
    assert track["note"] is None

    page = _text(client.get(f"/t/{code}"))  # anyone holding the code sees what is needed
    listed = page[page.index('<ul class="asked-documents">'):]
    assert re.findall(r"<li>([^<]+)</li>", listed[:listed.index("</ul>")]) == [
        NAMES[COURSE], NAMES[PHOTO]]

    verified = _verify(client, code, APPLICANT["national_code"], APPLICANT["mobile"])
    assert _upload_form_slots(verified) == [COURSE, PHOTO]


def test_the_upload_takes_only_the_documents_asked_for_and_all_of_them(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = _waiting(app, client, demo_catalog, [COURSE, PHOTO])
    _verify(client, code, APPLICANT["national_code"], APPLICANT["mobile"])

    other = _send(client, code, {COURSE: (png_bytes(), "course.png"),
                                 EXAM: (png_bytes(), "exam.png")})
    assert (f"«{NAMES[EXAM]}» از شما خواسته نشده است؛ فقط این مدارک را بفرستید: "
            f"«{NAMES[COURSE]}»، «{NAMES[PHOTO]}».") in other
    half = _send(client, code, {COURSE: (png_bytes(), "course.png")})
    assert f"این مدارک خواسته‌شده هنوز نرسیده است: «{NAMES[PHOTO]}»" in half
    assert _state(app, code) == ("waiting_citizen", [])

    done = _send(client, code, {COURSE: (png_bytes(), "course.png"), PHOTO: (_jpeg(), "me.jpg")})
    assert "مدارک شما رسید" in done
    assert _state(app, code) == ("in_review", [(COURSE, "citizen"), (PHOTO, "citizen")])


def test_the_api_refuses_a_citizens_document_not_asked_for(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = _waiting(app, client, demo_catalog, [COURSE])

    def upload(slot: str) -> tuple[int, dict[str, str]]:
        response = client.post(f"/api/v1/requests/{code}/documents", data={
            "client_id": str(uuid.uuid4()), "slot": slot,
            "file": (io.BytesIO(png_bytes()), "a.png"),
            "national_code": APPLICANT["national_code"], "mobile": APPLICANT["mobile"]},
            content_type="multipart/form-data")
        return response.status_code, response.get_json()

    status, answer = upload(EXAM)
    assert status == 422 and answer["code"] == "document_not_asked"
    assert f"«{NAMES[EXAM]}» از شما خواسته نشده است" in answer["message"]
    status, answer = upload(COURSE)
    assert status == 201 and answer["slot"] == COURSE


def test_an_ask_that_names_no_document_works_as_before(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    spec = demo_catalog.service("tour-guide-card")
    code = _waiting(app, client, demo_catalog, [], note="گواهی دوره خوانا نیست.")
    track = client.get(f"/api/v1/track/{code}").get_json()
    assert track["asked_documents"] == [] and track["citizen_action"] == "گواهی دوره خوانا نیست."
    verified = _verify(client, code, APPLICANT["national_code"], APPLICANT["mobile"])
    assert "asked-documents" not in verified and "گواهی دوره خوانا نیست." in verified
    assert _upload_form_slots(verified) == [d.id for d in spec.documents_to_ask]
    with app.app_context(), database().session() as session:
        sms = session.scalars(select(Notification).where(
            Notification.event == "request_documents")).one()
    assert "\nگواهی دوره خوانا نیست.\n" in sms.text and "مدارک خواسته‌شده" not in sms.text
    assert "مدارک شما رسید" in _send(client, code, {EXAM: (png_bytes(), "exam.png")})
    assert _state(app, code) == ("in_review", [(EXAM, "citizen")])


def test_an_ask_names_documents_of_the_service_or_says_what_is_needed(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = file_online(client, demo_catalog)
    staff = app.test_client()
    login(staff, "guides")
    act(staff, code, "claim")
    assert "مدرک انتخاب‌شده در فهرست مدارک این خدمت نیست" in _ask(staff, code, ["passport"])
    assert "مدرک‌های لازم را انتخاب کنید یا بنویسید" in _ask(staff, code, [])
    assert _state(app, code)[0] == "in_review"
    desk = _text(staff.get(f"/desk/requests/{code}"))
    offered = re.findall(r'name="documents" value="([a-z_]+)"', desk)
    assert offered == [d.id for d in demo_catalog.service("tour-guide-card").documents]
