"""`/v/offline` in Chromium: after one visit it opens with the network gone and checks seals
in the browser — genuine, changed, signed by another key, expired — and its decoder agrees
with `shared/seals.py` on the same texts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from playwright.sync_api import Browser, Page, Request, expect

from counter_server.delivery import keys
from shared import jalali, seals
from shared.seals import OutputKind, SealFacts, SealError, new_document_id, read_seal, seal_text
from shared.text import to_persian_digits
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

BASE = "https://miz.example.ir"
# 12:00 in Tehran on 10 Azar 1405; the page's clock is set to it.
NOW = datetime(2026, 12, 1, 8, 30)
TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def seal_key(live_app: Flask) -> ec.EllipticCurvePrivateKey:
    """The live server's seal key, made if the run has none yet."""
    settings = keys.KeySettings.from_config(live_app.config)
    keys.init_keys(settings, "اداره کل میراث فرهنگی، گردشگری و صنایع‌دستی استان اصفهان")
    return keys.seal_key(settings)


@pytest.fixture
def offline_page(page: Page, live_server: str, seal_key: ec.EllipticCurvePrivateKey
                 ) -> Iterator[Page]:
    """/v/offline visited once online, then opened again with the network gone."""
    page.clock.set_fixed_time(NOW)
    page.goto(f"{live_server}/v/offline")
    expect(page.locator("#offline-ready")).to_be_visible()
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("بررسی مهر سند بدون اینترنت")
    yield page
    page.context.set_offline(False)


def _facts(**changes: Any) -> SealFacts:
    values: dict[str, Any] = {
        "document_id": new_document_id(), "number": "1405-000123", "kind": OutputKind.licence,
        "holder": "زهرا احمدی‌نژاد", "masked_national_code": "001*****78",
        "issued_on": date(2026, 11, 1), "expires_on": date(2028, 10, 31)}
    return SealFacts(**(values | changes))


def _check(page: Page, text: str) -> None:
    page.get_by_label("متن رمزینه سند را اینجا بچسبانید یا با رمزینه‌خوان بخوانید").fill(text)
    page.get_by_role("button", name="بررسی مهر").click()


def _verdict(page: Page) -> str:
    label = page.locator("#verdict-label")
    expect(label).not_to_be_empty()
    return label.inner_text()


def test_a_genuine_seal_is_valid_with_the_network_gone(
        offline_page: Page, seal_key: ec.EllipticCurvePrivateKey) -> None:
    page = offline_page
    facts = _facts()
    asked: list[Request] = []
    page.on("request", lambda request: asked.append(request))
    _check(page, seal_text(facts, seal_key, BASE))
    expect(page.locator("#verdict-label")).to_have_text("معتبر")
    assert asked == [], "checking a seal asks nothing of anyone"
    expect(page.locator("#no-webcrypto")).to_be_hidden()
    expect(page.locator("#verdict-box")).to_have_class("status-box verify-valid")
    expect(page.locator("#fact-kind")).to_have_text("پروانه")
    expect(page.locator("#fact-number")).to_have_text("۱۴۰۵-۰۰۰۱۲۳")
    expect(page.locator("#fact-holder")).to_have_text("زهرا احمدی‌نژاد")
    expect(page.locator("#fact-national-code")).to_have_text("۰۰۱*****۷۸")
    expect(page.locator("#fact-issued")).to_have_text(jalali.format_date(facts.issued_on))
    expect(page.locator("#fact-expires")).to_have_text("۱۰ آبان ۱۴۰۷")
    expect(page.locator("#verdict-detail")).to_contain_text("سند تا ۱۰ آبان ۱۴۰۷ اعتبار دارد")
    note = page.locator("#revocation-note")
    expect(note).to_contain_text("برای دانستن ابطال، آنلاین بررسی کنید")
    expect(note.get_by_role("link")).to_have_attribute("href", f"/v/{facts.document_id}")
    screenshot(page, "verify-offline-valid")


def test_a_seal_with_one_character_changed_is_refused(
        offline_page: Page, seal_key: ec.EllipticCurvePrivateKey) -> None:
    page = offline_page
    text = seal_text(_facts(), seal_key, BASE)
    last = text[-1]
    _check(page, text[:-1] + ("1" if last != "1" else "2"))
    expect(page.locator("#verdict-label")).to_have_text("نامعتبر")
    expect(page.locator("#verdict-box")).to_have_class("status-box verify-refused")
    expect(page.locator("#verdict-detail")).to_have_text(seals.SIGNATURE_INVALID)
    expect(page.locator("#seal-facts")).to_be_hidden()
    screenshot(page, "verify-offline-refused")

    # The document's id is signed too: another id in the address is another seal.
    at = text.index("/v/") + 3
    other = "b" if text[at] != "b" else "c"
    _check(page, text[:at] + other + text[at + 1:])
    expect(page.locator("#verdict-detail")).to_have_text(seals.SIGNATURE_INVALID)

    # A valid seal after a refused one shows its facts again.
    page.locator("#seal-text").fill(text)
    page.locator("#seal-text").press("Enter")  # a QR reader typing like a keyboard
    expect(page.locator("#verdict-label")).to_have_text("معتبر")
    expect(page.locator("#seal-facts")).to_be_visible()


