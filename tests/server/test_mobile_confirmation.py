"""Confirming the mobile of an online filing: the registry check first, then a one-time code
sent by the worker through the provider's approved template (Kavenegar's `verify/lookup` on
the SMS stand-in, over real HTTP), typed back on the page or through the API."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from counter_server.context import database
from counter_server.models import MobileConfirmation, Notification, ServiceRequest
from counter_server.usecases import mobile_confirmation
from shared.catalog.schema import Catalog
from tests.agency_standin import StandinServer, agency_standin_fixture  # noqa: F401
from tests.conftest import csrf_token, login
from tests.online import ask_code, code_sent, latest_code
from tests.server.test_inquiries import ZAHRA, exchanges, inquiries_of
from tests.server.test_requests_api import body
from tests.server.test_sms import Clock, clock, provider_kind, run  # noqa: F401
from tests.sms_standin import SmsStandinServer, sms_standin_fixture  # noqa: F401

APPLY = "/services/tour-guide-card/apply"


@pytest.fixture
def otp_app(app: Flask, sms_standin: SmsStandinServer, clock: Clock) -> Flask:
    """Codes go through Kavenegar's verify/lookup on the stand-in; limits as in production."""
    app.extensions["miz.sms"] = sms_standin.provider(timeout=0.4)
    app.config.update(CLOCK=clock, MOBILE_CODE_RESEND_SECONDS=60,
                      MOBILE_CODES_PER_MOBILE_HOUR=5, MOBILE_CODES_PER_ADDRESS_HOUR=20)
    return app


def type_code(client: FlaskClient, confirmation: str, code: str) -> dict:
    response = client.post(f"/api/v1/mobile-confirmations/{confirmation}/code",
                           json={"code": code})
    return {"status": response.status_code, **response.get_json()}


def messages(app: Flask) -> list[Notification]:
    with app.app_context(), database().session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


# Through the API ------------------------------------------------------------------------------

def test_online_filing_without_a_confirmed_mobile_is_refused(
        app: Flask, client: FlaskClient, demo_catalog: Catalog) -> None:
    response = client.post("/api/v1/requests", json=body(demo_catalog))
    assert response.status_code == 401
    assert response.get_json()["code"] == "mobile_not_confirmed"
    assert "کدی که پیامک" in response.get_json()["message"]
    forged = client.post("/api/v1/requests", json={
        **body(demo_catalog), "mobile_confirmation": "6f1c8a52-8d0e-4a55-9d7a-0b1f6f0d1a11"})
    assert forged.get_json()["code"] == "mobile_not_confirmed"
    with app.app_context(), database().session() as session:
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_the_code_goes_through_the_template_and_files_the_request(
        otp_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        sms_standin: SmsStandinServer, clock: Clock) -> None:
    asked = ask_code(client, {"national_code": "۰۴۹۹۳۷۰۸۹۹", "mobile": "+98 912 123 4567"})
    assert asked.status_code == 202
    answer = asked.get_json()
    assert answer["mobile"] == "۰۹۱۲***۴۵۶۷"
    assert run(otp_app, clock).done == 1
    [sent] = sms_standin.messages()
    assert sent["receptor"] == "09121234567" and re.fullmatch(r"otp:\d{5}", sent["text"])
    code = sent["text"].removeprefix("otp:")
    [message] = messages(otp_app)
    assert (message.status, message.template, message.token) == ("sent", "otp", None)
    assert code not in message.text  # the desk never shows a code
    wrong = type_code(client, answer["confirmation"], str((int(code) + 1) % 100000).zfill(5))
    assert (wrong["status"], wrong["code"]) == (422, "code_wrong")
    assert "۴ بار دیگر" in wrong["message"]
    typed = type_code(client, answer["confirmation"], code.translate(str.maketrans(
        "0123456789", "۰۱۲۳۴۵۶۷۸۹")))  # typed in Persian digits
    assert typed["status"] == 200
    filed = client.post("/api/v1/requests", json={
        **body(demo_catalog), "mobile_confirmation": answer["confirmation"]})
    assert filed.status_code == 201, filed.get_json()
    again = client.post("/api/v1/requests", json={  # good for more than one filing
        **body(demo_catalog), "mobile_confirmation": answer["confirmation"]})
    assert again.status_code == 201
    other = client.post("/api/v1/requests", json={
        **body(demo_catalog, applicant={**ZAHRA, "mobile": "09351112233"}),
        "mobile_confirmation": answer["confirmation"]})
    assert (other.status_code, other.get_json()["code"]) == (422, "mobile_confirmation_mismatch")


