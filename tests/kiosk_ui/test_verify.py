"""Delivered documents at the kiosk: a seal QR, read by the serial scanner, is checked on the
kiosk with the key pinned at the sync, with the server gone (a genuine seal shows valid with
the document's facts, a seal with one digit changed is refused); a tracked request lists its
delivered documents and prints the delivery slip after the national code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import ImageOps

from kiosk.app import harness
from shared.receipts import paper_for
from shared.seals import read_seal
from tests.kiosk.live import APPLICANT
from tests.kiosk.test_seal_check import changed
from tests.kiosk_ui.test_track import file_and_deliver, read_receipt_qr
from tests.shared.escpos_decode import decode

SHOTS = Path(os.environ.get("MIZ_SHOTS", Path(__file__).resolve().parents[2] / "var" / "shots"))


def test_the_verify_screen_accepts_a_genuine_seal_and_refuses_a_changed_one(
        ui: Any, server: Any, demo_catalog: Any) -> None:
    code, _ = file_and_deliver(ui, demo_catalog)
    _, seal = server.deliver(code)
    assert ui.sync().ok  # pins the seal key
    facts = read_seal(seal, [server.seal_public_key()])
    server.stop()  # from here on the kiosk has only its store
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        harness.screenshot(SHOTS / "home-with-verify.png")
        ui.tap("استعلام اصالت مدرک")
        assert ui.current == "verify" and ui.shows("QR روی مدرک را جلوی اسکنر بگیرید.")
        ui.scan_qr(seal)
        ui.wait_for(lambda: ui.state.verdict is not None, what="the seal's verdict")
        ui.settle()
        assert ui.state.verdict.outcome == "valid"
        assert ui.screen().headline == "این سند معتبر است." and ui.screen().kind == "ok"
        assert ui.shows(f"دارنده: {APPLICANT['name']}") and ui.shows("نوع سند: کارت")
        assert facts.holder == APPLICANT["name"]
        harness.screenshot(SHOTS / "verify-valid.png")
        ui.scan_qr(changed(seal))
        ui.wait_for(lambda: ui.state.verdict.outcome == "refused", what="the refusal")
        ui.settle()
        assert ui.screen().headline == "این مهر پذیرفته نیست." and ui.screen().kind == "error"
        assert ui.shows("چیزی در آن تغییر کرده است")
        assert not ui.shows("دارنده:")
        harness.screenshot(SHOTS / "verify-refused.png")
        ui.tap("صفحهٔ اصلی")
        assert ui.current == "home" and ui.state.verdict is None
    finally:
        server.start()


def test_a_delivered_document_is_listed_and_its_slip_printed_after_the_national_code(
        ui: Any, server: Any, demo_catalog: Any) -> None:
    code, receipt = file_and_deliver(ui, demo_catalog)
    _, seal = server.deliver(code)
    ui.scan_qr(read_receipt_qr(receipt))
    ui.wait_screen("track_result")
    assert ui.shows("اسناد تحویل‌شده") and ui.shows("کارت راهنمای گردشگری — صادرشده ")
    SHOTS.mkdir(parents=True, exist_ok=True)
    harness.screenshot(SHOTS / "track-delivered.png")
    ui.tap("دریافت برگهٔ تحویل")
    assert ui.current == "hand_over"
    ui.type_keys("0012345679")
    ui.tap("چاپ برگهٔ تحویل")
    assert ui.state.hand_error == "کد ملی با اطلاعات این درخواست یکسان نیست."
    assert not ui.printed()
    ui.type_keys("\b" * 10 + APPLICANT["national_code"])
    ui.tap("چاپ برگهٔ تحویل")
    ui.wait_for(lambda: ui.state.handed is not None, what="the slip")
    ui.settle()
    assert ui.shows("برگهٔ تحویل «کارت راهنمای گردشگری» چاپ شد")
    assert ui.state.holder_code == ""
    harness.screenshot(SHOTS / "hand-over-printed.png")
    printout = decode(ui.printed(), paper_for(80).dots)
    assert [qr.text for qr in printout.qr_codes] == [seal]
    found = zxingcpp.read_barcodes(ImageOps.expand(printout.image.convert("L"), border=32,
                                                   fill=255))
    assert [r.text for r in found] == [seal]
