"""Verifying a delivered document at the kiosk: its seal QR, read by the serial scanner,
is checked on the kiosk with the key pinned at the sync, with the server gone; a genuine seal
shows valid with the document's facts, a seal with one digit changed is refused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kiosk.app import harness
from shared.seals import read_seal
from tests.kiosk.live import APPLICANT
from tests.kiosk.test_seal_check import changed
from tests.kiosk_ui.test_track import file_and_deliver

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
