"""The satisfaction survey: invitations sent on completion, one answer each, expiry, the API."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.db import utcnow
from counter_server.models import Job, Notification, ServiceRequest, SurveyAnswer, SurveyInvitation
from counter_server.models import User
from counter_server.usecases import surveys
from shared.catalog.schema import Catalog
from tests.conftest import csrf_token, login
from tests.server.test_desk import file_online

PUBLIC = "https://miz.example"
LINK = re.compile(r"https://miz\.example/s/([A-Za-z0-9_-]+)")


def invite(app: Flask, client: FlaskClient, demo_catalog: Catalog,
           clerk: int | None = None) -> tuple[str, str]:
    """(tracking code, survey token) of a request whose survey invitation was sent."""
    code = file_online(client, demo_catalog)
    with app.app_context(), database().transaction() as session:
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        user = session.get(User, clerk) if clerk else None
        surveys.invite_for_request(session, item, user, item.events[-1], PUBLIC)
        text = session.scalar(select(Notification.text).where(
            Notification.request_id == item.id, Notification.event == "survey"))
    match = LINK.search(text)
    assert match, text
    return code, match.group(1)


def answer(client: FlaskClient, token: str | None, **extra: object):  # type: ignore[no-untyped-def]
    body = {"client_id": str(uuid.uuid4()), "answers": {"satisfaction": 4, "staff_conduct": 5},
            **extra}
    if token:
        body["survey_token"] = token
    return client.post("/api/v1/surveys", json=body)


def test_an_invitation_is_a_one_time_link_sent_by_sms(
    app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict[str, int]
) -> None:
    code, token = invite(app, client, demo_catalog, clerk=staff_users["guides"])
    assert len(token) >= 32
    with app.app_context(), database().session() as session:
        invitation = session.scalar(select(SurveyInvitation))
        assert invitation.token == token and invitation.answered_at is None
        assert invitation.expires_at - invitation.created_at == timedelta(days=14)
        assert (invitation.service_slug, invitation.channel, invitation.clerk_id) == (
            "tour-guide-card", "online", staff_users["guides"])
        sms = session.scalar(select(Notification).where(Notification.event == "survey"))
        assert sms.text.splitlines()[-1] == f"{PUBLIC}/s/{token}"
        assert "نظرسنجی" in sms.text and len(sms.text) < 200
        assert session.scalar(select(Job.kind).where(Job.key == f"sms:{sms.id}")) == "sms"


def test_one_answer_per_invitation_joined_to_its_request(
    app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict[str, int]
) -> None:
    code, token = invite(app, client, demo_catalog, clerk=staff_users["guides"])
    first_id = str(uuid.uuid4())
    first = answer(client, token, client_id=first_id, comment="  برخورد کارمند عالی بود ")
    assert first.status_code == 201, first.get_json()
    replay = answer(client, token, client_id=first_id, comment="  برخورد کارمند عالی بود ")
    assert replay.status_code == 200 and replay.get_json() == first.get_json()
    second = client.post("/api/v1/surveys", headers={"X-Survey-Token": token},
                         json={"client_id": str(uuid.uuid4()), "answers": {"satisfaction": 1}})
    assert second.status_code == 409
    assert second.get_json()["code"] == "survey_already_answered"
    with app.app_context(), database().session() as session:
        row = session.scalar(select(SurveyAnswer))
        request_id = session.scalar(select(ServiceRequest.id)
                                    .where(ServiceRequest.tracking_code == code))
        assert (row.request_id, row.service_slug, row.channel, row.clerk_id, row.score) == (
            request_id, "tour-guide-card", "online", staff_users["guides"], 4.5)
        assert row.comment == "برخورد کارمند عالی بود"
        assert session.scalar(select(SurveyInvitation.answered_at)) is not None


def test_expired_and_unknown_tokens_are_refused(
    app: Flask, client: FlaskClient, demo_catalog: Catalog
) -> None:
    _code, token = invite(app, client, demo_catalog)
    app.config["CLOCK"] = lambda: utcnow() + timedelta(days=15)
    expired = answer(client, token)
    assert expired.status_code == 410 and expired.get_json()["code"] == "survey_expired"
    unknown = answer(client, "x" * 32)
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "survey_not_found"
    with app.app_context(), database().session() as session:
        assert session.scalar(select(SurveyAnswer)) is None


def test_answers_with_no_token_are_refused_with_401(client: FlaskClient) -> None:
    response = answer(client, None, service="tour-guide-card")
    assert response.status_code == 401
    assert response.get_json()["code"] == "survey_token_required"


def test_the_openapi_documents_both_ways_to_send_a_survey_token(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    post = document["paths"]["/api/v1/surveys"]["post"]
    assert "401" in post["responses"]
    assert {p["name"] for p in post["parameters"]} == {"X-Survey-Token"}
    assert "survey_token" in document["components"]["schemas"]["SurveyIn"]["properties"]


def test_kiosk_answers_are_joined_to_the_request_they_name(
    app: Flask, client: FlaskClient, demo_catalog: Catalog
) -> None:
    from counter_server.usecases import kiosks
    from tests.server.test_queue import OFFICE, run

    registration = run(app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE))
    code = file_online(client, demo_catalog)
    response = client.post("/api/v1/surveys", headers={"Authorization": f"Bearer {registration.token}"},
                           json={"client_id": str(uuid.uuid4()), "tracking_code": code,
                                 "answers": {"satisfaction": 3}})
    assert response.status_code == 201
    with app.app_context(), database().session() as session:
        row = session.scalar(select(SurveyAnswer))
        assert row.request_id is not None and row.service_slug == "tour-guide-card"
        assert (row.channel, row.office_slug, row.invitation_id) == ("online", OFFICE, None)


def _post_page(client: FlaskClient, token: str, csrf: str,
               **answers: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf, "client_id": str(uuid.uuid4()), **answers}
    return client.post(f"/s/{token}", data=data)


def test_the_survey_page_takes_one_answer(
    app: Flask, client: FlaskClient, demo_catalog: Catalog
) -> None:
    _code, token = invite(app, client, demo_catalog)
    page = html.unescape(client.get(f"/s/{token}").get_data(as_text=True))
    assert 'dir="rtl"' in page and "از خدمتی که گرفتید چقدر راضی هستید؟" in page
    assert page.count('type="radio"') == 10 and "<script>" not in page
    csrf = csrf_token(client, f"/s/{token}")  # two tabs opened before either answer
    missing = _post_page(client, token, csrf, q_satisfaction="5")
    assert missing.status_code == 422
    assert "به پرسش «راهنمایی و برخورد" in html.unescape(missing.get_data(as_text=True))
    done = _post_page(client, token, csrf, q_satisfaction="5", q_staff_conduct="4",
                      comment="سپاس")
    assert done.status_code == 302 and done.headers["Location"].endswith("/s/thanks")
    assert "پاسخ شما ثبت شد" in html.unescape(client.get("/s/thanks").get_data(as_text=True))
    again = _post_page(client, token, csrf, q_satisfaction="1", q_staff_conduct="1")
    assert again.status_code == 409
    assert "پیش‌تر پاسخ داده شده" in html.unescape(again.get_data(as_text=True))
    assert client.get(f"/s/{token}").status_code == 409
    with app.app_context(), database().session() as session:
        row = session.scalar(select(SurveyAnswer))
        assert (row.answers, row.comment, row.channel) == (
            {"satisfaction": 5, "staff_conduct": 4}, "سپاس", "online")


def test_unknown_and_expired_links_get_a_persian_page(
    app: Flask, client: FlaskClient, demo_catalog: Catalog
) -> None:
    unknown = client.get("/s/" + "z" * 40)
    assert unknown.status_code == 404
    assert "این پیوند نظرسنجی معتبر نیست" in html.unescape(unknown.get_data(as_text=True))
    assert client.get("/s/" + "z" * 400).status_code == 404
    _code, token = invite(app, client, demo_catalog)
    app.config["CLOCK"] = lambda: utcnow() + timedelta(days=15)
    expired = client.get(f"/s/{token}")
    assert expired.status_code == 410
    assert "مهلت پاسخ" in html.unescape(expired.get_data(as_text=True))


def test_weeks_start_on_saturday() -> None:
    from datetime import date

    from shared.jalali import week_start

    assert week_start(date(2026, 12, 4)) == date(2026, 11, 28)  # a Friday → its Saturday
    assert week_start(date(2026, 12, 5)) == date(2026, 12, 5)


def test_supervisors_see_satisfaction_with_charts_and_csv(
    app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict[str, int]
) -> None:
    _code, token = invite(app, client, demo_catalog, clerk=staff_users["guides"])
    assert answer(client, token, comment="کارمند بسیار صبور بود").status_code == 201
    _other, _unanswered = invite(app, client, demo_catalog)
    login(client, "guides")
    assert client.get("/desk/reports/satisfaction").status_code == 403
    client.post("/desk/logout", data={"csrf_token": csrf_token(client, "/desk/")})
    login(client, "boss")
    page = html.unescape(client.get("/desk/reports/satisfaction").get_data(as_text=True))
    assert "کارمند بسیار صبور بود" in page and "۴٫۵" in page
    assert "۵۰٪" in page  # one of two invitations answered
    assert page.count("<svg class=\"chart\"") >= 5 and "Guides" in page
    assert "رضایت شهروندان" in page
    low = html.unescape(client.get("/desk/reports/satisfaction?score=1").get_data(as_text=True))
    assert "کارمند بسیار صبور بود" not in low
    bad = html.unescape(client.get("/desk/reports/satisfaction?from=1405/13/40")
                        .get_data(as_text=True))
    assert "تاریخ نامعتبر" in bad or "قالب تاریخ" in bad
    exported = client.get("/desk/reports/satisfaction/service.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.data.startswith("\ufeff".encode())
    text = exported.data.decode("utf-8-sig").splitlines()
    assert text[0] == "خدمت,میانگین رضایت (از ۵),شمار پاسخ‌ها"
    assert text[1].endswith(",4.5,1")
    comments = client.get("/desk/reports/satisfaction/comments.csv").data.decode("utf-8-sig")
    assert "کارمند بسیار صبور بود" in comments
    assert client.get("/desk/reports/satisfaction/nothing.csv").status_code == 404