def test_five_wrong_codes_spend_it_and_an_old_code_is_refused(
        otp_app: Flask, client: FlaskClient) -> None:
    confirmation = ask_code(client, ZAHRA).get_json()["confirmation"]
    code = code_sent(otp_app, confirmation)
    wrong = "00000" if code != "00000" else "11111"
    for _ in range(5):
        assert type_code(client, confirmation, wrong)["code"] == "code_wrong"
    assert type_code(client, confirmation, code)["code"] == "code_expired"  # tries spent
    old = ask_code(client, {**ZAHRA, "mobile": "09127654321"}).get_json()["confirmation"]
    with otp_app.app_context(), database().transaction() as session:
        session.execute(text("UPDATE mobile_confirmations SET expires_at = :past "
                             "WHERE public_id = :id"),
                        {"past": "2020-01-01 00:00:00", "id": old})
    refused = type_code(client, old, code_sent(otp_app, old))
    assert (refused["status"], refused["code"]) == (422, "code_expired")


def test_codes_are_limited_per_mobile_and_per_address(
        otp_app: Flask, client: FlaskClient) -> None:
    assert ask_code(client, ZAHRA).status_code == 202
    again = ask_code(client, ZAHRA)
    assert (again.status_code, again.get_json()["code"]) == (429, "code_sent_recently")
    assert "ثانیه دیگر" in again.get_json()["message"]
    otp_app.config["MOBILE_CODE_RESEND_SECONDS"] = 0
    for _ in range(4):
        assert ask_code(client, ZAHRA).status_code == 202
    sixth = ask_code(client, ZAHRA)
    assert (sixth.status_code, sixth.get_json()["code"]) == (429, "too_many_codes")
    otp_app.config["MOBILE_CODES_PER_ADDRESS_HOUR"] = 7  # five asked from here already
    assert ask_code(client, {**ZAHRA, "mobile": "09131112233"}).status_code == 202
    assert ask_code(client, {**ZAHRA, "mobile": "09131112244"}).status_code == 202
    strangers = ask_code(client, {**ZAHRA, "mobile": "09131112255"})
    assert (strangers.status_code, strangers.get_json()["code"]) == (429, "too_many_codes")
    with otp_app.app_context(), database().session() as session:
        assert session.scalar(select(func.count()).select_from(Notification)) == 7


def test_a_bad_mobile_gets_a_persian_error_and_no_sms(app: Flask, client: FlaskClient) -> None:
    refused = ask_code(client, {**ZAHRA, "mobile": "031-3222-1234"})
    assert (refused.status_code, refused.get_json()["code"]) == (422, "mobile_landline")
    assert refused.get_json()["errors"] == {"mobile": refused.get_json()["message"]}
    refused = ask_code(client, {**ZAHRA, "national_code": "1234567890"})
    assert refused.get_json()["code"] == "national_code_invalid"
    assert messages(app) == []


def test_a_code_whose_send_timed_out_is_not_sent_again(
        otp_app: Flask, client: FlaskClient, sms_standin: SmsStandinServer,
        clock: Clock) -> None:
    ask_code(client, ZAHRA)
    sms_standin.set_faults({"next": [{"fault": "timeout", "count": 1, "went_out": True}]})
    assert run(otp_app, clock).dead == 1
    clock.advance(minutes=1)
    assert run(otp_app, clock).done == 0
    assert sms_standin.stats()["calls"]["lookup"] == 1  # one send; the citizen asks anew
    [message] = messages(otp_app)
    assert message.status == "failed" and "کد تازه" in str(message.reason)
    assert message.token is None