def test_a_seal_signed_by_another_key_is_refused(offline_page: Page) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    _check(offline_page, seal_text(_facts(), stranger, BASE))
    expect(offline_page.locator("#verdict-label")).to_have_text("نامعتبر")
    expect(offline_page.locator("#verdict-detail")).to_have_text(seals.UNKNOWN_KEY)


def test_an_expired_seal_says_expired_from_the_day_after_its_expiry_in_tehran(
        offline_page: Page, seal_key: ec.EllipticCurvePrivateKey) -> None:
    page = offline_page
    _check(page, seal_text(_facts(issued_on=date(2024, 1, 1), expires_on=TODAY - timedelta(1)),
                           seal_key, BASE))
    expect(page.locator("#verdict-label")).to_have_text("منقضی‌شده")
    expect(page.locator("#verdict-box")).to_have_class("status-box verify-expired")
    expect(page.locator("#verdict-detail")).to_contain_text(
        f"مهلت اعتبار سند در {jalali.format_date(TODAY - timedelta(1))} به پایان رسیده است")
    screenshot(page, "verify-offline-expired")

    _check(page, seal_text(_facts(issued_on=date(2024, 1, 1), expires_on=TODAY),
                           seal_key, BASE))
    expect(page.locator("#verdict-label")).to_have_text("معتبر")

    # 00:15 in Tehran is still the day before in UTC: Tehran's day counts, as on the server.
    page.clock.set_fixed_time(datetime(2026, 11, 30, 20, 45))
    _check(page, seal_text(_facts(issued_on=date(2024, 1, 1), expires_on=date(2026, 11, 30)),
                           seal_key, BASE))
    expect(page.locator("#verdict-label")).to_have_text("منقضی‌شده")


def test_a_seal_without_expiry_stays_valid(offline_page: Page,
                                           seal_key: ec.EllipticCurvePrivateKey) -> None:
    _check(offline_page, seal_text(_facts(expires_on=None), seal_key, BASE))
    expect(offline_page.locator("#verdict-label")).to_have_text("معتبر")
    expect(offline_page.locator("#fact-expires")).to_have_text("بدون تاریخ انقضا")


