"""Electronic delivery in Chromium: a clerk issues the approved request's document on the desk;
the citizen passes the applicant check on /t/<code> and downloads the very file issued."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from counter_server.context import database
from counter_server.delivery import keys
from counter_server.demo import PASSWORD, demo_requests
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

SARA = {"national_code": "4311243251", "mobile": "09191234567"}  # the demo's approved request


@pytest.fixture
def keyed_app(live_app: Flask) -> Flask:
    """The live app with its demo keys made (`keys init`), as `make demo` does."""
    keys.init_keys(keys.KeySettings.from_config(live_app.config),
                   "اداره کل میراث فرهنگی، گردشگری و صنایع‌دستی استان اصفهان")
    return live_app


def approved_code(app: Flask) -> str:
    with app.app_context(), database().session() as session:
        return next(r.tracking_code for r in demo_requests(session)
                    if r.service_slug == "records-certificate")


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="fa-IR", viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    return context.new_page()


def test_a_clerk_issues_and_the_citizen_downloads_the_same_signed_file(
        browser: Browser, live_server: str, keyed_app: Flask, tmp_path: Path) -> None:
    code = approved_code(keyed_app)
    desk = new_page(browser)
    desk.goto(f"{live_server}/desk/login")
    desk.get_by_label("نام کاربری").fill("clerk-heritage")
    desk.get_by_label("گذرواژه").fill(PASSWORD)
    desk.get_by_role("button", name="ورود").click()
    expect(desk.locator(".nav-user")).to_be_visible()

    desk.goto(f"{live_server}/desk/requests/{code}")
    delivery = desk.locator("#delivery")
    expect(delivery.locator(".issue-preview")).to_contain_text("سارا محمدی")
    expect(delivery).to_contain_text("هنوز سندی برای این درخواست صادر نشده است.")
    delivery.scroll_into_view_if_needed()
    screenshot(desk, "delivery-desk-issue-form")
    delivery.get_by_role("button", name="صدور و امضای سند").click()
    expect(desk.locator(".flash-success")).to_contain_text("صادر و امضا شد")
    row = desk.locator("#delivery tr.deliverable")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("معتبر")

    citizen = new_page(browser)
    citizen.goto(f"{live_server}/t/{code}")
    delivered = citizen.locator("#delivered")
    expect(delivered).to_contain_text("معتبر")
    expect(delivered.get_by_role("link", name="دریافت پرونده PDF امضاشده")).to_have_count(0)
    applicant = citizen.locator("#applicant")
    applicant.get_by_label("کد ملی").fill(SARA["national_code"])
    applicant.get_by_label("شماره همراه").fill(SARA["mobile"])
    applicant.get_by_role("button", name="نمایش اطلاعات").click()
    link = citizen.locator("#delivered").get_by_role("link", name="دریافت پرونده PDF امضاشده")
    expect(link).to_be_visible()
    screenshot(citizen, "delivery-citizen-tracking-page")
    with citizen.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.endswith(".pdf") and saved.read_bytes().startswith(b"%PDF")

    public_id = link.get_attribute("href").rsplit("/", 1)[-1].removesuffix(".pdf")
    answer = requests.get(f"{live_server}/api/v1/verify/{public_id}", timeout=10).json()
    assert answer["status"] == "valid"
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == answer["sha256"]
