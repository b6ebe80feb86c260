"""A request filed from a kiosk shows its inquiries' results on the clerk's request page once
a worker has asked the agencies (the stand-in, over real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from counter_server.background import make_worker
from counter_server.context import database
from counter_server.demo import PASSWORD
from counter_server.usecases import kiosks
from shared import tracking_codes
from shared.catalog.schema import Catalog
from tests.agency_standin import StandinServer
from tests.browser.conftest import screenshot
from tests.server.test_requests_api import body

pytestmark = pytest.mark.browser

ZAHRA = {"name": "زهرا احمدی", "national_code": "0499370899", "mobile": "09121234567"}
NEGAR = {"name": "نگار صادقی", "national_code": "0067749828", "mobile": "09351234567"}


@pytest.fixture
def asking_app(live_app: Flask) -> Iterator[Flask]:
    """The live app asking a stand-in of the agencies, for this test only."""
    with StandinServer() as standin:
        live_app.extensions["miz.bus"] = standin.bus()
        try:
            yield live_app
        finally:
            live_app.extensions["miz.bus"] = None


def file_from_kiosk(server: str, app: Flask, catalog: Catalog,
                    applicant: dict[str, str]) -> str:
    with app.app_context(), database().transaction() as session:
        registration = kiosks.register_kiosk(session, f"lobby-{applicant['national_code']}")
        issuer, token = registration.kiosk.id, registration.token
    data = body(catalog, channel="kiosk", applicant=dict(applicant),
                tracking_code=tracking_codes.new_code(issuer))
    response = requests.post(f"{server}/api/v1/requests", json=data, timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    return str(response.json()["tracking_code"])


def clerk(browser: Browser, server: str) -> Page:
    page = browser.new_context(locale="fa-IR", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server}/desk/login")
    page.get_by_label("نام کاربری").fill("clerk-tourism")
    page.get_by_label("گذرواژه").fill(PASSWORD)
    page.get_by_role("button", name="ورود").click()
    expect(page.locator(".nav-user")).to_be_visible()
    return page


def test_a_kiosk_request_shows_its_inquiry_results_to_the_clerk(
        browser: Browser, live_server: str, asking_app: Flask, demo_catalog: Catalog) -> None:
    theirs = file_from_kiosk(live_server, asking_app, demo_catalog, ZAHRA)
    wrong = file_from_kiosk(live_server, asking_app, demo_catalog, NEGAR)
    page = clerk(browser, live_server)

    page.goto(f"{live_server}/desk/requests/{theirs}")
    section = page.locator("#inquiries")
    expect(section).to_contain_text("در انتظار پاسخ")  # filed; nobody has asked yet

    with asking_app.app_context():
        report = make_worker(asking_app, threads=2).run_once()
    assert report.done >= 2

    page.reload()
    expect(section).to_contain_text("تطابق شماره همراه با کد ملی: تأیید شد")
    expect(section).to_contain_text("شاهکار")
    section.locator("summary", has_text="سوابق تبادل").click()
    expect(section.locator(".evidence-table")).to_contain_text("پاسخ گرفت")
    expect(section.locator(".evidence-table")).to_contain_text("معتبر")
    screenshot(page, "desk-inquiry-done")

    page.goto(f"{live_server}/desk/requests/{wrong}")
    expect(section).to_contain_text("تطابق شماره همراه با کد ملی: تأیید نشد")
    expect(section).to_contain_text("بررسی دستی:")
    expect(section.get_by_role("button", name="استعلام دوباره")).to_be_visible()
    screenshot(page, "desk-inquiry-failed")