def _python_reading(text: str, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    try:
        facts = read_seal(text, [key.public_key()])
    except SealError as error:
        return {"error": error.code}
    return {"documentId": facts.document_id, "number": facts.number, "kind": facts.kind.value,
            "kindCode": facts.kind.code, "holder": facts.holder,
            "maskedNationalCode": facts.masked_national_code,
            "issuedOn": facts.issued_on.isoformat(),
            "expiresOn": facts.expires_on.isoformat() if facts.expires_on else None}


READ_IN_THE_PAGE = """async ([texts, listed]) => {
  const seals = await import("/static/seals.js");
  const keys = await seals.importKeys(listed);
  return Promise.all(texts.map((text) => seals.readSeal(text, keys).catch(
    (error) => ({ error: error.code }))));
}"""


def test_the_page_reads_seals_as_shared_seals_does(
        page: Page, live_server: str, seal_key: ec.EllipticCurvePrivateKey) -> None:
    page.goto(f"{live_server}/v/offline")
    listed = page.evaluate("JSON.parse(document.getElementById('offline-settings')"
                           ".textContent).keys")
    genuine = [
        seal_text(_facts(), seal_key, BASE),
        seal_text(_facts(kind=OutputKind.card, number="A", holder="پ", expires_on=None,
                         masked_national_code="000*****00", issued_on=date(1970, 1, 1)),
                  seal_key, BASE + "/"),
        seal_text(_facts(kind=OutputKind.letter, holder="Zahra Ahmadi ❀",
                         masked_national_code="999*****99"), seal_key, "http://127.0.0.1:5000"),
        seal_text(_facts(kind=OutputKind.certificate, number="X" * seals.MAX_NUMBER,
                         holder="ئ" * seals.MAX_HOLDER, issued_on=date(2149, 6, 1),
                         expires_on=date(2149, 6, 6)), seal_key, "http://a"),
        "\ufeff" + seal_text(_facts(), seal_key, BASE),
        "  " + seal_text(_facts(holder="سیدمحمّد عبدالله‌زاده"), seal_key, BASE) + "\n",
    ]
    text = genuine[0]
    digits = text.split("#")[1]
    stranger = ec.generate_private_key(ec.SECP256R1())
    broken = [
        text[:-1] + ("0" if text[-1] != "0" else "1"),
        text.replace("#", "#0"),
        text.split("#")[0] + "#" + digits[:40],
        text.replace("/v/", "/x/"),
        text.replace("https://miz.example.ir", "https://miz.example.ir/other"),
        text.split("#")[0] + "#" + str(int(digits) + 1),
        text.split("#")[0] + "#" + "9" * 200,
        seal_text(_facts(), stranger, BASE),
        "",
        "not a seal",
    ]
    texts = genuine + broken
    in_page = page.evaluate(READ_IN_THE_PAGE, [texts, listed])
    assert in_page == [_python_reading(t, seal_key) for t in texts]
    assert all("error" not in reading for reading in in_page[:len(genuine)])
    assert {r.get("error") for r in in_page[len(genuine):]} >= {
        "seal_malformed", "seal_unknown_key", "seal_signature_invalid"}


def test_the_page_shows_dates_as_shared_jalali_does(page: Page, live_server: str,
                                                    seal_key: ec.EllipticCurvePrivateKey
                                                    ) -> None:
    """Every day a seal can carry (two bytes of days from 1970) reads the same Jalali date."""
    page.goto(f"{live_server}/v/offline")
    days = [date(1970, 1, 1) + timedelta(days=n) for n in range(0, 65536)]
    in_page = page.evaluate("""async ([isoDates, months]) => {
      const persian = await import("/static/persian.js");
      return isoDates.map((day) => persian.formatDate(day, months));
    }""", [[d.isoformat() for d in days], list(jalali.MONTHS)])
    assert in_page == [jalali.format_date(d) for d in days]
    assert page.evaluate("""async () => (await import("/static/persian.js"))
      .persianDigits("1405-000123")""") == to_persian_digits("1405-000123")


FAKE_CAMERA = """
(() => {
  window.BarcodeDetector = class {
    static async getSupportedFormats() { return ["qr_code", "ean_13"]; }
    async detect() { return [{ rawValue: window.__sealOnCamera || "" }]; }
  };
  navigator.mediaDevices.getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.getContext("2d").fillRect(0, 0, 10, 10);
    return canvas.captureStream();
  };
})();
"""


def test_the_camera_is_offered_only_where_the_browser_reads_qr_codes(
        page: Page, live_server: str, seal_key: ec.EllipticCurvePrivateKey) -> None:
    page.goto(f"{live_server}/v/offline")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("'BarcodeDetector' in window") is False
    expect(page.get_by_role("button", name="خواندن رمزینه با دوربین")).to_be_hidden()

    page.add_init_script(FAKE_CAMERA)
    page.reload()
    start = page.get_by_role("button", name="خواندن رمزینه با دوربین")
    expect(start).to_be_visible()
    start.click()
    expect(page.locator("#camera")).to_be_visible()
    expect(page.get_by_role("button", name="بستن دوربین")).to_be_visible()
    text = seal_text(_facts(), seal_key, BASE)
    page.evaluate("text => { window.__sealOnCamera = text; }", text)
    expect(page.locator("#verdict-label")).to_have_text("معتبر")
    expect(page.locator("#seal-text")).to_have_value(text)
    expect(page.locator("#camera")).to_be_hidden()


def test_without_webcrypto_the_page_says_to_open_it_over_https(
        page: Page, live_server: str, seal_key: ec.EllipticCurvePrivateKey) -> None:
    """Browsers give WebCrypto only to secure pages: over plain http the page says so."""
    page.add_init_script(
        "Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined });")
    page.goto(f"{live_server}/v/offline")
    expect(page.locator("#no-webcrypto")).to_be_visible()
    expect(page.locator("#no-webcrypto")).to_contain_text("نشانی امن")
    _check(page, seal_text(_facts(), seal_key, BASE))
    expect(page.locator("#verdict")).to_be_hidden()
    expect(page).to_have_url(f"{live_server}/v/offline")


def test_on_a_phone_the_page_fits_its_width(browser: Browser, live_server: str,
                                            seal_key: ec.EllipticCurvePrivateKey) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True,
                                  locale="fa-IR")
    page = context.new_page()
    page.goto(f"{live_server}/v/offline")
    _check(page, seal_text(_facts(), seal_key, BASE))
    expect(page.locator("#verdict-label")).to_have_text("معتبر")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, "verify-offline-phone")
    context.close()
