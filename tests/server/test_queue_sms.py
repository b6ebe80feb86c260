"""The queue by SMS: a ticket's mobile (kiosk API, reception), «نوبت شما: باجه …» once per
call, «… نفر جلوی شما هستند» once near the front, the new counter on a transfer, the survey's
link once per served visit — nothing without a mobile, nothing after a no-show — and the
worker handing a call's message to the SMS stand-in over real HTTP."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.context import database
from counter_server.models import Counter, Job, Notification, Ticket, User
from counter_server.models import SurveyAnswer, SurveyInvitation
from counter_server.usecases import walk_in_queue
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby
from tests.conftest import csrf_token, login
from tests.server.test_queue import (  # noqa: F401  (counters: a fixture)
    MORNING,
    OFFICE,
    call,
    counters,
    finish,
    issue,
    run,
)
from tests.server.test_queue_web import kiosk, lobby_app, take  # noqa: F401
from tests.server.test_sms import Clock, clock, provider_kind, sms_app  # noqa: F401
from tests.server.test_sms import run as run_worker
from tests.sms_standin import SmsStandinServer, sms_standin_fixture  # noqa: F401

MOBILE = "09123456789"
LINK = re.compile(r"https://miz\.chht-isfahan\.example/s/([A-Za-z0-9_-]+)")


def sms_of(app: Flask, ticket_id: int) -> list[tuple[str, str, str]]:
    """(event, mobile, text) of every SMS written for a ticket, oldest first."""
    with app.app_context(), database().session() as session:
        return [(n.event, n.mobile, n.text) for n in session.scalars(
            select(Notification).where(Notification.ticket_id == ticket_id)
            .order_by(Notification.id))]


def events_of(app: Flask, ticket_id: int) -> list[str]:
    return [event for event, _, _ in sms_of(app, ticket_id)]


def act(app: Flask, counter_id: int, ticket_id: int, user_id: int, action: str) -> None:
    def work(session: Session) -> None:
        walk_in_queue.act(session, Lobby(current_snapshot(session), MORNING),
                          session.get(Counter, counter_id), session.get(Ticket, ticket_id),
                          action, session.get(User, user_id))
    run(app, work)


def call_with(app: Flask, counter_id: int, user_id: int, near_ahead: int | None) -> Ticket:
    def work(session: Session) -> Ticket:
        ticket = walk_in_queue.call_next(
            session, Lobby(current_snapshot(session), MORNING, near_ahead=near_ahead),
            session.get(Counter, counter_id), session.get(User, user_id))
        assert ticket is not None
        session.expunge(ticket)
        return ticket
    return run(app, work)


def line(app: Flask, mobiles: list[str | None]) -> list[Ticket]:
    """Tickets of the tour-guides queue a minute apart, with these mobiles."""
    return [issue(app, MORNING - timedelta(minutes=30 - i), mobile=m)
            for i, m in enumerate(mobiles)]


# The call, the recall, the transfer ----------------------------------------------------------

def test_a_call_tells_the_ticket_once_and_a_recall_tells_it_nothing_more(
        app: Flask, counters: list[int], staff_users: dict[str, int]) -> None:
    ticket = issue(app, mobile="۰۹۱۲ ۳۴۵ ۶۷۸۹")  # Persian digits, spaces: made canonical
    assert ticket.mobile == MOBILE
    called = call(app, counters[1], staff_users["boss"])
    assert called.id == ticket.id
    assert sms_of(app, ticket.id) == [(
        "queue_called", MOBILE, "نوبت شما: باجه ۲\nلطفاً با نوبت ب-۰۰۱ به باجه ۲ بروید.")]
    act(app, counters[1], ticket.id, staff_users["boss"], "recall")
    act(app, counters[1], ticket.id, staff_users["boss"], "recall")
    assert events_of(app, ticket.id) == ["queue_called"]
    with app.app_context(), database().session() as session:
        message = session.scalar(select(Notification).where(Notification.ticket_id == ticket.id))
        job = session.scalar(select(Job).where(Job.key == f"sms:{message.id}"))
        assert (job.kind, job.status, message.status, message.parts) == ("sms", "queued",
                                                                         "queued", 1)


def test_a_call_that_is_rolled_back_leaves_no_message(
        app: Flask, counters: list[int], staff_users: dict[str, int]) -> None:
    ticket = issue(app, mobile=MOBILE)

    def call_then_fail(session: Session) -> None:
        walk_in_queue.call_next(session, Lobby(current_snapshot(session), MORNING),
                                session.get(Counter, counters[0]),
                                session.get(User, staff_users["boss"]))
        raise RuntimeError("the counter's transaction fails after the call")

    with pytest.raises(RuntimeError):
        run(app, call_then_fail)
    assert sms_of(app, ticket.id) == []
    call(app, counters[0], staff_users["boss"])
    assert events_of(app, ticket.id) == ["queue_called"]


def test_a_transfer_to_a_counter_announces_it_and_that_counters_call_tells_again(
        app: Flask, counters: list[int], staff_users: dict[str, int]) -> None:
    ticket = issue(app, mobile=MOBILE)
    boss = staff_users["boss"]
    call(app, counters[0], boss)

    def transfer(session: Session) -> None:
        walk_in_queue.transfer(session, Lobby(current_snapshot(session), MORNING),
                               session.get(Counter, counters[0]),
                               session.get(Ticket, ticket.id), session.get(User, boss),
                               to_counter=session.get(Counter, counters[2]))
    run(app, transfer)
    assert sms_of(app, ticket.id)[1] == (
        "queue_transferred", MOBILE,
        "نوبت ب-۰۰۱ به باجه ۳ سپرده شد؛ هنگام فراخوان دوباره پیامک می‌گیرید.")
    assert call(app, counters[2], boss).id == ticket.id
    assert events_of(app, ticket.id) == ["queue_called", "queue_transferred", "queue_called"]
    assert "باجه ۳" in sms_of(app, ticket.id)[2][2]


def test_a_ticket_without_a_mobile_gets_nothing(
        app: Flask, counters: list[int], staff_users: dict[str, int]) -> None:
    tickets = line(app, [None] * 5)
    boss = staff_users["boss"]
    for _ in tickets:
        ticket = call(app, counters[0], boss)
        finish(app, counters[0], ticket.id, boss)
    with app.app_context(), database().session() as session:
        assert session.scalars(select(Notification)).all() == []
        assert session.scalars(select(SurveyInvitation)).all() == []


# Near the front -------------------------------------------------------------------------------

def test_near_the_front_is_told_once_when_the_people_ahead_drop_to_the_threshold(
        app: Flask, counters: list[int], staff_users: dict[str, int]) -> None:
    # Five ahead of the fifth ticket; the second was already near when it was taken.
    tickets = line(app, [None, MOBILE, None, None, None, "09351112233", None])
    near, early = tickets[5], tickets[1]
    boss = staff_users["boss"]
    call(app, counters[0], boss)  # 4 ahead of `near`: above the threshold (3)
    assert sms_of(app, near.id) == []
    call(app, counters[1], boss)  # 3 ahead
    assert sms_of(app, near.id) == [
        ("queue_near", "09351112233",
         "۳ نفر جلوی شما هستند.\nنوبت ب-۰۰۶ — لطفاً به سالن انتظار برگردید.")]
    call(app, counters[2], boss)  # 2 ahead
    call_or_finish(app, counters[0], boss)  # 1 ahead
    call_or_finish(app, counters[1], boss)  # 0 ahead
    assert events_of(app, near.id) == ["queue_near"]
    assert call_or_finish(app, counters[2], boss).id == near.id
    assert events_of(app, near.id) == ["queue_near", "queue_called"]
    assert events_of(app, early.id) == ["queue_called", "survey"]  # never "near"


def call_or_finish(app: Flask, counter_id: int, boss: int) -> Ticket | None:
    """Finish the counter's ticket, then call its next."""
    def current(session: Session) -> int | None:
        ticket = walk_in_queue.current_ticket(session, session.get(Counter, counter_id),
                                              Lobby(current_snapshot(session), MORNING).today)
        return ticket.id if ticket else None
    ticket_id = run(app, current)
    if ticket_id is not None:
        finish(app, counter_id, ticket_id, boss)
    return call(app, counter_id, boss)


