"""Inquiries end to end: filed requests ask the agencies' stand-in over real HTTP through the
real adapter, the worker records results and evidence, clerks and citizens see them."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select, text

from counter_server.background import make_worker
from counter_server.context import database
from counter_server.db import utcnow
from counter_server.jobs.worker import Worker, WorkerSettings
from counter_server.models import (
    AuditEntry,
    Circuit,
    Inquiry,
    InquiryExchange,
    Job,
    ServiceRequest,
)
from counter_server.usecases.catalog_versions import current_snapshot
from shared.catalog.schema import Catalog
from tests.agency_standin import StandinServer, agency_standin_fixture  # noqa: F401
from tests.conftest import csrf_token, login
from tests.server.test_desk import act, record_manual_result, status_of
from tests.server.test_requests_api import body, kiosk_body, kiosk_token  # noqa: F401
from tests.online import ask_code, file_online

ZAHRA = {"name": "زهرا احمدی", "national_code": "0499370899", "mobile": "09121234567"}
NEGAR_WRONG_MOBILE = {"name": "نگار صادقی", "national_code": "0067749828",
                      "mobile": "09351234567"}
LEILA_RECORD = {"name": "لیلا رحیمی", "national_code": "0084575948", "mobile": "09371234567"}
NOT_REGISTERED = {"name": "کاربر ناشناس", "national_code": "1287654320",
                  "mobile": "09120000000"}


@pytest.fixture
def bus_app(app: Flask, agency_standin: StandinServer) -> Iterator[Flask]:
    """The app asking the stand-in, with a short limit for the check before filing."""
    app.extensions["miz.bus"] = agency_standin.bus(timeout=3.0)
    app.config["INQUIRY_BEFORE_FILING_SECONDS"] = 0.5
    yield app


def file(client: FlaskClient, demo_catalog: Catalog, applicant: dict[str, str],
         **overrides: Any) -> Any:
    return file_online(client, body(demo_catalog, applicant=dict(applicant), **overrides))


def run_worker(app: Flask) -> Any:
    with app.app_context():
        return make_worker(app, threads=2).run_once()


def inquiries_of(app: Flask, code: str) -> dict[str, Inquiry]:
    with app.app_context(), database().session() as session:
        rows = session.scalars(select(Inquiry).join(ServiceRequest,
                                                    ServiceRequest.id == Inquiry.request_id)
                               .where(ServiceRequest.tracking_code == code))
        return {row.inquiry_id: row for row in rows}


def exchanges(app: Flask) -> list[InquiryExchange]:
    with app.app_context(), database().session() as session:
        return list(session.scalars(select(InquiryExchange).order_by(InquiryExchange.id)))


# Before acceptance: the mobile check ------------------------------------------------------------

def test_online_filing_checks_the_mobile_before_accepting(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        agency_standin: StandinServer) -> None:
    response = file(client, demo_catalog, ZAHRA)
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["tracking_code"]
    checked = inquiries_of(bus_app, code)["mobile-check"]
    assert checked.status == "done"
    assert checked.summary == "تطابق شماره همراه با کد ملی: تأیید شد"
    [evidence] = exchanges(bus_app)
    assert evidence.outcome == "answered" and evidence.signature_valid is True
    assert agency_standin.stats()["calls"]["mobile_owner"] == 1


def test_online_filing_with_someone_elses_mobile_is_refused_in_persian(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog) -> None:
    response = ask_code(client, NEGAR_WRONG_MOBILE)  # checked before any code is texted
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["code"] == "mobile_not_owned"
    assert "به نام دارنده این کد ملی ثبت نشده" in answer["message"]
    assert answer["errors"] == {"mobile": answer["message"]}
    assert file(client, demo_catalog, NEGAR_WRONG_MOBILE).get_json()["code"] == \
        "mobile_not_confirmed"
    with bus_app.app_context(), database().session() as session:
        assert session.scalar(text("SELECT count(*) FROM requests")) == 0
        assert session.scalar(text("SELECT count(*) FROM notifications")) == 0
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_when_the_bus_is_too_slow_the_request_is_accepted_and_flagged(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        agency_standin: StandinServer) -> None:
    agency_standin.set_faults({"next": [{"fault": "timeout", "count": 1,
                                         "kind": "mobile_owner"}]})
    response = file(client, demo_catalog, ZAHRA)
    assert response.status_code == 201
    code = response.get_json()["tracking_code"]
    flagged = inquiries_of(bus_app, code)["mobile-check"]
    assert flagged.status == "manual" and flagged.round == 2
    track = client.get(f"/api/v1/track/{code}").get_json()
    assert [i["status"] for i in track["inquiries"]] == ["manual"]
    run_worker(bus_app)  # asked again in the background: now it answers
    assert inquiries_of(bus_app, code)["mobile-check"].status == "done"
    assert [e.outcome for e in exchanges(bus_app)] == ["timeout", "answered"]


# In the background ------------------------------------------------------------------------------

def test_a_kiosk_request_runs_its_inquiries_once_it_reaches_the_server(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        kiosk_token: tuple[int, str], agency_standin: StandinServer) -> None:  # noqa: F811
    issuer, token = kiosk_token
    data = kiosk_body(demo_catalog, issuer, applicant=dict(ZAHRA))
    response = file_online(client, data,
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["tracking_code"]
    assert inquiries_of(bus_app, code)["mobile-check"].status == "pending"  # filing didn't wait
    assert agency_standin.stats()["calls"].get("mobile_owner", 0) == 0
    assert run_worker(bus_app).done == 2  # the inquiry and the SMS that announced the filing
    track = client.get(f"/api/v1/track/{code}").get_json()
    assert track["inquiries"] == [{"kind": "mobile_owner", "title": "استعلام از شاهکار",
                                   "status": "done", "status_label": "انجام شد",
                                   "advice": None}]
    assert ZAHRA["national_code"] not in str(track) and ZAHRA["mobile"] not in str(track)
    file_online(client, data, headers={"Authorization": f"Bearer {token}"})
    assert run_worker(bus_app).done == 0  # the replayed filing made no second job
    assert agency_standin.stats()["calls"]["mobile_owner"] == 1


def test_a_blocking_inquiry_that_says_no_holds_the_request(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        staff_users: dict) -> None:
    code = file(client, demo_catalog, LEILA_RECORD).get_json()["tracking_code"]
    login(client, "guides")
    act(client, code, "claim")
    act(client, code, "advance")
    assert "criminal-record" in inquiries_of(bus_app, code)  # scheduled on reaching the step
    assert "هنوز نتیجه ندارد" in act(client, code, "approve")
    run_worker(bus_app)
    record = inquiries_of(bus_app, code)["criminal-record"]
    assert (record.status, record.summary) == ("failed", "عدم سوءپیشینه کیفری: سابقه دارد")
    page = act(client, code, "record_payment", payment_reference="PAY-1")
    page = act(client, code, "approve")
    assert "تأیید نشد" in page and status_of(bus_app, code) == "in_progress"
    desk = html.unescape(client.get(f"/desk/requests/{code}").get_data(as_text=True))
    assert "بررسی دستی:" in desk and "گواهی عدم سوءپیشینه کاغذی" in desk
    public = html.unescape(client.get(f"/t/{code}").get_data(as_text=True))
    assert "استعلام از قوه قضاییه (سجل کیفری)" in public and "تأیید نشد" in public
    assert LEILA_RECORD["name"] not in public
    record_manual_result(client, code, "criminal-record", "حکم اعاده حیثیت دیده شد.")
    act(client, code, "approve")
    assert status_of(bus_app, code) == "approved"
    with bus_app.app_context(), database().session() as session:
        audited = session.scalars(select(AuditEntry.action)).all()
    assert "inquiry_manual_result" in audited


def test_a_temporary_failure_is_retried_after_its_back_off(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        agency_standin: StandinServer) -> None:
    code = file(client, demo_catalog, ZAHRA).get_json()["tracking_code"]
    login(client, "guides")
    act(client, code, "claim")
    act(client, code, "advance")  # reaches the step that asks the judiciary
    agency_standin.set_faults({"next": [{"fault": "error_5xx", "count": 1,
                                         "kind": "criminal_record"}]})
    clock = [utcnow()]
    with bus_app.app_context():
        worker = Worker(database(), make_worker(bus_app).handlers,
                        current_snapshot(database().session()).calendar,
                        WorkerSettings(threads=1), clock=lambda: clock[0])
        assert worker.run_once().retried == 1
        assert worker.run_once().done == 0  # waiting out its back-off
        clock[0] += timedelta(hours=1)
        assert worker.run_once().done == 1
    assert [e.outcome for e in exchanges(bus_app)][-2:] == ["unavailable", "answered"]
    record = inquiries_of(bus_app, code)["criminal-record"]
    assert (record.status, record.attempts) == ("done", 2)


def test_an_unknown_citizen_is_a_permanent_refusal_that_opens_no_circuit(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict) -> None:
    assert ask_code(client, NOT_REGISTERED).status_code == 422  # online: refused
    login(client, "guides")  # at the counter the filing does not wait for the check
    response = file_online(client, body(demo_catalog, applicant=dict(NOT_REGISTERED),
                                        channel="counter"),
                           headers={"X-CSRFToken": csrf_token(client, "/desk/")})
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["tracking_code"]
    run_worker(bus_app)
    assert inquiries_of(bus_app, code)["mobile-check"].status == "failed"
    record_manual_result(client, code, "mobile-check", "کارت ملی و سیم‌کارت دیده شد.")
    act(client, code, "claim")
    act(client, code, "advance")
    run_worker(bus_app)
    record = inquiries_of(bus_app, code)["criminal-record"]
    assert record.status == "manual" and record.attempts == 1  # not retried
    with bus_app.app_context(), database().session() as session:
        circuit = session.get(Circuit, "judiciary")
        assert circuit is None or (circuit.state, circuit.failures) == ("closed", 0)
        job = session.scalar(select(Job).where(Job.key.like("inquiry:%:criminal-record:%")))
        assert job is not None and job.status == "dead"
    desk = html.unescape(client.get(f"/desk/requests/{code}").get_data(as_text=True))
    assert "استعلام دوباره" in desk and "ثبت نتیجه بررسی دستی" in desk


# Evidence ---------------------------------------------------------------------------------------

def test_verify_log_finds_an_edited_or_removed_entry(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        runner: FlaskCliRunner) -> None:
    for _ in range(2):
        assert file(client, demo_catalog, ZAHRA).status_code == 201
    clean = runner.invoke(args=["inquiries", "verify-log"])
    assert clean.exit_code == 0 and "2 exchange(s) checked, 0 problem(s)" in clean.output
    with bus_app.app_context(), database().transaction() as session:
        session.execute(text("UPDATE inquiry_exchanges SET http_status = 500 WHERE id = 1"))
    edited = runner.invoke(args=["inquiries", "verify-log"])
    assert edited.exit_code == 1 and "entry 1: changed after it was written" in edited.output
    with bus_app.app_context(), database().transaction() as session:
        session.execute(text("UPDATE inquiry_exchanges SET http_status = 200 WHERE id = 1"))
        session.execute(text("DELETE FROM inquiry_exchanges WHERE id = 2"))
    removed = runner.invoke(args=["inquiries", "verify-log"])
    assert removed.exit_code == 1 and "ends at entry 0, but 1 were written" in removed.output


def test_personal_data_is_purged_after_the_retention_period_and_the_chain_still_holds(
        bus_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        runner: FlaskCliRunner) -> None:
    assert file(client, demo_catalog, ZAHRA).status_code == 201
    [kept] = exchanges(bus_app)
    assert ZAHRA["national_code"].encode() in kept.request_body
    bus_app.config["INQUIRY_RETENTION_DAYS"] = 0
    assert "1 exchange(s) purged" in runner.invoke(args=["inquiries", "purge"]).output
    [purged] = exchanges(bus_app)
    assert purged.request_body is None and purged.reply_body is None
    assert purged.request_digest == kept.request_digest and purged.purged_at is not None
    assert runner.invoke(args=["inquiries", "verify-log"]).exit_code == 0


def test_a_filing_that_is_rolled_back_leaves_no_inquiry_and_no_job(
        app: Flask, demo_catalog: Catalog) -> None:
    from counter_server.usecases import service_requests

    data = body(demo_catalog, applicant=dict(ZAHRA))
    submission = service_requests.Submission(
        client_id=data["client_id"], service=data["service"], channel="online",
        applicant=data["applicant"], fields=data["fields"])
    with pytest.raises(RuntimeError), app.app_context(), database().transaction() as session:
        filed = service_requests.submit(session, submission)
        assert session.scalar(select(func.count()).select_from(Job)) == 2  # inquiry and SMS
        assert filed.request.inquiries  # scheduled with the filing …
        raise RuntimeError("the counter's filing fails after that")
    with app.app_context(), database().session() as session:  # … and gone with it
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(Inquiry)) == 0
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == 0
