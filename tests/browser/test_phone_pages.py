"""What a citizen sees on a phone (390×844): error order, whole codes and URLs, kept input,
Persian file pickers, and the search box that understands tracking codes."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import Browser, FileChooser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import ServiceRequest
from shared.catalog.schema import Catalog
from shared.tracking_codes import format_code
from tests.browser.conftest import confirm_mobile_on_page

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
APPLY = "/services/tour-guide-card/apply"

# Lines a text node is laid out on, and the left edge of a slice of it.
LINES = """el => {
  const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
LEFT_OF = """(el, [start, end]) => {
  const range = document.createRange(); const text = el.firstChild;
  range.setStart(text, start); range.setEnd(text, end);
  return range.getBoundingClientRect().left; }"""
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fa-IR", viewport=PHONE, has_touch=True)
    yield context.new_page()
    context.close()


def _code(app: Flask, slug: str) -> str:
    """The tracking code of the demo request for `slug`."""
    with app.app_context(), database().session() as session:
        return session.scalar(select(ServiceRequest.tracking_code)
                              .where(ServiceRequest.service_slug == slug))


def _png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_apply_errors_are_listed_in_page_order(phone: Page, live_server: str,
                                               live_app: Flask) -> None:
    phone.goto(live_server + APPLY)
    phone.get_by_role("button", name="ارسال کد تأیید").click()
    expect(phone.locator("#error-summary")).to_contain_text("لطفاً کد ملی را وارد کنید.")
    confirm_mobile_on_page(phone, live_app, "0499370899", "09121234567")
    phone.get_by_role("button", name="ثبت درخواست").click()
    summary = phone.locator("#error-summary a")
    expect(summary.first).to_have_text("لطفاً «نام و نام خانوادگی» را وارد کنید.")
    listed = [href.lstrip("#") for href in summary.evaluate_all("a => a.map(x => x.getAttribute('href'))")]
    on_page = phone.evaluate("ids => ids.slice().sort((a, b) => document.getElementById(a)"
                             ".compareDocumentPosition(document.getElementById(b)) & 2 ? 1 : -1)",
                             listed)
    assert listed == on_page
    assert listed[0] == "applicant-name"  # the national code and mobile are confirmed
    assert listed[-1].startswith("documents-") and not any(
        key.startswith("documents-") for key in listed[:-7])


def test_receipt_keeps_the_url_and_code_whole_and_left_to_right(
        phone: Page, live_server: str, live_app: Flask) -> None:
    code = _code(live_app, "tour-guide-card")
    phone.goto(f"{live_server}/t/{code}/receipt")
    url = phone.locator(".receipt-help bdi")
    expect(url).to_have_text("https://miz.chht-isfahan.example/t")
    assert url.evaluate(LINES) == 1, "the URL is broken over two lines"
    shown = phone.locator(".tracking-code bdi")
    expect(shown).to_have_text(format_code(code, persian=True))
    groups = [shown.evaluate(LEFT_OF, [i * 5, i * 5 + 4]) for i in range(4)]
    assert groups == sorted(groups), "the code's groups are not left to right"
    box, receipt = shown.bounding_box(), phone.locator(".receipt").bounding_box()
    assert box and receipt and receipt["x"] <= box["x"]
    assert box["x"] + box["width"] <= receipt["x"] + receipt["width"]
    assert phone.evaluate(OVERFLOW) <= 0


def test_failed_applicant_check_keeps_what_was_typed(phone: Page, live_server: str,
                                                     live_app: Flask) -> None:
    phone.goto(f"{live_server}/t/{_code(live_app, 'heritage-filming-permit')}")
    phone.locator("#v-national").fill("۱۲۹۰۲۱۱۳۸۸")
    phone.locator("#v-mobile").fill("09123456781")
    phone.get_by_role("button", name="نمایش اطلاعات").click()
    expect(phone.locator("#v-error")).to_contain_text("یکسان نیست")
    expect(phone.locator("#v-national")).to_have_value("۱۲۹۰۲۱۱۳۸۸")
    expect(phone.locator("#v-mobile")).to_have_value("09123456781")
    expect(phone.locator("#v-mobile")).to_be_in_viewport()
    phone.locator("#v-mobile").fill("09123456780")
    phone.get_by_role("button", name="نمایش اطلاعات").click()
    expect(phone.get_by_text("امیر حسینی")).to_be_visible()


def test_file_inputs_are_persian_and_work_from_the_keyboard(
        phone: Page, live_server: str, live_app: Flask, demo_catalog: Catalog,
        tmp_path: Path) -> None:
    spec = demo_catalog.service("tour-guide-card")
    assert spec is not None
    first, second = spec.documents[0], spec.documents[1]
    phone.goto(live_server + APPLY)
    confirm_mobile_on_page(phone, live_app, "0499370899", "09121234567")
    picker = phone.locator(".file-picker", has=phone.locator(f"#documents-{first.id}"))
    expect(picker.locator(".file-button")).to_have_text("انتخاب فایل")
    expect(picker.locator(".file-name")).to_have_text("فایلی انتخاب نشده")
    native = phone.locator(f"#documents-{first.id}")
    size = native.bounding_box()
    assert size and size["width"] <= 1 and size["height"] <= 1
    expect(native).to_have_accessible_name(re.compile(re.escape(first.name)))

    phone.locator(f"#documents-{first.id}").focus()
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == f"documents-{second.id}"
    button = phone.locator(".file-picker", has=phone.locator(f"#documents-{second.id}")
                           ).locator(".file-button")
    assert button.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    chooser = _open_chooser_with_space(phone)
    chooser.set_files(str(_png(tmp_path / "گواهی-دوره.png")))
    expect(phone.locator(f"#documents-{second.id}-chosen")).to_have_text("گواهی-دوره.png")
    assert phone.evaluate(OVERFLOW) <= 0


def _open_chooser_with_space(phone: Page) -> FileChooser:
    """Press Space on the focused file input until Chromium shows its chooser.

    A loaded machine sometimes drops the first keyboard activation (the chooser then never
    opens); the keyboard still has to open it, so the press is repeated, not replaced.
    """
    for _attempt in range(3):
        try:
            with phone.expect_file_chooser(timeout=10_000) as chooser:
                phone.keyboard.press("Space")
            return chooser.value
        except PlaywrightTimeoutError:
            continue
    raise AssertionError("Space on the focused file input never opened the file chooser")


def test_missing_document_form_has_the_persian_picker(phone: Page, live_server: str,
                                                      live_app: Flask) -> None:
    phone.goto(f"{live_server}/t/{_code(live_app, 'tourism-trust-symbol')}")
    phone.locator("#v-national").fill("0067749828")
    phone.locator("#v-mobile").fill("09351234567")
    phone.get_by_role("button", name="نمایش اطلاعات").click()
    pickers = phone.locator("form[action$='/documents'] .file-picker")
    expect(pickers.first.locator(".file-button")).to_have_text("انتخاب فایل")
    expect(pickers.first.locator(".file-name")).to_have_text("فایلی انتخاب نشده")


def test_search_without_results_says_so_once(phone: Page, live_server: str) -> None:
    phone.goto(f"{live_server}/search?q=نهنگ")
    expect(phone.get_by_role("status")).to_have_count(1)
    expect(phone.get_by_role("status")).to_contain_text("خدمتی با عبارت «نهنگ» پیدا نشد")
    expect(phone.get_by_text("پیدا شد")).to_have_count(0)


def test_tracking_code_in_the_search_box_opens_the_request(phone: Page, live_server: str,
                                                            live_app: Flask) -> None:
    code = _code(live_app, "tour-guide-card")
    phone.goto(live_server)
    box = phone.get_by_role("searchbox")
    box.fill(format_code(code, persian=True))  # as printed on the receipt, with spaces
    assert box.evaluate("q => getComputedStyle(q).direction") == "ltr"
    box.press("Enter")
    expect(phone).to_have_url(f"{live_server}/t/{code}")
    expect(phone.locator(".status-label")).to_contain_text("ثبت‌شده")

    mistyped = code[:-1] + str((int(code[-1]) + 1) % 10)
    phone.goto(live_server)
    box.fill(f"{mistyped[:8]}-{mistyped[8:]}")
    box.press("Enter")
    expect(phone.locator(".code-typo")).to_contain_text("شبیه کد رهگیری است")
    phone.get_by_role("link", name="درست کردن کد و پیگیری درخواست").click()
    expect(phone.locator("#code")).to_have_value(f"{mistyped[:8]}-{mistyped[8:]}")
    expect(phone.locator("#code-error")).to_contain_text("نادرست")


def test_without_scripts_the_native_file_input_shows(browser: Browser, live_server: str,
                                                     live_app: Flask) -> None:
    """The Persian picker needs file-picker.js to name the chosen file; without scripts the
    browser's own control is shown rather than a label that never changes. (Confirming the
    mobile needs no script either.)"""
    context = browser.new_context(locale="fa-IR", viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + APPLY)
    confirm_mobile_on_page(page, live_app, "0499370899", "09121234567")
    native = page.locator("input[type=file]").first
    size = native.bounding_box()
    assert size and size["width"] > 100
    expect(page.locator(".file-button").first).to_be_hidden()
    expect(page.locator(".file-name").first).to_be_hidden()
    context.close()