def test_the_threshold_is_a_setting_and_a_priority_ticket_keeps_its_place(
        app: Flask, counters: list[int], staff_users: dict[str, int]) -> None:
    tickets = line(app, [None, None, MOBILE])
    elder = issue(app, MORNING - timedelta(minutes=1), priority="elderly", mobile="09350000000")
    boss = staff_users["boss"]
    # The priority ticket was ahead of every ordinary one: its call leaves two ahead of the
    # third ordinary ticket, which is told so when the threshold is 2.
    assert call_with(app, counters[0], boss, near_ahead=2).id == elder.id
    assert sms_of(app, tickets[2].id)[0][0] == "queue_near"
    assert sms_of(app, tickets[2].id)[0][2].startswith("۲ نفر جلوی شما هستند.")
    assert events_of(app, elder.id) == ["queue_called"]
    call_with(app, counters[1], boss, near_ahead=None)  # never told with no threshold
    assert events_of(app, tickets[2].id) == ["queue_near"]


# The survey after a served visit -----------------------------------------------------------

def test_a_served_visit_gets_one_survey_link_and_a_no_show_none(
        app: Flask, client: FlaskClient, counters: list[int],
        staff_users: dict[str, int]) -> None:
    served, absent = line(app, [MOBILE, "09351112233"])
    guides = staff_users["guides"]
    call(app, counters[0], guides)
    call(app, counters[1], guides)
    act(app, counters[1], absent.id, guides, "no_show")
    act(app, counters[0], served.id, guides, "finish")
    assert events_of(app, absent.id) == ["queue_called"]
    assert events_of(app, served.id) == ["queue_called", "survey"]
    text = sms_of(app, served.id)[1][2]
    assert "«صدور کارت راهنمای گردشگری»" in text
    token = LINK.search(text).group(1)  # type: ignore[union-attr]
    with app.app_context(), database().session() as session:
        invitations = session.scalars(select(SurveyInvitation)).all()
        assert [(i.ticket_id, i.request_id, i.service_slug, i.office_slug, i.counter_id,
                 i.clerk_id, i.channel, i.token) for i in invitations] == [
            (served.id, None, "tour-guide-card", OFFICE, counters[0], guides, "counter", token)]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    body = {"client_id": str(uuid.uuid4()), "survey_token": token,
            "answers": {"satisfaction": 5, "staff_conduct": 4}}
    assert client.post("/api/v1/surveys", json=body).status_code == 201
    again = client.post("/api/v1/surveys", json={**body, "client_id": str(uuid.uuid4())})
    assert again.status_code == 409 and again.get_json()["code"] == "survey_already_answered"
    with app.app_context(), database().session() as session:
        answer = session.scalar(select(SurveyAnswer))
        assert (answer.ticket_ref_id, answer.counter_id, answer.clerk_id, answer.channel) == (
            served.id, counters[0], guides, "counter")


