"""Each step shows the note written when it happened; the current state shows only a note
written since the request reached it — on the tracking page and in `GET /api/v1/track`."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from shared.catalog.schema import Catalog
from tests.conftest import csrf_token, login
from tests.server.test_desk import act, file_online
from tests.server.test_documents import png_bytes
from tests.server.test_tracking_page import _apply_general_correspondence, _verify

SERVICE = "general-correspondence"  # free, no inquiries: every step can be taken in a test
PRINTING = "کارت در حال چاپ است."


def _track(client: FlaskClient, code: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/track/{code}")
    assert response.status_code == 200
    return response.get_json()


def _page(client: FlaskClient, code: str) -> str:
    return html.unescape(client.get(f"/t/{code}").get_data(as_text=True))


def _status_box(page: str) -> str:
    """The part of the tracking page that tells the current state."""
    return page[page.index('class="status-box'):page.index('<dl class="facts">')]


def _step_item(page: str, title: str) -> str:
    """The text of the step called `title` in the page's list of steps."""
    steps = page[page.index('<ol class="timeline">'):page.index("</ol>")]
    item = next(item for item in steps.split('<li class="timeline-step')[1:] if title in item)
    return " ".join(re.sub(r"<[^>]*>", " ", item.split(">", 1)[1]).split())


def _staff(app: Flask) -> FlaskClient:
    staff = app.test_client()
    login(staff, "boss")
    return staff


def test_a_completed_request_shows_no_note_of_an_earlier_step(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    spec = demo_catalog.service(SERVICE)
    code = file_online(client, demo_catalog, service=SERVICE)
    staff = _staff(app)
    act(staff, code, "claim")
    act(staff, code, "advance", public_note="نامه در دبیرخانه ثبت شد.")
    act(staff, code, "approve", public_note=PRINTING)

    approved = _track(client, code)
    assert approved["note"] == approved["decision"] == PRINTING  # it belongs to this state
    assert PRINTING in _status_box(_page(client, code))

    act(staff, code, "complete")
    done = _track(client, code)
    assert done["status"] == "completed"
    assert done["note"] is None and done["decision"] is None and done["citizen_action"] is None
    page = _page(client, code)
    assert PRINTING not in _status_box(page) and "توضیح اداره" not in _status_box(page)

    # Each step keeps the note written when it happened, with what wrote it.
    notes = {step["id"]: [(n["event"], n["label"], n["text"]) for n in step["notes"]]
             for step in done["steps"]}
    assert notes == {
        spec.steps[0].id: [], spec.steps[1].id: [
            ("advance", "انجام مرحله و رفتن به مرحله بعد", "نامه در دبیرخانه ثبت شد.")],
        spec.steps[2].id: [], spec.steps[3].id: [],
        spec.steps[4].id: [("approve", "تأیید درخواست", PRINTING)]}
    assert "— تأیید درخواست: " + PRINTING in _step_item(page, spec.steps[4].title)
    assert "نامه در دبیرخانه ثبت شد." in _step_item(page, spec.steps[1].title)
    assert PRINTING not in _step_item(page, spec.steps[1].title)


def test_the_completing_note_is_the_one_shown_when_there_is_one(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = file_online(client, demo_catalog, service=SERVICE)
    staff = _staff(app)
    act(staff, code, "claim")
    act(staff, code, "approve", public_note=PRINTING)
    act(staff, code, "complete", public_note="پاسخ نامه به رایانامه شما فرستاده شد.")
    done = _track(client, code)
    assert done["note"] == done["decision"] == "پاسخ نامه به رایانامه شما فرستاده شد."
    box = _status_box(_page(client, code))
    assert "توضیح اداره: پاسخ نامه به رایانامه شما فرستاده شد." in box and PRINTING not in box


def test_a_later_note_in_the_same_state_replaces_the_earlier_one(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    code = file_online(client, demo_catalog, service=SERVICE)
    staff = _staff(app)
    act(staff, code, "claim")
    act(staff, code, "advance", public_note="نامه در دبیرخانه ثبت شد.")
    act(staff, code, "note", public_note="نامه به معاونت فرهنگی ارجاع شد.")
    assert _track(client, code)["note"] == "نامه به معاونت فرهنگی ارجاع شد."
    act(staff, code, "advance")  # a new state, with nothing said about it
    assert _track(client, code)["note"] is None


def test_after_the_documents_come_the_ask_is_no_longer_shown_as_pending(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict[str, int]) -> None:
    slot = demo_catalog.service(SERVICE).documents[0].id
    code = _apply_general_correspondence(client, demo_catalog,
                                         "3e0f9a52-1c1d-4a8b-9d43-0c6a2f8b7e10")
    staff = _staff(app)
    act(staff, code, "claim")
    act(staff, code, "request_documents", public_note="نامه امضا ندارد.")
    waiting = _track(client, code)
    assert waiting["citizen_action"] == waiting["note"] == "نامه امضا ندارد."
    _verify(client, code, "0499370899", "09121234567")
    client.post(f"/t/{code}/documents", data={
        "csrf_token": csrf_token(client, f"/t/{code}"),
        "client_id": "5b2c7d1e-9f3a-4e6b-8c0d-1a2b3c4d5e6f",
        f"documents.{slot}": (io.BytesIO(png_bytes((60, 60))), "signed.png")},
        content_type="multipart/form-data")
    back = _track(client, code)
    assert back["status"] == "in_review"
    assert back["note"] is None and back["citizen_action"] is None
    page = _page(client, code)
    assert "نامه امضا ندارد" not in _status_box(page)
    assert not re.search(r'class="citizen-action"', page)
    at = next(step for step in back["steps"] if step["id"] == back["current_step"])
    assert [n["text"] for n in at["notes"]] == ["نامه امضا ندارد."]
    assert "درخواست مدرک یا اصلاح از متقاضی: نامه امضا ندارد." in _step_item(page, at["title"])
