"""Administration on the desk (staff accounts, counters, kiosks), the kiosk fleet's alerts on
the supervisors' home, and reception's service list in Persian order with its search."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import AuditEntry, Counter, Kiosk, User
from counter_server.usecases import kiosks
from counter_server.usecases.staff import Role, create_user
from shared.text import persian_sort_key
from tests.conftest import TEST_PASSWORD, csrf_token, login
from tests.server.test_queue import MORNING, OFFICE, run


@pytest.fixture
def admin(app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> FlaskClient:
    with app.app_context(), database().transaction() as session:
        create_user(session, "root", "Root", Role.admin, TEST_PASSWORD)
    login(client, "root")
    return client


def _post(client: FlaskClient, path: str, page: str = "/desk/staff",  # type: ignore[no-untyped-def]
          **form: object):
    return client.post(path, data={**form, "csrf_token": csrf_token(client, page)})


def _user(app: Flask, username: str) -> User:
    with app.app_context(), database().session() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        session.expunge(user)
        return user


def _actions(app: Flask) -> list[str]:
    with app.app_context(), database().session() as session:
        return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_an_admin_adds_an_account_and_changes_its_role_services_and_password(
        app: Flask, admin: FlaskClient) -> None:
    _post(admin, "/desk/staff/new", username="Sara", full_name="سارا احمدی", role="clerk",
          password=TEST_PASSWORD, services=["tour-guide-card"])
    sara = _user(app, "sara")
    assert (sara.role, sara.service_slugs) == ("clerk", {"tour-guide-card"})

    _post(admin, f"/desk/staff/{sara.id}/services",
          services=["handicraft-production-licence", "ecolodge-licence"])
    assert _user(app, "sara").service_slugs == {"handicraft-production-licence",
                                                "ecolodge-licence"}
    clerk = app.test_client()
    login(clerk, "sara")
    _post(admin, f"/desk/staff/{sara.id}/role", role="editor")
    assert _user(app, "sara").role == "editor"
    assert "/desk/login" in clerk.get("/desk/").headers["Location"], "the old role's session ends"

    short = _post(admin, f"/desk/staff/{sara.id}/password", password="short")
    assert short.status_code == 302
    page = admin.get("/desk/staff").get_data(as_text=True)
    assert "گذرواژه باید دست‌کم ۱۰ نویسه داشته باشد." in page
    _post(admin, f"/desk/staff/{sara.id}/password", password="a much longer secret")
    assert "staff.password_reset" in _actions(app)
    with app.app_context(), database().session() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["staff.created", "staff.role_changed",
                                   "staff.services_changed", "staff.password_reset"]))).all()
    admin_id = _user(app, "root").id
    assert {e.action for e in entries} == {"staff.created", "staff.role_changed",
                                           "staff.services_changed", "staff.password_reset"}
    assert {e.user_id for e in entries} == {admin_id}


def test_disabling_and_ending_sessions_log_the_person_out(
        app: Flask, admin: FlaskClient, staff_users: dict[str, int]) -> None:
    guides = app.test_client()
    login(guides, "guides")
    _post(admin, f"/desk/staff/{staff_users['guides']}/end-sessions")
    assert "/desk/login" in guides.get("/desk/").headers["Location"]
    login(guides, "guides")
    _post(admin, f"/desk/staff/{staff_users['guides']}/active", active="no")
    assert "/desk/login" in guides.get("/desk/").headers["Location"]
    assert not _user(app, "guides").active
    own = _post(admin, f"/desk/staff/{_user(app, 'root').id}/active", active="no")
    assert own.status_code == 302 and _user(app, "root").active
    assert "staff.sessions_ended" in _actions(app) and "staff.disabled" in _actions(app)


def test_an_admin_registers_a_kiosk_sees_its_token_once_and_revokes_it(
        app: Flask, admin: FlaskClient) -> None:
    page = _post(admin, "/desk/devices/kiosks", page="/desk/devices", name="سالن ۲",
                 office=OFFICE).get_data(as_text=True)
    token = re.search(r"data-kiosk-token>([^<]+)</code>", page).group(1)
    assert "دیگر نمایش داده نمی‌شود" in page
    assert token not in admin.get("/desk/devices").get_data(as_text=True)
    beat = {"software_version": "1", "outbox_depth": 0, "printer_state": "ok",
            "kiosk_time": MORNING.isoformat()}
    headers = {"Authorization": f"Bearer {token}"}
    assert admin.post("/api/v1/kiosks/heartbeat", json=beat, headers=headers).status_code == 200
    with app.app_context(), database().session() as session:
        kiosk_id = session.scalar(select(Kiosk.id).where(Kiosk.name == "سالن ۲"))
    _post(admin, f"/desk/devices/kiosks/{kiosk_id}/revoke", page="/desk/devices")
    assert admin.post("/api/v1/kiosks/heartbeat", json=beat, headers=headers).status_code == 401
    assert {"kiosk.registered", "kiosk.revoked"} <= set(_actions(app))


def test_an_admin_adds_a_counter_and_takes_it_out_of_service(
        app: Flask, admin: FlaskClient, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    queue = demo_catalog.queues_of(demo_catalog.office(OFFICE))[0].slug
    _post(admin, "/desk/devices/counters", page="/desk/devices", office=OFFICE, number="۹",
          queues=[queue])
    duplicate = _post(admin, "/desk/devices/counters", page="/desk/devices", office=OFFICE,
                      number="9", queues=[queue])
    assert "باجهٔ شمارهٔ ۹" in html.unescape(admin.get(duplicate.headers["Location"])
                                            .get_data(as_text=True))
    with app.app_context(), database().session() as session:
        counter = session.scalar(select(Counter).where(Counter.number == 9))
        assert counter is not None and counter.queues == [queue] and counter.active
    _post(admin, f"/desk/devices/counters/{counter.id}/active", page="/desk/devices", active="no")
    with app.app_context(), database().session() as session:
        assert session.get(Counter, counter.id).active is False


@pytest.mark.parametrize("username", ["boss", "guides", "front"])
def test_only_admins_reach_administration(app: Flask, client: FlaskClient,
                                          staff_users: dict[str, int], username: str) -> None:
    login(client, username)
    assert client.get("/desk/staff").status_code == 403
    assert client.get("/desk/devices").status_code == 403
    token = csrf_token(client, "/desk/walk-in")
    assert client.post("/desk/devices/kiosks", data={"name": "x", "csrf_token": token}
                       ).status_code == 403
    assert client.post(f"/desk/staff/{staff_users['guides']}/active",
                       data={"active": "no", "csrf_token": token}).status_code == 403


def _beat(client: FlaskClient, token: str, depth: int, printer: str = "ok") -> None:
    response = client.post("/api/v1/kiosks/heartbeat", headers={"Authorization": f"Bearer {token}"},
                           json={"software_version": "1", "outbox_depth": depth,
                                 "printer_state": printer, "kiosk_time": MORNING.isoformat()})
    assert response.status_code == 200


def test_the_supervisors_home_shows_the_kiosk_fleets_alerts(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    app.config["CLOCK"] = lambda: MORNING
    growing = run(app, lambda s: kiosks.register_kiosk(s, "growing", OFFICE)).token
    steady = run(app, lambda s: kiosks.register_kiosk(s, "steady", OFFICE)).token
    quiet = run(app, lambda s: kiosks.register_kiosk(s, "quiet", OFFICE)).token
    for depth in (1, 3, 6):
        _beat(client, growing, depth)
    for depth in (4, 2, 5):
        _beat(client, steady, depth, printer="cover_open")
    app.config["CLOCK"] = lambda: MORNING - timedelta(minutes=25)
    _beat(client, quiet, 0, printer="paper_out")
    app.config["CLOCK"] = lambda: MORNING

    login(client, "boss")
    page = html.unescape(client.get("/desk/").get_data(as_text=True))
    alerts = page.split('id="kiosk-alerts-title"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r'<li data-alert="(\w+)">کیوسک [۰-۹]+ — <bdi>(\w+)</bdi>: ([^<]+)</li>',
                       alerts)
    assert {(kind, name) for kind, name, _ in items} == {
        ("outbox_growing", "growing"), ("printer", "steady"), ("silent", "quiet"),
        ("printer", "quiet")}
    messages = {(kind, name): text for kind, name, text in items}
    assert "۶ مورد" in messages["outbox_growing", "growing"]
    assert messages["printer", "steady"] == "درب چاپگر باز است"
    assert messages["silent", "quiet"].startswith("۲۵ دقیقه")

    clerk = app.test_client()
    login(clerk, "guides")
    assert "هشدار کیوسک‌ها" not in clerk.get("/desk/").get_data(as_text=True)


def test_reception_lists_services_by_persian_title_and_searches_them(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    login(client, "front")
    page = html.unescape(client.get("/desk/walk-in").get_data(as_text=True))
    titles = re.findall(r'<h3>([^<]+)</h3>', page)
    assert len(titles) > 5 and titles == sorted(titles, key=persian_sort_key)
    assert 'src="/static/service-filter.js"' in page and "data-search=" in page
    found = html.unescape(client.get("/desk/walk-in?q=كارت راهنما").get_data(as_text=True))
    found_titles = re.findall(r'<h3>([^<]+)</h3>', found)
    assert {"صدور کارت راهنمای گردشگری", "تمدید کارت راهنمای گردشگری"} <= set(found_titles)
    assert len(found_titles) < len(titles)
    assert found_titles == sorted(found_titles, key=persian_sort_key)
