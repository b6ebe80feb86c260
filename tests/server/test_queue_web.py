"""The queue over HTTP: the tickets API for kiosks and reception, the counter screen, reports."""

from __future__ import annotations

import html
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.context import database
from counter_server.models import Counter, Ticket
from counter_server.usecases import kiosks, lobby_admin
from shared import tracking_codes
from shared.catalog.schema import Catalog
from tests.conftest import csrf_token, login
from tests.server.test_queue import MORNING, OFFICE, run
from tests.server.test_requests_api import body


@pytest.fixture
def lobby_app(app: Flask, staff_users: dict[str, int]) -> Flask:
    """The app at a working morning, with a counter for tour guides and a kiosk."""
    app.config["CLOCK"] = lambda: MORNING
    run(app, lambda s: lobby_admin.add_counter(s, OFFICE, 1, None, ["tour-guides"]))
    return app


@pytest.fixture
def kiosk(lobby_app: Flask) -> dict[str, str]:
    registration = run(lobby_app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE))
    return {"Authorization": f"Bearer {registration.token}"}


def take(client: FlaskClient, headers: dict[str, str] | None = None, **extra: object):  # type: ignore[no-untyped-def]
    payload = {"client_id": str(uuid.uuid4()), "service": "tour-guide-card", **extra}
    return client.post("/api/v1/tickets", json=payload, headers=headers or {})


def test_kiosk_takes_a_ticket_with_place_and_estimate(client: FlaskClient,
                                                      kiosk: dict[str, str]) -> None:
    first = take(client, kiosk)
    second = take(client, kiosk, priority="elderly")
    third = take(client, kiosk)
    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    body = third.get_json()
    assert (body["number"], body["number_fa"], body["queue"]) == ("B-003", "ب-۰۰۳", "tour-guides")
    assert body["ahead"] == 2 and body["estimated_wait_minutes"] is None
    assert body["estimated_wait_range"] == [9, 30] and body["url"].endswith(f"/q/{body['id']}")
    assert second.get_json()["ahead"] == 0  # priority goes first
    state = client.get(f"/api/v1/tickets/{body['id']}").get_json()
    assert state["status"] == "waiting" and state["ahead"] == 2


def test_ticket_replay_and_refusals(client: FlaskClient, kiosk: dict[str, str]) -> None:
    payload = {"client_id": str(uuid.uuid4()), "service": "tour-guide-card"}
    first = client.post("/api/v1/tickets", json=payload, headers=kiosk)
    again = client.post("/api/v1/tickets", json=payload, headers=kiosk)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert take(client).status_code == 401
    refused = take(client, kiosk, service="no-such-service")
    assert refused.status_code == 422 and refused.get_json()["code"] == "no_queue_for_service"
    wrong = take(client, kiosk, priority="royalty")
    assert wrong.get_json()["code"] == "priority_not_offered"


