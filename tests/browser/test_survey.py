"""The satisfaction survey in Chromium: the SMS link on a phone, one answer, and the
supervisor's report that shows it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import Notification
from tests.browser.conftest import screenshot, staff_login

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
COMMENT = "راهنمایی کارمند روشن و محترمانه بود."


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fa-IR", viewport=PHONE, has_touch=True)
    yield context.new_page()
    context.close()


def _survey_path(app: Flask) -> str:
    """The path of the link in the SMS the demo's completed request sent."""
    with app.app_context(), database().session() as session:
        text = session.scalar(select(Notification.text).where(Notification.event == "survey"))
    link = re.search(r"https?://\S+/s/[A-Za-z0-9_-]+", text)
    assert link, text
    assert text.splitlines()[-1] == link.group(0)  # alone on its line: RTL cannot break it
    return urlparse(link.group(0)).path


def test_the_sms_link_takes_one_answer_and_the_supervisor_sees_it(
    phone: Page, browser: Browser, live_app: Flask, live_server: str
) -> None:
    url = live_server + _survey_path(live_app)
    phone.goto(url)
    expect(phone.get_by_role("heading", name=re.compile("نظر شما دربارهٔ"))).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    stale = phone.context.new_page()  # a second tab, opened before the answer is sent
    stale.goto(url)
    screenshot(phone, "survey-phone-empty")

    phone.get_by_role("radio", name="عالی", exact=True).check()
    conduct = phone.get_by_role("radio", name="۴ ستاره", exact=True)
    conduct.focus()
    phone.keyboard.press("Space")  # radios work from the keyboard
    expect(conduct).to_be_checked()
    phone.get_by_label("توضیح بیشتر (اختیاری)").fill(COMMENT)
    screenshot(phone, "survey-phone-answered")
    phone.get_by_role("button", name="ثبت نظر").click()
    expect(phone.get_by_role("heading", name="سپاس از نظر شما")).to_be_visible()
    screenshot(phone, "survey-phone-thanks")

    stale.get_by_role("radio", name="خیلی بد", exact=True).check()
    stale.get_by_role("radio", name="۱ ستاره", exact=True).check()
    stale.get_by_role("button", name="ثبت نظر").click()
    expect(stale.get_by_role("heading", name="پاسخ شما پیش‌تر ثبت شده است")).to_be_visible()
    expect(stale.get_by_text("هر پیوند یک بار پاسخ می‌گیرد")).to_be_visible()
    screenshot(stale, "survey-phone-second-answer")

    desk = browser.new_context(locale="fa-IR", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    staff_login(page, live_server, "supervisor")
    page.get_by_role("link", name="رضایت شهروندان").click()
    expect(page.get_by_role("heading", name="رضایت شهروندان", exact=True)).to_be_visible()
    expect(page.get_by_text(COMMENT)).to_be_visible()
    figures = page.locator(".report-figures").inner_text()
    assert not re.search(r"[0-9]", figures), figures
    assert page.locator("svg.chart").count() >= 5
    screenshot(page, "satisfaction-report")
    page.get_by_label("امتیاز نظرها").select_option("1")
    page.get_by_role("button", name="نمایش").click()
    expect(page.get_by_text(COMMENT)).to_have_count(0)
    desk.close()
