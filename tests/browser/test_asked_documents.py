"""In a real browser: a clerk asks for two named documents and the citizen's page lists
exactly those and takes only those; a clerk attaches a document scanned at the counter and
the request goes back to review."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from counter_server.demo import PASSWORD
from shared.catalog.schema import Catalog
from tests.browser.conftest import file_online_api, screenshot
from tests.browser.test_request_journey import _staff_act, _staff_page
from tests.server.test_requests_api import APPLICANT, body

pytestmark = pytest.mark.browser
SERVICE = "tour-guide-card"
COURSE, PHOTO = "course_certificate", "personal_photo"
ASK = "درخواست مدرک یا اصلاح از متقاضی"


def _scan(path: Path, kind: str) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), "ivory").save(buffer, kind)
    path.write_bytes(buffer.getvalue())
    return path


def _file(page: Page, live_app: Flask, live_server: str, demo_catalog: Catalog) -> str:
    """A tour-guide-card request filed online through the API; its tracking code."""
    return file_online_api(page, live_app, live_server, body(demo_catalog))


def _clerk_on(browser: Browser, live_server: str, code: str) -> Page:
    staff = _staff_page(browser)
    staff.goto(f"{live_server}/desk/login")
    staff.get_by_label("نام کاربری").fill("clerk-tourism")
    staff.get_by_label("گذرواژه").fill(PASSWORD)
    staff.get_by_role("button", name="ورود").click()
    expect(staff.get_by_role("heading", name="کارتابل درخواست‌ها")).to_be_visible()
    staff.goto(f"{live_server}/desk/requests/{code}")
    _staff_act(staff, "برداشتن درخواست برای رسیدگی")
    return staff


def _ask_for(staff: Page, slots: list[str], note: str, shot: str | None = None) -> None:
    details = staff.locator("details.action", has=staff.locator("summary", has_text=ASK))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for slot in slots:
        details.locator(f"#ask-{slot}").check()
    details.locator("textarea[name=public_note]").fill(note)
    if shot:
        screenshot(staff, shot)
    details.get_by_role("button", name=ASK).click()
    expect(staff.locator(".flash-success")).to_contain_text(ASK)


def _prove(page: Page) -> None:
    page.locator("#v-national").fill(APPLICANT["national_code"])
    page.locator("#v-mobile").fill(APPLICANT["mobile"])
    page.get_by_role("button", name="نمایش اطلاعات").click()
    expect(page.get_by_text(APPLICANT["name"])).to_be_visible()


def test_the_citizen_is_asked_for_exactly_the_documents_the_clerk_chose(
        page: Page, browser: Browser, live_app: Flask, live_server: str,
        demo_catalog: Catalog, tmp_path: Path) -> None:
    names = {d.id: d.name for d in demo_catalog.service(SERVICE).documents}
    code = _file(page, live_app, live_server, demo_catalog)
    staff = _clerk_on(browser, live_server, code)
    _ask_for(staff, [COURSE, PHOTO], "تصویرها باید رنگی و خوانا باشند.", shot="desk-ask-documents")
    expect(staff.locator("ol.history")).to_contain_text(
        f"مدارک خواسته‌شده: «{names[COURSE]}»، «{names[PHOTO]}»")

    page.goto(f"{live_server}/t/{code}")
    expect(page.locator(".citizen-action ul.asked-documents > li")).to_have_text(
        [names[COURSE], names[PHOTO]])
    expect(page.locator(".citizen-action")).to_contain_text("تصویرها باید رنگی و خوانا باشند.")
    _prove(page)
    form = page.locator("form.request-form", has=page.get_by_role("button", name="فرستادن مدارک"))
    inputs = form.locator("input[type=file]")
    expect(inputs).to_have_count(2)
    assert [inputs.nth(i).get_attribute("name") for i in range(2)] == [
        f"documents.{COURSE}", f"documents.{PHOTO}"]
    expect(form.locator("label[for^=up-]")).to_have_text([names[COURSE], names[PHOTO]])
    screenshot(page, "tracking-waiting-for-documents")

    form.locator(f"#up-{COURSE}").set_input_files(str(_scan(tmp_path / "course.png", "PNG")))
    form.locator(f"#up-{PHOTO}").set_input_files(str(_scan(tmp_path / "photo.jpg", "JPEG")))
    form.get_by_role("button", name="فرستادن مدارک").click()
    expect(page.locator(".flash-success")).to_contain_text("مدارک شما رسید")
    expect(page.locator(".status-label")).to_contain_text("در حال بررسی")
    expect(page.locator(".citizen-action")).to_have_count(0)
    staff.context.close()


def test_a_clerk_attaches_a_document_scanned_at_the_counter_and_moves_on(
        page: Page, browser: Browser, live_app: Flask, live_server: str,
        demo_catalog: Catalog, tmp_path: Path) -> None:
    code = _file(page, live_app, live_server, demo_catalog)
    staff = _clerk_on(browser, live_server, code)
    _ask_for(staff, [COURSE], "")

    attach = staff.locator("details.counter-attach")
    expect(attach).to_have_attribute("open", "")
    expect(attach.locator("input[type=file]")).to_have_count(1)
    attach.locator(f"#attach-{COURSE}").set_input_files(
        str(_scan(tmp_path / "scan-0001.png", "PNG")))
    expect(attach.locator("#attach-move-on")).to_be_checked()
    screenshot(staff, "desk-attach-at-counter")
    attach.get_by_role("button", name="پیوست مدرک").click()
    expect(staff.locator(".flash-success")).to_contain_text(
        "مدرک پیوست شد و درخواست به بررسی برگشت.")
    expect(staff.get_by_role("link", name="scan-0001.png")).to_be_visible()
    expect(staff.locator("dl.facts")).to_contain_text("در حال بررسی")
    expect(staff.locator("ol.history")).to_contain_text("ارسال مدارک خواسته‌شده (مریم کاظمی)")

    page.goto(f"{live_server}/t/{code}")
    expect(page.locator(".status-label")).to_contain_text("در حال بررسی")
    staff.context.close()