def test_a_code_not_sent_before_it_expired_is_cancelled(
        otp_app: Flask, client: FlaskClient, sms_standin: SmsStandinServer,
        clock: Clock) -> None:
    ask_code(client, ZAHRA)
    clock.advance(minutes=10)  # the worker was down
    assert run(otp_app, clock).done == 1
    [message] = messages(otp_app)
    assert (message.status, message.token) == ("cancelled", None)
    assert sms_standin.stats()["calls"].get("lookup", 0) == 0


def test_the_check_made_for_the_code_is_recorded_with_the_filing(
        app: Flask, client: FlaskClient, demo_catalog: Catalog,
        agency_standin: StandinServer) -> None:
    app.extensions["miz.bus"] = agency_standin.bus(timeout=3.0)
    confirmation = ask_code(client, ZAHRA).get_json()["confirmation"]
    assert type_code(client, confirmation, code_sent(app, confirmation))["status"] == 200
    filed = client.post("/api/v1/requests", json={**body(demo_catalog),
                                                  "mobile_confirmation": confirmation})
    code = filed.get_json()["tracking_code"]
    checked = inquiries_of(app, code)["mobile-check"]
    assert checked.status == "done" and "تأیید شد" in str(checked.summary)
    [evidence] = exchanges(app)
    assert evidence.outcome == "answered" and evidence.signature_valid is True
    assert agency_standin.stats()["calls"]["mobile_owner"] == 1  # asked once, not twice
    with app.app_context(), database().session() as session:
        kept = session.scalar(select(MobileConfirmation.check))
        assert kept is not None and kept["reading"]["verdict"] == "passed"


def test_the_policy_reads_its_settings(app: Flask) -> None:
    policy = mobile_confirmation.policy_from_config(app.config)
    assert policy.code_lifetime == timedelta(minutes=5) and policy.wrong_tries == 5
    assert policy.template == "otp"


# On the online desk ---------------------------------------------------------------------------

def test_the_online_form_opens_after_the_code(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict) -> None:
    first = html.unescape(client.get(APPLY).get_data(as_text=True))
    assert "ارسال کد تأیید" in first and 'name="fields.' not in first
    token = csrf_token(client, APPLY)
    wrong = client.post(f"{APPLY}/mobile", data={"csrf_token": token, "national_code": "123",
                                                 "mobile": "09121234567"})
    page = html.unescape(wrong.get_data(as_text=True))
    assert wrong.status_code == 422 and "کد ملی واردشده معتبر نیست" in page
    assert 'value="09121234567"' in page  # what was typed is kept
    sent = client.post(f"{APPLY}/mobile", data={"csrf_token": token, "national_code":
                                                "۰۴۹۹۳۷۰۸۹۹", "mobile": "۰۹۱۲۱۲۳۴۵۶۷"})
    assert sent.status_code == 302
    waiting = html.unescape(client.get(APPLY).get_data(as_text=True))
    assert "۰۹۱۲***۴۵۶۷" in waiting and 'autocomplete="one-time-code"' in waiting
    bad = client.post(f"{APPLY}/code", data={"csrf_token": token, "code": "12"})
    assert bad.status_code == 422 and "کد درست نیست" in html.unescape(bad.get_data(as_text=True))
    client.post(f"{APPLY}/code", data={"csrf_token": token,
                                       "code": latest_code(app, "09121234567")})
    form = html.unescape(client.get(APPLY).get_data(as_text=True))
    assert 'name="fields.' in form and "با کد پیامکی تأیید شده" in form
    assert re.search(r'id="applicant-mobile"[^>]*readonly', form)
    assert 'value="0499370899"' in form
    login(client, "boss")
    outbox = html.unescape(client.get("/desk/notifications").get_data(as_text=True))
    assert "کد تأیید شماره همراه" in outbox
    assert latest_code(app, "09121234567") not in outbox
