"""The whole path of a request in a real browser: apply online with a document, follow it,
staff ask for a missing document, the applicant sends it, staff approve and complete."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from counter_server.demo import PASSWORD
from shared.catalog.schema import Catalog
from tests.browser.conftest import confirm_mobile_on_page, screenshot

pytestmark = pytest.mark.browser
SERVICE = "general-correspondence"


def _scan(path: Path, colour: str) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), colour).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _staff_page(browser: Browser) -> Page:
    return browser.new_context(locale="fa-IR", viewport={"width": 1280, "height": 900}).new_page()


def _staff_act(page: Page, summary: str, note: str | None = None) -> None:
    details = page.locator("details.action", has=page.locator("summary", has_text=summary))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = details.locator("form")
    if note is not None:
        form.locator("textarea[name=public_note]").fill(note)
    form.get_by_role("button", name=summary).click()
    expect(page.locator(".flash-success")).to_contain_text(summary)


def test_request_from_application_to_delivery(page: Page, browser: Browser, live_server: str,
                                              live_app: Flask, demo_catalog: Catalog,
                                              tmp_path: Path) -> None:
    spec = demo_catalog.service(SERVICE)
    assert spec is not None

    # The citizen applies online, with a document.
    page.goto(f"{live_server}/services/{SERVICE}")
    page.get_by_role("link", name="ثبت درخواست آنلاین").click()
    screenshot(page, "apply-mobile")
    confirm_mobile_on_page(page, live_app, "۰۴۹۹۳۷۰۸۹۹", "۰۹۱۲۱۲۳۴۵۶۷", shot="apply-code")
    expect(page.get_by_label("کد ملی").first).to_have_value("0499370899")
    page.get_by_label("نام و نام خانوادگی").fill("زهرا احمدی")
    for field in spec.form:
        locator = page.locator(f"[name='fields.{field.name}']")
        if field.type.value == "select":
            locator.select_option(field.options[0].value)
        elif field.type.value == "multiselect":
            locator.first.check()
        elif field.type.value == "checkbox":
            locator.check()
        elif field.type.value in ("text", "textarea"):
            locator.fill("درخواست رونوشت پرونده ثبت اثر")
        elif field.type.value == "email":
            locator.fill("zahra@example.ir")
        elif field.type.value == "date":
            locator.fill("۱۴۰۵/۰۹/۰۱")
        elif field.type.value == "number":
            locator.fill(str(int(field.min or 1)))
        elif field.type.value == "postal_code":
            locator.fill("8174673111")
        elif field.type.value in ("national_code", "mobile"):
            locator.fill("0499370899" if field.type.value == "national_code" else "09121234567")
    first_slot = spec.documents[0]
    page.locator(f"input[name='documents.{first_slot.id}']").set_input_files(
        str(_scan(tmp_path / "letter.png", "white")))
    screenshot(page, "apply-form")
    page.get_by_role("button", name="ثبت درخواست").click()
    expect(page.locator(".notice")).to_contain_text("درخواست شما ثبت شد")
    code_text = page.locator(".tracking-code").inner_text()
    code = re.sub(r"\D", "", code_text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
    assert len(code) == 16
    expect(page.locator("img.qr")).to_be_visible()
    screenshot(page, "receipt")

    # Anyone with the code sees the progress.
    page.goto(f"{live_server}/t/{code}")
    expect(page.locator(".status-label")).to_contain_text("ثبت‌شده")
    expect(page.get_by_text("زهرا احمدی")).to_have_count(0)

    # Staff claim it and ask for a corrected document.
    staff = _staff_page(browser)
    staff.goto(f"{live_server}/desk/login")
    staff.get_by_label("نام کاربری").fill("clerk-heritage")
    staff.get_by_label("گذرواژه").fill(PASSWORD)
    staff.get_by_role("button", name="ورود").click()
    expect(staff.get_by_role("heading", name="کارتابل درخواست‌ها")).to_be_visible()
    screenshot(staff, "desk-inbox")
    staff.goto(f"{live_server}/desk/requests/{code}")
    expect(staff.get_by_text("زهرا احمدی")).to_be_visible()
    _staff_act(staff, "برداشتن درخواست برای رسیدگی")
    _staff_act(staff, "درخواست مدرک یا اصلاح از متقاضی", "نامه امضا ندارد؛ نسخه امضاشده را بفرستید.")
    screenshot(staff, "desk-request")

    # The applicant proves who they are and sends the document.
    page.goto(f"{live_server}/t/{code}")
    expect(page.locator(".citizen-action")).to_contain_text("نامه امضا ندارد")
    page.locator("#v-national").fill("0499370899")
    page.locator("#v-mobile").fill("09121234567")
    page.get_by_role("button", name="نمایش اطلاعات").click()
    expect(page.get_by_text("زهرا احمدی")).to_be_visible()
    page.locator(f"#up-{first_slot.id}").set_input_files(str(_scan(tmp_path / "signed.png", "ivory")))
    page.get_by_role("button", name="فرستادن مدارک").click()
    expect(page.locator(".flash-success")).to_contain_text("مدارک شما رسید")
    expect(page.locator(".status-label")).to_contain_text("در حال بررسی")

    # Staff see the new document, approve and complete.
    staff.goto(f"{live_server}/desk/requests/{code}")
    expect(staff.get_by_role("link", name="signed.png")).to_be_visible()
    _staff_act(staff, "تأیید درخواست", "نامه شما پذیرفته شد.")
    _staff_act(staff, "انجام و تحویل خدمت", "پاسخ به رایانامه شما فرستاده شد.")

    # The tracking page shows every step done.
    page.goto(f"{live_server}/t/{code}")
    expect(page.locator(".status-label")).to_contain_text("انجام‌شده و تحویل‌شده")
    steps = page.locator("ol.timeline > li")
    expect(steps).to_have_count(len(spec.steps))
    for index in range(len(spec.steps)):
        expect(steps.nth(index)).to_have_class(re.compile(r"state-done"))
        expect(steps.nth(index)).to_contain_text("انجام شد")
    expect(page.locator("ul.history")).to_contain_text("ارسال مدارک خواسته‌شده")
    screenshot(page, "tracking-completed")
    staff.context.close()
