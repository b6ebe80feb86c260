"""The online desk in a real browser: Persian content, right-to-left, in Vazirmatn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from shared.catalog.schema import Catalog
from shared.text import format_rials
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_service_page_in_chromium(page: Page, live_server: str, demo_catalog: Catalog) -> None:
    service = next(s for s in demo_catalog.services if not s.fees.free)
    page.goto(f"{live_server}/services/{service.slug}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(service.title)
    for heading in ("مراحل انجام کار", "مدارک لازم", "هزینه‌ها", "مدت زمان انجام",
                    "قوانین و مقررات", "پرسش‌های متداول", "شکایت و پیگیری", "مسئول ارائه خدمت"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.locator("ol.steps > li")).to_have_count(len(service.steps))
    expect(page.locator("table.fees")).to_contain_text(format_rials(service.fees.items[0].amount_rials))

    question = service.faq[0]
    page.get_by_text(question.question, exact=True).click()
    expect(page.get_by_text(question.answer, exact=True)).to_be_visible()

    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px Vazirmatn', 'سلام')")
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"Vazirmatn"') or family.startswith("Vazirmatn")
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    screenshot(page, "service-page")


def test_home_search_by_keyboard(page: Page, live_server: str) -> None:
    page.goto(live_server)
    expect(page.get_by_role("heading", level=1)).to_contain_text("خدمات")
    screenshot(page, "home-page")
    page.get_by_label("جست‌وجوی خدمت").fill("راهنماي گردشگري")  # Arabic ye on purpose
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    results = page.locator("ul.service-list > li")
    expect(results.first).to_be_visible()
    expect(results.first).to_contain_text("راهنمای گردشگری")
    screenshot(page, "search-results")


def test_phone_width_has_no_horizontal_scroll(browser, live_server: str,  # type: ignore[no-untyped-def]
                                              demo_catalog: Catalog) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    page = context.new_page()
    service = demo_catalog.services[0]
    page.goto(f"{live_server}/services/{service.slug}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "service-page-phone")
    context.close()
