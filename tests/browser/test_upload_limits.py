"""The online form checks the chosen files' sizes in the browser, before anything is sent:
a file over the limit, or files over the total together, are named in Persian and the form
is not submitted."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from counter_server.context import database
from counter_server.models import ServiceRequest
from tests.browser.conftest import confirm_mobile_on_page

pytestmark = pytest.mark.browser
MB = 1024 * 1024


def pdf(name: str, size: int) -> dict[str, object]:
    return {"name": name, "mimeType": "application/pdf",
            "buffer": b"%PDF-1.7\n" + b"0" * (size - 16) + b"\n%%EOF\n"}


def filed(app: Flask) -> int:
    with app.app_context(), database().session() as session:
        return session.scalar(select(func.count()).select_from(ServiceRequest)) or 0


def test_sizes_are_checked_before_upload(page: Page, live_server: str, live_app: Flask,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # Small limits, so that few megabytes cross the page (the form reads them from settings).
    monkeypatch.setitem(live_app.config, "MAX_DOCUMENT_BYTES", 2 * MB)
    monkeypatch.setitem(live_app.config, "MAX_FILING_BYTES", 4 * MB)
    page.goto(f"{live_server}/services/general-correspondence/apply")
    confirm_mobile_on_page(page, live_app, "0499370899", "09121234567")
    expect(page.locator("#documents-limits")).to_contain_text(
        "هر پرونده حداکثر ۲ مگابایت و همه پرونده‌ها روی هم حداکثر ۴ مگابایت")
    files = page.locator("#documents-attachments")
    message = page.locator("#documents-size-error")
    expect(message).to_be_hidden()
    files.set_input_files([pdf("big.pdf", 3 * MB)])
    expect(message).to_contain_text("حجم پرونده «big.pdf» ۳ مگابایت است")
    files.set_input_files([pdf(f"scan-{n}.pdf", int(1.5 * MB)) for n in range(3)])
    expect(message).to_contain_text("روی هم ۵ مگابایت است و بیش از ۴ مگابایت")
    before = filed(live_app)
    page.get_by_role("button", name="ثبت درخواست").click()
    expect(message).to_be_focused()
    assert page.url.endswith("/services/general-correspondence/apply")
    assert filed(live_app) == before
    files.set_input_files([pdf("letter.pdf", MB)])
    expect(message).to_be_hidden()
