"""Tracking: the receipt's QR, read by the serial scanner, opens the request's status and
steps from the server; or the code typed on the keypad."""

from __future__ import annotations

from typing import Any

import zxingcpp

from shared import tracking_codes
from shared.receipts import paper_for
from tests.kiosk.live import APPLICANT, SERVICE, form_for, scan
from tests.shared.escpos_decode import decode


def file_and_deliver(ui: Any, catalog: Any) -> tuple[str, bytes]:
    """A request filed at this kiosk and synced to the server; (code, receipt bytes)."""
    filed = ui.kiosk.file_request(SERVICE, APPLICANT, form_for(catalog),
                                  {d.id: [scan(d.id)] for d in
                                   catalog.service(SERVICE).documents if d.mandatory})
    receipt = ui.printed()
    ui.printer_device.clear()
    assert ui.sync().ok
    return filed.tracking_code, receipt


def read_receipt_qr(receipt: bytes) -> str:
    """What a QR reader reads off the printed receipt."""
    printout = decode(receipt, paper_for(80).dots)
    found = zxingcpp.read_barcodes(printout.image.convert("L"))
    assert found, "no QR on the receipt"
    return str(found[0].text)


def test_track_by_scanning_the_receipt_qr(ui: Any, demo_catalog: Any) -> None:
    code, receipt = file_and_deliver(ui, demo_catalog)
    url = read_receipt_qr(receipt)
    assert url.endswith(f"/t/{code}")
    assert ui.current == "home"
    ui.scan_qr(url)
    ui.wait_screen("track_result")
    tracked = ui.state.tracked
    assert tracked.live and tracked.tracking_code == code
    assert ui.screen().status_label == "ثبت‌شده، در انتظار بررسی"
    assert ui.shows("مراحل انجام کار")
    service = demo_catalog.service(SERVICE)
    assert ui.shows(service.steps[0].title) and ui.shows(service.steps[-1].title)
    assert ui.shows("استعلام‌ها") and ui.shows("استعلام از شاهکار: در انتظار پاسخ")
    assert ui.shows(tracking_codes.format_code(code, persian=True))
    ui.tap("صفحهٔ اصلی")
    assert ui.current == "home" and ui.state.tracked is None


def test_a_scan_in_the_middle_of_a_form_changes_nothing(ui: Any, demo_catalog: Any) -> None:
    code, receipt = file_and_deliver(ui, demo_catalog)
    ui.state.start_application(SERVICE)
    ui.shell.ui.nav.go("question")
    ui.type_keys("علی")
    ui.scan_qr(read_receipt_qr(receipt))
    ui.run_for(0.5)  # time for the scanner's line to come through
    assert ui.current == "question" and ui.state.answers["applicant.name"] == "علی"
    del code


def test_track_by_typing_the_code(ui: Any, demo_catalog: Any) -> None:
    code, _ = file_and_deliver(ui, demo_catalog)
    ui.tap("پیگیری درخواست")
    assert ui.current == "track"
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)  # one digit off: the check digit says so
    ui.type_keys(wrong)
    ui.tap("پیگیری")
    assert ui.current == "track" and ui.state.track_error == tracking_codes.MESSAGE_CHECK_FAILED
    ui.type_keys("\b" + code[-1])
    ui.tap("پیگیری")
    ui.wait_screen("track_result")
    assert ui.state.tracked.tracking_code == code


def _on_the_server(server: Any, code: str, *moves: tuple[str, str, tuple[str, ...]]) -> None:
    """A clerk of the service takes `moves` (action, note to the citizen, documents asked)."""
    from sqlalchemy import select

    from counter_server.context import database
    from counter_server.models import ServiceRequest
    from counter_server.usecases.staff import Role, create_user
    from counter_server.usecases.workflow import StaffAction, perform
    from shared.workflow import Action

    with server.app.app_context(), database().transaction() as session:
        clerk = create_user(session, f"clerk-{code[-6:]}", "مریم کاظمی", Role.clerk,
                            "a long enough password", [SERVICE])
        item = session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
        for action, note, documents in moves:
            perform(session, item, clerk, StaffAction(Action(action), public_note=note,
                                                      documents=documents))


def test_the_track_screen_shows_each_steps_note_and_what_was_asked(
        ui: Any, server: Any, demo_catalog: Any) -> None:
    code, _ = file_and_deliver(ui, demo_catalog)
    _on_the_server(server, code, ("claim", "", ()),
                   ("note", "پرونده شما به کارشناس سپرده شد.", ()),
                   ("request_documents", "", ("course_certificate", "personal_photo")))
    ui.tap("پیگیری درخواست")
    ui.type_keys(code)
    ui.tap("پیگیری")
    ui.wait_screen("track_result")
    spec = demo_catalog.service(SERVICE)
    names = {d.id: d.name for d in spec.documents}
    assert ui.shows("اقدام لازم از سوی شما: این مدارک را بفرستید: "
                    f"«{names['course_certificate']}»، «{names['personal_photo']}».")
    # The earlier note is the step's, not the state's.
    assert ui.shows("یادداشت: پرونده شما به کارشناس سپرده شد.")
    assert not ui.shows("توضیح اداره")
