"""Filing online through the API as a citizen's app would: the mobile is confirmed first
with the one-time code that the SMS carries (read here from the outbox row that holds it
until the provider has it)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select
from werkzeug.test import TestResponse

from counter_server.context import database
from counter_server.models import Job, MobileConfirmation, Notification


def code_sent(app: Flask, confirmation: str) -> str:
    """The one-time code texted for `confirmation` (before the worker hands it over)."""
    with app.app_context(), database().session() as session:
        token = session.scalar(
            select(Notification.token).join(MobileConfirmation,
                                            MobileConfirmation.id == Notification.confirmation_id)
            .where(MobileConfirmation.public_id == confirmation))
    assert token, "no one-time code is waiting to be sent"
    return token


def ask_code(client: FlaskClient, applicant: dict[str, Any],
             service: str = "tour-guide-card") -> TestResponse:
    """Ask for a one-time code to `applicant`'s mobile, before filing online."""
    return client.post("/api/v1/mobile-confirmations", json={
        "service": service, "national_code": str(applicant.get("national_code", "")),
        "mobile": str(applicant.get("mobile", ""))})


def confirm_mobile(client: FlaskClient, applicant: dict[str, Any],
                   service: str = "tour-guide-card") -> str | None:
    """Confirm `applicant`'s mobile as the API's client would; None when the code is refused
    (an invalid national code or mobile, which the filing itself must then refuse)."""
    asked = ask_code(client, applicant, service)
    if asked.status_code != 202:
        return None
    confirmation = asked.get_json()["confirmation"]
    typed = client.post(f"/api/v1/mobile-confirmations/{confirmation}/code",
                        json={"code": code_sent(client.application, confirmation)})
    assert typed.status_code == 200, typed.get_json()
    return str(confirmation)


def file_online(client: FlaskClient, data: dict[str, Any], **kwargs: Any) -> TestResponse:
    """POST `data` to /api/v1/requests, its applicant's mobile confirmed first when it is an
    online filing without a confirmation."""
    if data.get("channel") == "online" and "mobile_confirmation" not in data \
            and isinstance(data.get("applicant"), dict):
        confirmation = confirm_mobile(client, data["applicant"], str(data.get("service")))
        if confirmation is not None:
            data = {**data, "mobile_confirmation": confirmation}
    return client.post("/api/v1/requests", json=data, **kwargs)


def forget_codes(app: Flask) -> None:
    """Take the one-time codes' SMS (and their jobs) out of a test about other messages: the
    codes have tests of their own, and a confirmed code is never sent anyway."""
    with app.app_context(), database().transaction() as session:
        ids = list(session.scalars(select(Notification.id)
                                   .where(Notification.confirmation_id.is_not(None))))
        session.execute(delete(Job).where(Job.key.in_([f"sms:{i}" for i in ids])))
        session.execute(delete(Notification).where(Notification.id.in_(ids)))


def latest_code(app: Flask, mobile: str) -> str:
    """The one-time code last texted to `mobile` (what the citizen reads on their phone)."""
    with app.app_context(), database().session() as session:
        token = session.scalar(select(Notification.token).where(
            Notification.mobile == mobile, Notification.confirmation_id.is_not(None))
            .order_by(Notification.id.desc()).limit(1))
    assert token, f"no one-time code is waiting for {mobile}"
    return token


def confirm_on_web(client: FlaskClient, slug: str, national_code: str = "0499370899",
                   mobile: str = "09121234567") -> None:
    """Confirm a mobile on the online desk's first step, as a citizen does: the national code
    and mobile, then the code from the SMS. The browser's session then opens the form."""
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/services/{slug}/apply")
    asked = client.post(f"/services/{slug}/apply/mobile", data={
        "csrf_token": token, "national_code": national_code, "mobile": mobile})
    assert asked.status_code == 302, asked.get_data(as_text=True)[-2000:]
    typed = client.post(f"/services/{slug}/apply/code", data={
        "csrf_token": token, "code": latest_code(client.application, mobile)})
    assert typed.status_code == 302, typed.get_data(as_text=True)[-2000:]