# The mobile through the API and the reception's form ------------------------------------------

def test_the_api_takes_a_mobile_refuses_a_bad_one_and_counts_it_in_the_replay(
        client: FlaskClient, kiosk: dict[str, str], lobby_app: Flask) -> None:
    for bad, code in (("0912345", "mobile_invalid"), ("03112345678", "mobile_landline"),
                      ("", "mobile_required")):
        refused = take(client, kiosk, mobile=bad)
        assert refused.status_code == 422, bad
        answer = refused.get_json()
        assert answer["code"] == code and answer["errors"]["mobile"] == answer["message"]
        assert "همراه" in answer["message"]
    with lobby_app.app_context(), database().session() as session:
        assert session.scalars(select(Ticket)).all() == []  # never issued without it
    payload = {"client_id": str(uuid.uuid4()), "service": "tour-guide-card",
               "mobile": "+98 912 345 6789"}
    first = client.post("/api/v1/tickets", json=payload, headers=kiosk)
    assert first.status_code == 201 and "mobile" not in first.get_json()
    same = client.post("/api/v1/tickets", json={**payload, "mobile": "۰۹۱۲۳۴۵۶۷۸۹"},
                       headers=kiosk)
    assert same.status_code == 200 and same.get_json()["id"] == first.get_json()["id"]
    other = client.post("/api/v1/tickets", json={**payload, "mobile": "09120000000"},
                        headers=kiosk)
    assert other.status_code == 422 and other.get_json()["code"] == "idempotency_key_reused"
    dropped = client.post("/api/v1/tickets", json={k: v for k, v in payload.items()
                                                    if k != "mobile"}, headers=kiosk)
    assert dropped.get_json()["code"] == "idempotency_key_reused"
    with lobby_app.app_context(), database().session() as session:
        assert [t.mobile for t in session.scalars(select(Ticket))] == [MOBILE]