def test_a_revoked_kiosk_is_refused_once_its_cached_token_is_due(
        lobby_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:
    """A process keeps a kiosk's token for KIOSK_TOKEN_CACHE_SECONDS (1 s) at most: a revoked
    kiosk is refused once that has passed, and a replayed ticket is refused with it."""
    moment = [100.0]
    lobby_app.extensions["miz.kiosk_tokens"] = kiosks.TokenCache(
        lobby_app.config["KIOSK_TOKEN_CACHE_SECONDS"], clock=lambda: moment[0])
    payload = {"client_id": str(uuid.uuid4()), "service": "tour-guide-card"}
    assert client.post("/api/v1/tickets", json=payload, headers=kiosk).status_code == 201
    run(lobby_app, lambda s: kiosks.revoke(s, "lobby"))
    moment[0] += lobby_app.config["KIOSK_TOKEN_CACHE_SECONDS"]
    for answer in (take(client, kiosk), client.post("/api/v1/tickets", json=payload,
                                                    headers=kiosk)):
        assert answer.status_code == 401 and answer.get_json()["code"] == "invalid_token"


def test_a_renewed_token_replaces_the_old_one_within_the_cache_age(
        lobby_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:
    moment = [100.0]
    lobby_app.extensions["miz.kiosk_tokens"] = kiosks.TokenCache(1.0, clock=lambda: moment[0])
    assert take(client, kiosk).status_code == 201

    def renew(session: Session) -> str:
        return kiosks.renew_token(session, kiosks.find(session, "lobby"))

    new = {"Authorization": f"Bearer {run(lobby_app, renew)}"}
    assert take(client, new).status_code == 201  # a token not cached is read at once
    moment[0] += 1.0
    assert take(client, kiosk).status_code == 401 and take(client, new).status_code == 201


def test_kiosk_lease_and_offline_numbers_over_the_api(lobby_app: Flask, client: FlaskClient,
                                                      kiosk: dict[str, str]) -> None:
    lease = client.post("/api/v1/tickets/leases", json={"queue": "tour-guides", "size": 10},
                        headers=kiosk)
    assert lease.status_code == 201
    body = lease.get_json()
    assert (body["first"], body["last"], body["prefix_fa"]) == (1, 10, "ب")
    assert take(client, kiosk).get_json()["number"] == "B-011"
    offline = take(client, kiosk, number=3,
                   issued_at=(MORNING - timedelta(minutes=20)).isoformat())
    assert offline.status_code == 201 and offline.get_json()["number"] == "B-003"
    assert offline.get_json()["ahead"] == 0
    printed = take(client, kiosk, number=4, issued_at=MORNING.isoformat(), id="KioskPrinted1")
    assert printed.get_json()["id"] == "KioskPrinted1"
    assert printed.get_json()["url"].endswith("/q/KioskPrinted1")
    assert take(client, kiosk, number=5, issued_at=MORNING.isoformat(),
                id="KioskPrinted1").status_code == 409
    assert take(client, kiosk, id="ServerNumber1").get_json()["code"] == "ticket_id_not_allowed"
    outside = take(client, kiosk, number=12, issued_at=MORNING.isoformat())
    assert outside.status_code == 409 and outside.get_json()["code"] == "number_not_leased"
    staff_lease = client.post("/api/v1/tickets/leases", json={"queue": "tour-guides"})
    assert staff_lease.status_code == 401


def _counter_id(app: Flask) -> int:
    with app.app_context(), database().session() as session:
        return session.scalar(select(Counter.id))


def test_counter_screen_calls_serves_and_opens_the_linked_request(
    lobby_app: Flask, client: FlaskClient, kiosk: dict[str, str], demo_catalog: Catalog
) -> None:
    code = tracking_codes.new_code(1)  # the fixture's kiosk is the first one registered
    filed = client.post("/api/v1/requests", headers=kiosk, json=body(
        demo_catalog, channel="kiosk", tracking_code=code, catalog_version=1))
    assert filed.status_code == 201
    assert take(client, kiosk, tracking_code=code).status_code == 201
    counter = _counter_id(lobby_app)
    login(client, "boss")
    screen = f"/desk/counter/{counter}"
    token = csrf_token(client, screen)
    page = html.unescape(client.post(f"{screen}/next", data={"csrf_token": token},
                                     follow_redirects=True).get_data(as_text=True))
    assert "ب-۰۰۱" in page and "باز کردن درخواست" in page
    assert f"/desk/requests/{code}" in page
    with lobby_app.app_context(), database().session() as session:
        ticket = session.scalar(select(Ticket))
    for action, status in (("start", "serving"), ("finish", "done")):
        client.post(f"{screen}/tickets/{ticket.id}/{action}", data={"csrf_token": token})
        with lobby_app.app_context(), database().session() as session:
            assert session.get(Ticket, ticket.id).status == status
    empty = html.unescape(client.post(f"{screen}/next", data={"csrf_token": token},
                                      follow_redirects=True).get_data(as_text=True))
    assert "کسی در صف‌های این باجه منتظر نیست" in empty


def test_receptionist_hands_out_a_ticket(lobby_app: Flask, client: FlaskClient) -> None:
    login(client, "front")
    token = csrf_token(client, "/desk/tickets")
    response = client.post("/desk/tickets", data={
        "csrf_token": token, "client_id": str(uuid.uuid4()), "service": "tour-guide-card",
        "priority": "disabled", "office": OFFICE})
    assert response.status_code == 302 and "/q/" in response.headers["Location"]
    with lobby_app.app_context(), database().session() as session:
        ticket = session.scalar(select(Ticket))
        assert (ticket.priority, ticket.number) == ("disabled", 1)
    bad = client.post("/desk/tickets", data={"csrf_token": token, "service": "tour-guide-card",
                                             "tracking_code": "12"})
    assert "۱۶ رقم" in html.unescape(bad.get_data(as_text=True))


def test_clerks_cannot_open_the_queue_report(lobby_app: Flask, client: FlaskClient) -> None:
    login(client, "guides")
    assert client.get("/desk/queue-report").status_code == 403


def test_supervisor_sees_todays_figures(lobby_app: Flask, client: FlaskClient,
                                        kiosk: dict[str, str]) -> None:
    take(client, kiosk)
    login(client, "boss")
    page = html.unescape(client.get("/desk/queue-report").get_data(as_text=True))
    assert "راهنمایان و آزمون‌های گردشگری" in page and "باجه ۱" in page


def test_board_api_shows_calls_and_waiting(lobby_app: Flask, client: FlaskClient,
                                           kiosk: dict[str, str]) -> None:
    take(client, kiosk)
    take(client, kiosk)
    login(client, "boss")
    counter = _counter_id(lobby_app)
    token = csrf_token(client, f"/desk/counter/{counter}")
    client.post(f"/desk/counter/{counter}/next", data={"csrf_token": token})
    board = client.get(f"/api/v1/offices/{OFFICE}/board").get_json()
    assert board["serving"] == [{"ticket": "ب-۰۰۱", "counter": "۱", "counter_name": "باجه ۱",
                                 "status": "called"}]
    assert board["calls"][0]["ticket"] == "ب-۰۰۱"
    waiting = {w["queue"]: w["count"] for w in board["waiting"]}
    assert waiting["راهنمایان و آزمون‌های گردشگری"] == 1
