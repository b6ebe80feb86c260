"""What kiosks report besides requests and tickets: survey answers and heartbeats."""

from __future__ import annotations

import html
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from counter_server.context import database
from counter_server.models import SurveyAnswer
from counter_server.usecases import kiosks
from tests.conftest import login
from tests.server.test_queue import MORNING, OFFICE, run


@pytest.fixture
def kiosk(app: Flask) -> dict[str, str]:
    registration = run(app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE))
    return {"Authorization": f"Bearer {registration.token}"}


def _answers(**extra: object) -> dict[str, object]:
    return {"client_id": str(uuid.uuid4()), "service": "tour-guide-card",
            "answers": {"satisfaction": 5, "staff_conduct": 4}, **extra}


def test_survey_answers_are_stored_once(app: Flask, client: FlaskClient,
                                        kiosk: dict[str, str]) -> None:
    body = _answers(tracking_code="0000000000000000", created_at=MORNING.isoformat())
    first = client.post("/api/v1/surveys", json=body, headers=kiosk)
    again = client.post("/api/v1/surveys", json=body, headers=kiosk)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    changed = client.post("/api/v1/surveys", json={**body, "answers": {"satisfaction": 1}},
                          headers=kiosk)
    assert changed.get_json()["code"] == "idempotency_key_reused"
    anonymous = client.post("/api/v1/surveys", json=_answers())
    assert anonymous.status_code == 401
    assert anonymous.get_json()["code"] == "survey_token_required"
    with app.app_context(), database().session() as session:
        rows = session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id)).all()
        assert [(r.kiosk_id is not None, r.answers["satisfaction"]) for r in rows] == [(True, 5)]
        assert rows[0].tracking_code == "0000000000000000"
        assert (rows[0].channel, rows[0].office_slug, rows[0].score) == ("kiosk", OFFICE, 4.5)


# No answers at all breaks the documented schema (minProperties 1), like a bad answer.
@pytest.mark.parametrize(("answers", "code"), [
    ({}, "invalid_body"), ({"satisfaction": 6}, "invalid_body"), ({"satisfaction": "عالی"},
                                                                 "invalid_body"),
])
def test_bad_answers_are_refused(client: FlaskClient, kiosk: dict[str, str], answers: dict,
                                 code: str) -> None:
    response = client.post("/api/v1/surveys", json=_answers(answers=answers), headers=kiosk)
    assert response.status_code == 422 and response.get_json()["code"] == code


def test_heartbeat_reports_clock_offset_and_shows_on_the_desk(
    app: Flask, client: FlaskClient, kiosk: dict[str, str], staff_users: dict[str, int]
) -> None:
    app.config["CLOCK"] = lambda: MORNING
    slow_clock = MORNING - timedelta(minutes=7)
    beat = {"software_version": "1.4.0", "outbox_depth": 12, "printer_state": "paper_out",
            "last_sync_at": (MORNING - timedelta(minutes=1)).isoformat(),
            "kiosk_time": slow_clock.isoformat()}
    response = client.post("/api/v1/kiosks/heartbeat", json=beat, headers=kiosk)
    assert response.status_code == 200
    assert response.get_json()["clock_offset_seconds"] == 420.0
    assert client.post("/api/v1/kiosks/heartbeat", json=beat).status_code == 401
    login(client, "front")
    page = html.unescape(client.get("/desk/kiosks").get_data(as_text=True))
    assert "lobby" in page and "۱۲ مورد" in page and "بدون کاغذ" in page
    assert "۴۲۰ ثانیه اختلاف" in page and "متصل" in page
    with app.app_context(), database().session() as session:
        assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
