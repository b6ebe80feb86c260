"""A clerk attaches a document the applicant brought to the counter, scanned there: checked
by its bytes, recorded as the staff's (the clerk in the audit log), and — through the same
use case as the applicant's upload — the waiting request goes back to review."""

from __future__ import annotations

import html
import io
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import AuditEntry, RequestEvent, ServiceRequest
from shared.catalog.schema import Catalog
from tests.conftest import csrf_token, login
from tests.server.test_asked_documents import COURSE, EXAM, NAMES, _waiting
from tests.server.test_desk import act, file_online
from tests.server.test_documents import png_bytes


def _attach(staff: FlaskClient, code: str, files: dict[str, tuple[bytes, str]],
            move_on: bool, token_from: str = "") -> tuple[int, str]:
    token = csrf_token(staff, token_from or f"/desk/requests/{code}")
    data: dict[str, object] = {"csrf_token": token,
                               "client_id": str(uuid.uuid4())}
    if move_on:
        data["move_on"] = "yes"
    for slot, (content, name) in files.items():
        data[f"documents.{slot}"] = (io.BytesIO(content), name)
    response = staff.post(f"/desk/requests/{code}/documents", data=data,
                          content_type="multipart/form-data", follow_redirects=True)
    return response.status_code, html.unescape(response.get_data(as_text=True))


def _clerk(app: Flask, username: str = "guides") -> FlaskClient:
    staff = app.test_client()
    login(staff, username)
    return staff


def _history(app: Flask, code: str) -> tuple[str, list[tuple[str, str, int | None]],
                                              list[tuple[str, str, int | None]]]:
    """Status, documents (slot, uploaded_by, request), events (action, actor, user)."""
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        documents = [(d.slot, d.uploaded_by, d.original_name) for d in item.documents]
        events = [(e.action, e.actor, e.user_id) for e in session.scalars(
            select(RequestEvent).where(RequestEvent.request_id == item.id)
            .order_by(RequestEvent.id))]
        return item.status, documents, events  # type: ignore[return-value]


def _audit(app: Flask, action: str) -> list[tuple[int | None, dict]]:
    with app.app_context(), database().session() as session:
        return [(a.user_id, a.details) for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_a_clerk_attaches_a_scanned_document_and_moves_the_request_on(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = _waiting(app, client, demo_catalog, [COURSE])
    staff = _clerk(app)
    desk = html.unescape(staff.get(f"/desk/requests/{code}").get_data(as_text=True))
    assert "پیوست مدرکی که متقاضی به پیشخوان آورده" in desk
    assert f'name="documents.{COURSE}"' in desk and f'name="documents.{EXAM}"' not in desk

    status, page = _attach(staff, code, {COURSE: (png_bytes((80, 60)), "scan-0001.png")},
                           move_on=True)
    assert status == 200 and "مدرک پیوست شد و درخواست به بررسی برگشت." in page
    state, documents, events = _history(app, code)
    clerk = staff_users["guides"]
    assert state == "in_review"
    assert documents == [(COURSE, "staff", "scan-0001.png")]
    assert events[-2:] == [("document_added", "staff", clerk),
                           ("documents_provided", "staff", clerk)]
    attached = _audit(app, "document.attached_at_counter")
    assert [(user, details["slot"]) for user, details in attached] == [(clerk, COURSE)]
    assert [(user, details["to_status"]) for user, details in
            _audit(app, "request.documents_provided")] == [(clerk, "in_review")]
    track = client.get(f"/api/v1/track/{code}").get_json()
    assert track["documents"] == [NAMES[COURSE]] and track["asked_documents"] == []


def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_moves(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = _waiting(app, client, demo_catalog, [COURSE])
    staff = _clerk(app)
    _, page = _attach(staff, code, {COURSE: (b"not really a scan", "scan.png")}, move_on=True)
    assert f"قالب پرونده «{NAMES[COURSE]}» پذیرفته نیست" in page
    _, empty = _attach(staff, code, {}, move_on=True)
    assert "پرونده‌ای انتخاب نشده است." in empty
    state, documents, events = _history(app, code)
    assert (state, documents, events[-1][0]) == ("waiting_citizen", [], "request_documents")
    assert _audit(app, "document.attached_at_counter") == []


def test_attaching_without_moving_on_keeps_the_status(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = file_online(client, demo_catalog)
    staff = _clerk(app)
    act(staff, code, "claim")
    _, page = _attach(staff, code, {EXAM: (png_bytes(), "exam.png")}, move_on=False)
    assert "مدرک پیوست شد." in page
    state, documents, events = _history(app, code)
    assert (state, documents) == ("in_review", [(EXAM, "staff", "exam.png")])
    assert events[-1] == ("document_added", "staff", staff_users["guides"])
    _, again = _attach(staff, code, {EXAM: (png_bytes(), "exam.png")}, move_on=True)
    assert "این درخواست اکنون منتظر مدرکی از متقاضی نیست." in again
    assert _history(app, code)[1] == [(EXAM, "staff", "exam.png")]


def test_only_staff_of_the_service_attach_and_never_to_a_closed_request(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = file_online(client, demo_catalog)
    other, _ = _attach(_clerk(app, "crafts"), code, {EXAM: (png_bytes(), "e.png")}, False,
                       token_from="/desk/walk-in")
    assert other == 403
    staff = _clerk(app)
    act(staff, code, "claim")
    act(staff, code, "reject", public_note="مدارک ناقص است.")
    _, page = _attach(staff, code, {EXAM: (png_bytes(), "e.png")}, move_on=False)
    assert "این درخواست بسته شده است" in page
    assert _history(app, code)[1] == []


def test_documents_attached_earlier_can_move_the_request_on_later(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = _waiting(app, client, demo_catalog, [COURSE, EXAM])
    staff = _clerk(app)
    _, nothing = _attach(staff, code, {}, move_on=True)
    assert "پرونده‌ای انتخاب نشده است." in nothing  # nothing has come since the ask
    _attach(staff, code, {COURSE: (png_bytes(), "course.png")}, move_on=False)
    _attach(staff, code, {EXAM: (png_bytes(), "exam.png")}, move_on=False)
    assert _history(app, code)[0] == "waiting_citizen"
    _, page = _attach(staff, code, {}, move_on=True)
    assert "درخواست به بررسی برگشت." in page and "مدرک پیوست شد" not in page
    state, documents, events = _history(app, code)
    assert state == "in_review" and len(documents) == 2
    assert events[-1] == ("documents_provided", "staff", staff_users["guides"])
