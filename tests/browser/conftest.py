"""A real server on a free port and headless Chromium driven by Playwright.

Playwright's own browser download does not work here: Debian's `chromium` is used instead
(installed by `make test`, see scripts/install-system-deps.sh).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from counter_server import create_app, migrate
from counter_server.context import database
from counter_server.demo import PASSWORD, TOTP_SECRETS, seed
from counter_server.usecases.catalog_versions import import_catalog
from shared.catalog.schema import Catalog
from shared.validators import clean_mobile
from tests.conftest import ONLINE_FILING
from tests.online import code_sent, latest_code

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def confirm_mobile_on_page(page: Page, app: Flask, national_code: str, mobile: str,
                           shot: str | None = None) -> None:
    """On an apply page's first step: type the national code and mobile, then the code the
    SMS carried; the page goes on to the form (`shot`: a screenshot of the code step)."""
    page.get_by_label("کد ملی").fill(national_code)
    page.get_by_label("شماره تلفن همراه").fill(mobile)
    page.get_by_role("button", name="ارسال کد تأیید").click()
    try:
        expect(page.get_by_label("کد تأیید")).to_be_visible(timeout=15_000)
    except AssertionError:
        refused = page.locator("#error-summary")
        raise AssertionError(refused.inner_text() if refused.count()
                             else page.url + page.inner_text("main")[:500]) from None
    if shot:
        screenshot(page, shot)
    page.get_by_label("کد تأیید").fill(latest_code(app, clean_mobile(mobile)))
    page.get_by_role("button", name="تأیید و ادامه").click()


def file_online_api(page: Page, app: Flask, live_server: str, data: dict) -> str:
    """File `data` online through the API as a citizen's app does (the mobile confirmed with
    the code from the SMS first); its tracking code."""
    applicant = data["applicant"]
    asked = page.request.post(f"{live_server}/api/v1/mobile-confirmations", data={
        "service": data["service"], "national_code": applicant["national_code"],
        "mobile": applicant["mobile"]})
    assert asked.status == 202, asked.text()
    confirmation = asked.json()["confirmation"]
    typed = page.request.post(f"{live_server}/api/v1/mobile-confirmations/{confirmation}/code",
                              data={"code": code_sent(app, confirmation)})
    assert typed.status == 200, typed.text()
    filed = page.request.post(f"{live_server}/api/v1/requests",
                              data={**data, "mobile_confirmation": confirmation})
    assert filed.status == 201, filed.text()
    return str(filed.json()["tracking_code"])


def staff_login(page: Page, server: str, username: str) -> None:
    """Log in on the desk as a demo account: the password, then for the supervisor and the
    admin the code of their published authenticator key (the step after the last one used,
    since a code counts once, waiting for it when logins come quicker than the steps)."""
    import pyotp

    page.goto(f"{server}/desk/login")
    page.get_by_label("نام کاربری").fill(username)
    page.get_by_label("گذرواژه").fill(PASSWORD)
    page.get_by_role("button", name="ورود").click()
    if username in TOTP_SECRETS:
        expect(page.get_by_role("heading", name="تأیید دومرحله‌ای")).to_be_visible()
        step = _LAST_STEP[username] = max(int(time.time()) // 30, _LAST_STEP.get(username, -1) + 1)
        while step > int(time.time()) // 30 + 1:  # the server takes one step ahead, no more
            time.sleep(1)
        page.get_by_label("کد تأیید یا کد بازیابی").fill(
            pyotp.TOTP(TOTP_SECRETS[username]).at(step * 30))
        page.get_by_role("button", name="تأیید و ورود").click()
    expect(page.locator(".nav-user")).to_be_visible()


_LAST_STEP: dict[str, int] = {}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Catalog) -> Flask:
    folder = tmp_path_factory.mktemp("live")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'miz.sqlite3'}",
                      "SECRET_KEY": "browser-tests", "INSTANCE_PATH": str(folder),
                      "SESSION_COOKIE_SECURE": False, "SMS_QUIET_HOURS": "", **ONLINE_FILING})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, demo_catalog, source="browser tests")
            seed(session, app.extensions["miz.storage"], "http://127.0.0.1")
    return app


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free port of 127.0.0.1."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `make test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fa-IR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under var/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