def test_the_openapi_document_describes_the_mobile(client: FlaskClient) -> None:
    schema = client.get("/api/openapi.json").get_json()
    ticket_in = schema["components"]["schemas"]["TicketIn"]["properties"]
    assert "mobile_invalid" in ticket_in["mobile"]["description"]


def test_reception_gives_a_ticket_with_a_mobile_and_the_sms_page_shows_its_label(
        client: FlaskClient, lobby_app: Flask) -> None:
    login(client, "boss")
    form = {"csrf_token": csrf_token(client, "/desk/tickets"), "service": "tour-guide-card",
            "office": OFFICE, "client_id": str(uuid.uuid4())}
    refused = client.post("/desk/tickets", data={**form, "mobile": "۰۲۱۱۲۳۴۵۶۷۸"})
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 200 and "این شماره تلفن ثابت است" in page
    assert 'id="mobile-error"' in page and "۰۲۱۱۲۳۴۵۶۷۸" in page  # kept in the field
    issued = client.post("/desk/tickets", data={**form, "mobile": "۰۹۱۲۳۴۵۶۷۸۹"})
    assert issued.status_code == 302
    with lobby_app.app_context(), database().session() as session:
        ticket = session.scalar(select(Ticket))
        counter = session.scalar(select(Counter))
        assert ticket.mobile == MOBILE and ticket.issued_by_id is not None
        ticket_id, counter_id = ticket.id, counter.id
    token = csrf_token(client, f"/desk/counter/{counter_id}")
    assert client.post(f"/desk/counter/{counter_id}/next",
                       data={"csrf_token": token}).status_code == 302
    assert events_of(lobby_app, ticket_id) == ["queue_called"]
    page = html.unescape(client.get("/desk/notifications").get_data(as_text=True))
    assert "نوبت ب-۰۰۱" in page and "نوبت شما: باجه ۱" in page


# The worker sends it ------------------------------------------------------------------------

def test_the_worker_sends_your_turn_to_the_provider_over_http(
        sms_app: Flask, counters: list[int], staff_users: dict[str, int],
        sms_standin: SmsStandinServer, clock: Clock) -> None:
    ticket = issue(sms_app, mobile=MOBILE)
    call(sms_app, counters[0], staff_users["boss"])
    clock.advance(seconds=30)  # the job was written after the clock was set
    assert run_worker(sms_app, clock).done == 1
    sent = sms_standin.messages()
    assert [m["text"] for m in sent] == ["نوبت شما: باجه ۱\nلطفاً با نوبت ب-۰۰۱ به باجه ۱ بروید."]
    with sms_app.app_context(), database().session() as session:
        message = session.scalar(select(Notification).where(Notification.ticket_id == ticket.id))
        assert (message.status, message.mobile, message.provider_id) == (
            "sent", MOBILE, str(sent[0]["messageid"]))
        assert sent[0]["localid"] == str(message.id)
    assert run_worker(sms_app, clock).done == 0 and sms_standin.stats()["accepted"] == 1
