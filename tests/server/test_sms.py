"""SMS leaving Miz: the worker sends each message through a real provider adapter (Kavenegar's,
and for the faults also the generic HTTP one) to the stand-in over real HTTP, once, whatever the
stand-in does; receipts and the daily budget, which holds with several worker lanes at once.

Time is a clock the tests move by hand (back-off, receipts, the next Tehran day)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server import create_app
from counter_server.background import handlers
from counter_server.context import database
from counter_server.db import utcnow
from counter_server.jobs.worker import RunReport, Worker, WorkerSettings
from counter_server.models import Job, Notification
from counter_server.sms import Console
from counter_server.usecases import mobile_confirmation, notifications
from counter_server.usecases.notifications import tehran_day
from shared.catalog.schema import CalendarSpec, Catalog
from shared.sms import parts
from shared.workcalendar import WorkCalendar
from tests.conftest import login
from tests.server.test_requests_api import APPLICANT, body
from tests.sms_standin import SmsStandinServer, sms_standin_fixture  # noqa: F401
from tests.online import file_online, forget_codes

CALENDAR = WorkCalendar.from_spec(CalendarSpec())


class Clock:
    def __init__(self) -> None:
        self.at = utcnow() + timedelta(minutes=1)  # jobs made while slow fixtures set up are due

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


PROVIDERS = pytest.mark.parametrize("provider_kind", ["kavenegar", "http"])


@pytest.fixture
def provider_kind() -> str:
    """Which protocol the app speaks to the stand-in (tests parametrize it with PROVIDERS)."""
    return "kavenegar"


@pytest.fixture
def sms_app(app: Flask, sms_standin: SmsStandinServer, clock: Clock,
            provider_kind: str) -> Iterator[Flask]:
    """The app sending through the stand-in, with a short time-out for a send."""
    app.extensions["miz.sms"] = sms_standin.provider(timeout=0.4, kind=provider_kind)
    app.config["CLOCK"] = clock
    yield app


def file(client: FlaskClient, demo_catalog: Catalog) -> None:
    assert file_online(client, body(demo_catalog)).status_code == 201
    forget_codes(client.application)


def run(app: Flask, clock: Clock, threads: int = 1) -> RunReport:
    with app.app_context():
        chosen = {k: h for k, h in handlers(app).items() if k.startswith("sms")}
        return Worker(database(), chosen, CALENDAR, WorkerSettings(threads=threads),
                      clock=clock).run_once()


def messages(app: Flask) -> list[Notification]:
    with app.app_context(), database().session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def jobs_of(app: Flask, kind: str) -> list[Job]:
    with app.app_context(), database().session() as session:
        return list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


# Once, whatever happens ----------------------------------------------------------------------

@PROVIDERS
@pytest.mark.parametrize("went_out", [True, False], ids=["it-went-out", "it-did-not"])
def test_a_send_that_timed_out_is_asked_after_and_goes_out_once(
        sms_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        sms_standin: SmsStandinServer, clock: Clock, went_out: bool) -> None:
    file(client, demo_catalog)
    sms_standin.set_faults({"next": [{"fault": "timeout", "count": 1, "went_out": went_out}]})
    assert run(sms_app, clock).retried == 1
    assert messages(sms_app)[0].status == "queued"
    clock.advance(hours=1)
    assert run(sms_app, clock).done == 1
    stats = sms_standin.stats()
    assert stats["accepted"] == 1  # the citizen got it exactly once
    assert stats["calls"]["statuslocalmessageid"] == 1  # asked before any second send
    assert stats["calls"]["send"] == (1 if went_out else 2)
    message = messages(sms_app)[0]
    # Found by its local id (the stand-in has delivered it by then), or sent afresh.
    assert message.status == ("delivered" if went_out else "sent")
    assert message.provider_id == str(sms_standin.messages()[0]["messageid"])
    assert sms_standin.messages()[0]["localid"] == str(message.id)


@PROVIDERS
def test_a_5xx_is_retried_after_its_back_off(
        sms_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        sms_standin: SmsStandinServer, clock: Clock, provider_kind: str) -> None:
    file(client, demo_catalog)
    sms_standin.set_faults({"next": [{"fault": "error_5xx", "count": 1}]})
    assert run(sms_app, clock).retried == 1
    assert run(sms_app, clock).done == 0  # waiting out its back-off
    clock.advance(hours=1)
    assert run(sms_app, clock).done == 1
    assert sms_standin.stats()["accepted"] == 1
    message = messages(sms_app)[0]
    assert (message.status, message.attempts, message.provider) == ("sent", 2, provider_kind)
    assert message.parts == parts(message.text) and message.cost_rials == 120 * message.parts


@PROVIDERS
@pytest.mark.parametrize(("fault", "reason"), [
    ("no_credit", "اعتبار حساب سامانه پیامک کافی نیست"),
    ("invalid_receptor", "شماره گیرنده نامعتبر است"),
])
def test_a_refusal_is_not_retried_and_shows_failed_with_the_persian_reason(
        sms_app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        sms_standin: SmsStandinServer, clock: Clock, fault: str, reason: str) -> None:
    file(client, demo_catalog)
    sms_standin.set_faults({"next": [{"fault": fault, "count": 1}]})
    assert run(sms_app, clock).dead == 1
    clock.advance(days=1)
    assert run(sms_app, clock).done == 0
    assert sms_standin.stats()["calls"]["send"] == 1 and sms_standin.stats()["accepted"] == 0
    message = messages(sms_app)[0]
    assert (message.status, message.reason) == ("failed", reason)
    with sms_app.app_context(), database().session() as session:  # its parts given back
        assert notifications.parts_spent_on(session, clock.at) == 0
    login(client, "boss")
    page = html.unescape(client.get("/desk/notifications").get_data(as_text=True))
    assert reason in page and "ناموفق" in page


# Receipts -------------------------------------------------------------------------------------

@PROVIDERS
def test_late_receipts_are_polled_until_the_message_is_delivered(
        sms_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        sms_standin: SmsStandinServer, clock: Clock) -> None:
    sms_standin.set_faults({"receipts": {"after_polls": 2}})
    file(client, demo_catalog)
    assert run(sms_app, clock).done == 1
    assert messages(sms_app)[0].status == "sent"
    assert run(sms_app, clock).done == 0  # the first poll waits for the receipt delay
    clock.advance(minutes=1)
    assert run(sms_app, clock).retried == 1  # still on its way
    clock.advance(hours=1)
    assert run(sms_app, clock).retried == 1
    clock.advance(hours=1)
    assert run(sms_app, clock).done == 1
    message = messages(sms_app)[0]
    assert message.status == "delivered" and message.delivered_at == clock.at
    assert sms_standin.stats()["calls"]["status"] == 3
    assert [j.status for j in jobs_of(sms_app, "sms-status")] == ["done"]


# The daily budget -------------------------------------------------------------------------------

def test_the_daily_budget_holds_messages_until_the_next_tehran_day(
        sms_app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        sms_standin: SmsStandinServer, clock: Clock) -> None:
    file(client, demo_catalog)
    file(client, demo_catalog)
    first, _ = messages(sms_app)
    sms_app.config["SMS_DAILY_BUDGET_PARTS"] = first.parts  # room for one message
    clock.at = tehran_day(clock.at)[1] + timedelta(hours=12)  # noon of a Tehran day
    report = run(sms_app, clock)
    assert (report.done, report.postponed) == (1, 1)
    assert [m.status for m in messages(sms_app)] == ["sent", "held"]
    held = jobs_of(sms_app, "sms")[1]
    assert held.run_at == tehran_day(clock.at)[1] and held.attempts == 0
    login(client, "boss")
    page = client.get("/desk/notifications").get_data(as_text=True)
    assert "سقف روزانه پیامک پر شده است" in page and "نگه‌داشته" in page
    clock.advance(hours=1)
    run(sms_app, clock)  # still the same Tehran day
    assert [m.status for m in messages(sms_app)][1] == "held"
    clock.at = tehran_day(clock.at)[1] + timedelta(minutes=1)
    assert run(sms_app, clock).done >= 1
    assert [m.status for m in messages(sms_app)][1] == "sent"
    assert sms_standin.stats()["accepted"] == 2
    assert "نگه‌داشته" not in client.get("/desk/notifications").get_data(as_text=True)


def test_the_daily_budget_holds_when_worker_lanes_send_at_once(
        sms_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        sms_standin: SmsStandinServer, clock: Clock) -> None:
    for _ in range(6):
        file(client, demo_catalog)
    queued = messages(sms_app)
    assert len(queued) == 6 and len({m.parts for m in queued}) == 1
    sms_app.config["SMS_DAILY_BUDGET_PARTS"] = 3 * queued[0].parts  # room for three
    sms_app.extensions["miz.sms"] = sms_standin.provider(timeout=5.0, kind="http")
    sms_standin.set_faults({"delay_seconds": 0.5})  # all six sends are in flight together
    clock.at = tehran_day(clock.at)[1] + timedelta(hours=12)
    report = run(sms_app, clock, threads=6)
    assert (report.done, report.postponed) == (3, 3)
    assert sms_standin.stats()["accepted"] == 3
    assert sorted(m.status for m in messages(sms_app)) == ["held"] * 3 + ["sent"] * 3
    with sms_app.app_context():  # a one-time code still goes out
        mobile_confirmation.start(
            database(), None, service="tour-guide-card", national_code=APPLICANT["national_code"],
            mobile=APPLICANT["mobile"], address="127.0.0.1", now=clock.at,
            policy=mobile_confirmation.policy_from_config(sms_app.config), secret="test")
    assert run(sms_app, clock, threads=6).done == 1
    assert sms_standin.stats()["accepted"] == 4
    with sms_app.app_context(), database().session() as session:
        assert notifications.parts_spent_on(session, clock.at) == 3 * queued[0].parts + 1


# Configuration ----------------------------------------------------------------------------------

def test_the_console_provider_is_the_default_and_writes_an_outbox(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    console = app.extensions["miz.sms"]
    assert isinstance(console, Console)
    sent = console.send("7", "09121234567", "سلام")
    assert (sent.status, sent.cost_parts) == ("delivered", 1)
    outbox = (tmp_path / "sms-outbox.jsonl").read_text(encoding="utf-8")
    assert "سلام" in outbox and "09121234567" not in outbox
    assert console.status_by_local_id("7") is not None
    assert console.status_by_local_id("8") is None


def test_kavenegar_is_chosen_by_configuration(tmp_path, sms_standin: SmsStandinServer) -> None:  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                      "SMS_PROVIDER": "kavenegar", "SMS_API_KEY": "test-sms-key-91c2",
                      "SMS_BASE_URL": sms_standin.url})
    sent = app.extensions["miz.sms"].send("1", "09121234567", "سلام")
    assert sent.status == "sent" and sms_standin.stats()["accepted"] == 1


# Quiet hours and which steps are announced ----------------------------------------------------

def _tonight_at(hour: int, minute: int) -> datetime:
    """The next time it is hour:minute in Tehran, after now (so jobs made now are due)."""
    from shared.jalali import TEHRAN

    local = datetime.now(TEHRAN)
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (moment if moment > local else moment + timedelta(days=1)).astimezone(UTC)


def test_quiet_hours_hold_a_message_until_the_tehran_morning_but_not_a_one_time_code(
        sms_app: Flask, client: FlaskClient, demo_catalog: Catalog,
        sms_standin: SmsStandinServer, clock: Clock) -> None:
    sms_app.config["SMS_QUIET_HOURS"] = "22:00-07:00"
    file(client, demo_catalog)
    clock.at = _tonight_at(23, 30)
    assert run(sms_app, clock).postponed == 1
    [held] = messages(sms_app)
    morning = clock.at + timedelta(hours=7, minutes=30)  # 07:00 Tehran
    assert held.status == "held" and jobs_of(sms_app, "sms")[0].run_at == morning
    with sms_app.app_context():  # a one-time code does not wait
        mobile_confirmation.start(
            database(), None, service="tour-guide-card", national_code=APPLICANT["national_code"],
            mobile=APPLICANT["mobile"], address="127.0.0.1", now=clock.at,
            policy=mobile_confirmation.policy_from_config(sms_app.config), secret="test")
    run(sms_app, clock)
    assert sms_standin.stats()["accepted"] == 1
    assert [m.status for m in messages(sms_app)] == ["held", "sent"]
    clock.at = morning
    run(sms_app, clock)
    assert sms_standin.stats()["accepted"] == 2
    assert messages(sms_app)[0].status == "sent"


def test_a_step_is_announced_by_name_only_when_the_service_lists_it(
        app: Flask, client: FlaskClient, demo_catalog: Catalog) -> None:
    from counter_server.models import RequestEvent, ServiceRequest
    from counter_server.usecases import mobile_confirmation, notifications

    file(client, demo_catalog)
    with app.app_context(), database().transaction() as session:
        request = session.scalar(select(ServiceRequest))
        for step in ("criminal-record-inquiry", "commission-interview", "commission-interview"):
            event = RequestEvent(request_id=request.id, action="advance", actor="staff",
                                 to_status="in_progress", step=step, at=utcnow())
            session.add(event)
            session.flush()
            notifications.enqueue(session, request, event, "https://miz.example")
    texts = [m.text for m in messages(app)]
    assert len(texts) == 2  # the filing, and the interview once (not twice in a row)
    assert "مرحله «مصاحبه در کمیسیون فنی» آغاز شد" in texts[1]
