"""The supervisors' reports in Chromium: the home, the queue's heat map, requests against
their promises and satisfaction, right to left with Persian digits (screenshots under
var/screenshots/reports-*.png)."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import User
from tests.browser.conftest import screenshot, staff_login
from tests.server.test_reports import RANGE, seed_lobby, seed_requests

pytestmark = pytest.mark.browser


def test_a_supervisor_reads_every_report(page: Page, live_app: Flask, live_server: str) -> None:
    with live_app.app_context(), database().transaction() as session:
        ids = dict(session.execute(select(User.username, User.id)).all())
        seed_lobby(session, ids["clerk-tourism"], ids["clerk-heritage"], ids["reception"],
                   first_counter=91)
        seed_requests(session, ids["clerk-tourism"], ids["clerk-heritage"])
    staff_login(page, live_server, "supervisor")
    page.get_by_role("link", name="گزارش‌ها").click()
    expect(page.get_by_role("heading", name="گزارش‌ها", exact=True)).to_be_visible()
    assert page.locator("html").get_attribute("dir") == "rtl"
    screenshot(page, "reports-home")

    page.goto(f"{live_server}/desk/reports/queue?{RANGE}")
    heat = page.get_by_role("img", name="نوبت‌ها به تفکیک روز هفته و ساعت")
    expect(heat).to_be_visible()
    expect(heat.locator("text", has_text="شنبه").first).to_be_visible()
    expect(page.get_by_text("۱۵ دقیقه").first).to_be_visible()  # the median wait
    expect(page.get_by_role("cell", name="ب-۰۰۳")).to_be_visible()  # the longest wait
    screenshot(page, "reports-queue")

    page.goto(f"{live_server}/desk/reports/requests?{RANGE}")
    expect(page.get_by_role("cell", name="مدارک ناقص است")).to_be_visible()
    expect(page.get_by_role("cell", name="۲۰ روز کاری")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="دریافت اکسل (XLSX)").first.click()
    assert download.value.suggested_filename == "requests-channel.xlsx"
    screenshot(page, "reports-requests")

    page.goto(f"{live_server}/desk/reports/satisfaction")
    expect(page.get_by_role("heading", name="رضایت شهروندان")).to_be_visible()
    screenshot(page, "reports-satisfaction")
