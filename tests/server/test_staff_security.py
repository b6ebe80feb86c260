"""Staff accounts and sessions: sessions that end (logout, disabling, a new password, idle,
too old) on every route, the CSRF header on /api/v1, the second factor, passwords."""

from __future__ import annotations

import html
import re
import time
import uuid

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from counter_server.context import database
from counter_server.models import AuditEntry, User
from counter_server.usecases import staff
from tests.conftest import OWASP_PASSWORD_METHOD, TEST_PASSWORD, csrf_token, login
from tests.server.test_queue import MORNING, OFFICE, run

SUPERVISOR_ONLY = "/desk/queue-report"


def _audit(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context(), database().session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.id)))


def _user(app: Flask, username: str) -> User:
    with app.app_context(), database().session() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        session.expunge(user)
        return user


def _copy(client: FlaskClient, app: Flask) -> FlaskClient:
    """A second browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("miz_session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("miz_session", cookie.value)
    return thief


def _sees_inbox(client: FlaskClient) -> bool:
    response = client.get("/desk/")
    return response.status_code == 200 and "کارتابل" in response.get_data(as_text=True)


def _on_login_page(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and "/desk/login" in response.headers["Location"]


# -- sessions ---------------------------------------------------------------------------

def test_a_copied_cookie_replayed_after_logout_gets_the_login_page(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    login(client, "guides")
    thief = _copy(client, app)
    assert _sees_inbox(thief)
    client.post("/desk/logout", data={"csrf_token": csrf_token(client, "/desk/")})
    assert _on_login_page(thief.get("/desk/"))
    assert [e.user_id for e in _audit(app, "staff.logout")] == [staff_users["guides"]]


def test_logout_ends_the_accounts_other_sessions_too(
        app: Flask, staff_users: dict[str, int]) -> None:
    office, home = app.test_client(), app.test_client()
    login(office, "guides")
    login(home, "guides")
    home.post("/desk/logout", data={"csrf_token": csrf_token(home, "/desk/")})
    assert _on_login_page(office.get("/desk/"))


@pytest.fixture
def lobby_app(app: Flask, staff_users: dict[str, int]) -> Flask:
    """The app at a working morning, with a counter for tour guides."""
    from counter_server.usecases import lobby_admin

    app.config["CLOCK"] = lambda: MORNING
    run(app, lambda s: lobby_admin.add_counter(s, OFFICE, 1, None, ["tour-guides"]))
    return app


def _ticket(client: FlaskClient, token: str | None):  # type: ignore[no-untyped-def]
    headers = {"X-CSRFToken": token} if token else {}
    return client.post("/api/v1/tickets", headers=headers, json={
        "client_id": str(uuid.uuid4()), "service": "tour-guide-card", "office": OFFICE})


def test_an_idle_staff_cookie_gets_401_from_the_tickets_api(
        lobby_app: Flask, client: FlaskClient) -> None:
    login(client, "front")
    token = csrf_token(client, "/desk/tickets")
    assert _ticket(client, token).status_code == 201
    with client.session_transaction() as http_session:
        http_session["last_seen"] = time.time() - 31 * 60
    idle = _ticket(client, token)
    assert idle.status_code == 401 and idle.get_json()["code"] == "kiosk_token_required"
    assert _on_login_page(client.get("/desk/tickets"))


def test_a_session_ends_after_its_absolute_lifetime_however_busy(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    login(client, "guides")
    with client.session_transaction() as http_session:
        http_session["logged_in_at"] = time.time() - 12 * 3600 - 60
    response = client.get("/desk/")
    assert _on_login_page(response)
    page = html.unescape(client.get("/desk/login").get_data(as_text=True))
    assert "نشست شما به پایان رسید" in page


def test_staff_cookie_on_the_api_needs_the_csrf_header(
        lobby_app: Flask, client: FlaskClient) -> None:
    login(client, "front")
    bare = _ticket(client, None)
    assert bare.status_code == 403 and bare.get_json()["code"] == "csrf_header_required"
    forged = _ticket(client, "not-the-token")
    assert forged.status_code == 403
    token = csrf_token(client, "/desk/tickets")
    assert _ticket(client, token).status_code == 201


def test_disabling_ends_sessions_and_logins_until_enabled(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner,
        staff_users: dict[str, int]) -> None:
    login(client, "guides")
    result = runner.invoke(args=["user", "disable", "guides"])
    assert result.exit_code == 0, result.output
    assert _on_login_page(client.get("/desk/"))
    token = csrf_token(client, "/desk/login")
    refused = client.post("/desk/login", data={"username": "guides", "password": TEST_PASSWORD,
                                               "csrf_token": token})
    assert refused.status_code == 200
    assert runner.invoke(args=["user", "enable", "guides"]).exit_code == 0
    login(client, "guides")
    assert _sees_inbox(client)
    assert [e.details["username"] for e in _audit(app, "staff.disabled")] == ["guides"]
    assert "no user" in runner.invoke(args=["user", "disable", "nobody"]).output


def test_a_new_password_ends_sessions_and_lifts_a_lockout(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner,
        staff_users: dict[str, int]) -> None:
    login(client, "guides")
    token = csrf_token(client, "/desk/")
    other = app.test_client()
    for _ in range(staff.MAX_FAILED_LOGINS):
        other.post("/desk/login", data={"username": "guides", "password": "wrong",
                                        "csrf_token": csrf_token(other, "/desk/login")})
    assert _user(app, "guides").locked_until is not None
    common = runner.invoke(args=["user", "reset-password", "guides", "--password",
                                 "1234567890"])
    assert common.exit_code != 0 and "most common" in common.output
    result = runner.invoke(args=["user", "reset-password", "guides", "--password",
                                 "a brand new passphrase"])
    assert result.exit_code == 0, result.output
    assert _on_login_page(client.get("/desk/")) and token
    login(other, "guides", "a brand new passphrase")
    assert _sees_inbox(other)


# -- passwords --------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["1234567890", "qwertyuiop", "  Password1234 "])
def test_the_most_common_passwords_are_refused(app: Flask, password: str) -> None:
    with app.app_context(), database().transaction() as session, \
            pytest.raises(staff.StaffError, match="most common"):
        staff.create_user(session, "newbie", "New", staff.Role.clerk, password)


def test_the_common_password_list_ships_thousands_of_entries() -> None:
    listed = staff.common_passwords()
    assert len(listed) > 5000 and "password" in listed and "iloveyou" in listed


def test_the_password_cost_meets_owasp_and_old_hashes_are_upgraded_at_login(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    name, n, r, p = OWASP_PASSWORD_METHOD.split(":")
    # OWASP: scrypt N=2^17, r=8, p=1, or the same work as N=2^(17-k), r=8, p >= 2^k, roughly.
    assert name == "scrypt" and int(r) >= 8 and int(n) * int(p) >= 3 * 2**15
    monkeypatch.setattr(staff, "PASSWORD_METHOD", OWASP_PASSWORD_METHOD)
    with app.app_context(), database().transaction() as session:
        user = staff.create_user(session, "old", "Old", staff.Role.clerk, TEST_PASSWORD)
        user.password_hash = generate_password_hash(TEST_PASSWORD, method="scrypt")
    assert _user(app, "old").password_hash.startswith("scrypt:32768:8:1$")
    login(client, "old")
    assert _user(app, "old").password_hash.startswith(OWASP_PASSWORD_METHOD + "$")
    login(app.test_client(), "old")


def test_failed_logins_look_alike_and_are_audited(
        app: Flask, client: FlaskClient, staff_users: dict[str, int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[str] = []
    real_check = staff.check_password_hash

    def counting_check(pwhash: str, password: str) -> bool:
        hashed.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(staff, "check_password_hash", counting_check)
    token = csrf_token(client, "/desk/login")

    def attempt(username: str, password: str = "wrong password") -> str:
        hashed.clear()
        page = client.post("/desk/login", data={"username": username, "password": password,
                                                "csrf_token": token})
        assert page.status_code == 200
        assert hashed == [staff.PASSWORD_METHOD], hashed  # the same hashing work every time
        found = re.search(r'role="alert">([^<]+)<', html.unescape(page.get_data(as_text=True)))
        assert found
        return found.group(1)

    unknown = attempt("nobody-here")
    wrong = [attempt("guides") for _ in range(staff.MAX_FAILED_LOGINS)]
    locked = attempt("guides", TEST_PASSWORD)
    assert {unknown, locked, *wrong} == {staff.LOGIN_FAILED}
    assert "قفل" in locked
    reasons = [(e.details["username"], e.details["reason"])
               for e in _audit(app, "staff.login_failed")]
    assert reasons == [("nobody-here", "unknown")] + [("guides", "password")] * 5 + [
        ("guides", "locked")]


# -- the second factor ------------------------------------------------------------------

def _password(client: FlaskClient, username: str) -> str:
    token = csrf_token(client, "/desk/login")
    response = client.post("/desk/login", data={"username": username, "password": TEST_PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302
    return str(response.headers["Location"])


def _code(client: FlaskClient, path: str, code: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"code": code, "csrf_token": csrf_token(client, path)})


def test_a_supervisor_enrols_a_second_factor_at_the_first_login(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    location = _password(client, "boss")
    assert "/desk/two-factor/setup" in location
    assert _on_login_page(client.get(SUPERVISOR_ONLY))  # the password alone lets no one in
    page = client.get(location)
    assert "no-store" in page.headers["Cache-Control"]
    text = html.unescape(page.get_data(as_text=True))
    assert "راه‌اندازی تأیید دومرحله‌ای" in text and 'src="data:image/svg+xml;base64,' in text
    found = re.search(r"data-totp-secret><code>([A-Z2-7]+)<", text)
    assert found
    secret = found.group(1)
    wrong = _code(client, location, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert "نمی‌خواند" in html.unescape(wrong.get_data(as_text=True))
    done = _code(client, location, pyotp.TOTP(secret).now())
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10 and "no-store" in done.headers["Cache-Control"]
    assert client.get(SUPERVISOR_ONLY).status_code == 200
    user = _user(app, "boss")
    assert user.totp_secret == secret and len(user.recovery_codes) == 10
    assert codes[0] not in str(user.recovery_codes)  # kept hashed
    assert [e.user_id for e in _audit(app, "staff.two_factor_enrolled")] == [user.id]

    # The next login asks for a code; a code counts once; a recovery code works once.
    client.post("/desk/logout", data={"csrf_token": csrf_token(client, "/desk/")})
    location = _password(client, "boss")
    assert location.endswith("/desk/two-factor") or "/desk/two-factor?" in location
    used = pyotp.TOTP(secret).at(user.totp_last_step * 30)  # type: ignore[operator]
    replay = _code(client, location, used)
    assert "پیش‌تر به کار رفته" in html.unescape(replay.get_data(as_text=True))
    assert _code(client, location, codes[3].upper()).status_code == 302
    assert client.get(SUPERVISOR_ONLY).status_code == 200
    client.post("/desk/logout", data={"csrf_token": csrf_token(client, "/desk/")})
    location = _password(client, "boss")
    assert _code(client, location, codes[3]).status_code == 200  # used up
    assert len(_user(app, "boss").recovery_codes) == 9


def test_wrong_second_factor_codes_lock_the_account(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    login(client, "boss")
    client.post("/desk/logout", data={"csrf_token": csrf_token(client, "/desk/")})
    location = _password(client, "boss")
    for _ in range(staff.MAX_FAILED_LOGINS):
        _code(client, location, "abcde-fghij")
    assert _user(app, "boss").locked_until is not None
    assert len(_audit(app, "staff.login_failed")) == staff.MAX_FAILED_LOGINS


def test_clerks_need_a_second_factor_only_where_the_deployment_asks(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    assert "/desk/two-factor" not in _password(client, "guides")
    app.config["STAFF_TWO_FACTOR_EVERY_ROLE"] = True
    other = app.test_client()
    assert "/desk/two-factor/setup" in _password(other, "crafts")
    login(app.test_client(), "crafts")
    assert _user(app, "crafts").totp_secret is not None


def test_an_admin_resets_a_colleagues_second_factor(
        app: Flask, client: FlaskClient, staff_users: dict[str, int]) -> None:
    with app.app_context(), database().transaction() as session:
        root = staff.create_user(session, "root", "Root", staff.Role.admin, TEST_PASSWORD).id
    boss = app.test_client()
    login(boss, "boss")
    assert boss.post(f"/desk/staff/{root}/reset-second-factor",
                     data={"csrf_token": csrf_token(boss, "/desk/")}).status_code == 403
    login(client, "root")
    page = html.unescape(client.get("/desk/staff").get_data(as_text=True))
    assert "حساب‌های کارکنان" in page and "بازنشانی عامل دوم" in page
    done = client.post(f"/desk/staff/{staff_users['boss']}/reset-second-factor",
                       data={"csrf_token": csrf_token(client, "/desk/staff")},
                       follow_redirects=True)
    assert "بازنشانی شد" in html.unescape(done.get_data(as_text=True))
    assert _user(app, "boss").totp_secret is None
    assert _on_login_page(boss.get(SUPERVISOR_ONLY))
    assert [(e.user_id, e.details["username"]) for e in _audit(app, "staff.two_factor_reset")
            ] == [(root, "boss")]
    assert "/desk/two-factor/setup" in _password(app.test_client(), "boss")
    own = client.post(f"/desk/staff/{root}/reset-second-factor",
                      data={"csrf_token": csrf_token(client, "/desk/staff")},
                      follow_redirects=True)
    assert "مدیر دیگری" in html.unescape(own.get_data(as_text=True))
    assert _user(app, "root").totp_secret is not None


def test_the_demo_supervisor_logs_in_with_the_published_key(
        app: Flask, client: FlaskClient, runner: FlaskCliRunner) -> None:
    from counter_server import demo

    with app.app_context(), database().transaction() as session:
        demo.seed(session, app.extensions["miz.storage"], "http://127.0.0.1")
    login_page = csrf_token(client, "/desk/login")
    response = client.post("/desk/login", data={"username": "supervisor", "password":
                                                demo.PASSWORD, "csrf_token": login_page})
    location = response.headers["Location"]
    assert "/desk/two-factor" in location and "setup" not in location
    code = runner.invoke(args=["demo-code", "supervisor"]).output.strip()
    assert re.fullmatch(r"\d{6}", code)
    assert _code(client, location, code).status_code == 302
    assert client.get(SUPERVISOR_ONLY).status_code == 200
