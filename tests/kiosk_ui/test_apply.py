"""Apply for a service by touch: the catalog, the wizard with its keyboards and validation,
a scanned document, the review, then the tracking code on screen and the receipt printed."""

from __future__ import annotations

from typing import Any

from kiosk.app import harness
from kiosk.app.widgets.keyboard import BACKSPACE
from shared import tracking_codes
from shared.receipts.layout import tracking_url
from tests.kiosk.live import PUBLIC

SERVICE = "tour-guide-card"
NAME = "زهرا احمدی"
NATIONAL_CODE = "۰۴۹۹۳۷۰۸۹۹"
MOBILE = "۰۹۱۲۱۲۳۴۵۶۷"


def open_service(ui: Any) -> None:
    ui.tap("مشاهدهٔ خدمت‌ها و ثبت درخواست")
    assert ui.current == "categories"
    ui.tap("راهنمایان و آموزش گردشگری")
    assert ui.current == "services"
    ui.tap("صدور کارت راهنمای گردشگری")
    assert ui.current == "service"
    page = ui.screen().ids.page
    assert page.service.slug == SERVICE
    ui.wait_for(lambda: not page._rest, what="the sections below the fold")
    harness.pump(2)
    for section in ("مراحل انجام کار", "مدارک لازم", "هزینه", "قوانین و مقررات",
                    "پرسش‌های متداول", "شکایت و پیگیری", "مسئول خدمت"):
        assert ui.shows(section), section


def answer(ui: Any, expected_label: str) -> None:
    """Check the question on screen, then go on."""
    assert ui.current == "question"
    assert ui.screen().label.startswith(expected_label)


def fill_the_form(ui: Any) -> None:
    ui.tap("ثبت درخواست")
    answer(ui, "نام و نام خانوادگی")
    ui.type_keys(NAME)
    assert ui.screen().ids.answer.ltext == NAME  # the logical text, shown shaped
    ui.tap("بعدی")

    answer(ui, "کد ملی")
    ui.type_keys("۱۲۳")
    ui.tap("بعدی")  # the server's own validation, with its message beside the field
    error = ui.screen().ids.error.ltext
    assert "کد ملی" in error and ui.screen().label == "کد ملی"
    assert ui.screen().ids.answer.invalid
    ui.type_keys(BACKSPACE * 3 + NATIONAL_CODE)
    assert ui.screen().ids.error.ltext == ""  # editing clears the message
    ui.tap("بعدی")

    answer(ui, "شماره تلفن همراه")
    ui.type_keys(MOBILE)
    ui.tap("بعدی")

    answer(ui, "گرایش راهنمایی")
    ui.tap("راهنمای فرهنگی و تاریخی")
    ui.tap("بعدی")
    answer(ui, "زبان‌های خارجی برای راهنمایی")
    ui.tap("انگلیسی")
    ui.tap("فرانسوی")
    ui.tap("انگلیسی")  # tapped again: not chosen any more
    assert ui.state.answers["fields.foreign_languages"] == ["fr"]
    ui.tap("بعدی")
    answer(ui, "تاریخ قبولی در آزمون جامع")
    ui.type_keys("۱۴۰۴/۱۱/۲۰")
    ui.tap("بعدی")
    answer(ui, "نام مؤسسه آموزشی")
    ui.type_keys("مؤسسه آموزش عالی اصفهان")
    ui.tap("بعدی")
    answer(ui, "رشته و مقطع تحصیلی")
    ui.type_keys("کارشناسی گردشگری")
    ui.tap("بعدی")
    answer(ui, "عضو انجمن صنفی راهنمایان گردشگری استان هستم")
    ui.tap("بله")
    ui.tap("بعدی")


def give_documents(ui: Any) -> int:
    """Scan each required document, skip the optional one; how many were scanned. A
    document an inquiry replaces is never asked for."""
    scanned = 0
    replaced = {d.id for d in ui.state.service.documents} - {
        d.id for d in ui.state.service.documents_to_ask}
    assert replaced == {"military_service_card"}
    for document in ui.state.service.documents_to_ask:
        assert ui.current == "documents"
        assert ui.screen().doc_name == document.name
        if document.mandatory:
            if not ui.state.scans.get(document.id):
                ui.tap("بعدی")  # not scanned yet: refused, with the reason
                assert "الزامی" in ui.state.document_error
                ui.tap("اسکن مدرک")
            if ui.state.document_error:  # two pages where one photo fits: scan again
                assert "فقط یک صفحه" in ui.state.document_error
                ui.tap("اسکن مدرک")
            assert ui.state.thumbnails[document.id], "a thumbnail of the scan"
            assert ui.screen().ids.pages.children, "the thumbnail is on screen"
            scanned += 1
            ui.tap("بعدی")
        else:
            ui.tap("این مدرک را ندارم")
    return scanned


def test_apply_with_documents_shows_the_code_and_prints_the_receipt(ui: Any) -> None:
    open_service(ui)
    fill_the_form(ui)
    first = ui.state.service.documents[0]
    assert ui.current == "documents"
    ui.tap("اسکن مدرک")
    ui.tap("اسکن دوباره")  # a rescan replaces the first scan
    assert len(ui.state.scans[first.id]) == 1
    ui.tap("قبلی")  # back to the last question, and forward again: the scan is kept
    assert ui.current == "question"
    ui.tap("بعدی")
    assert ui.current == "documents" and ui.screen().scanned
    scanned = give_documents(ui)
    assert ui.current == "review"
    assert ui.shows(NAME) and ui.shows("انگلیسی") is False and ui.shows("فرانسوی")
    assert ui.shows("ارائه نشد")  # the optional document left out
    assert not ui.shows("کارت پایان خدمت یا معافیت دائم")  # asked of the military instead
    assert not ui.printed()

    ui.tap("تأیید و ثبت درخواست")
    ui.wait_screen("filed")
    code = ui.state.filed.tracking_code
    assert tracking_codes.is_valid(code) and tracking_codes.issuer_of(code) == ui.config.kiosk_id
    shown = ui.screen().ids.code.ltext
    assert tracking_codes.format_code(code, persian=True) in shown
    url = tracking_url(PUBLIC, code)
    assert ui.screen().ids.qr.data == url and ui.screen().ids.qr.texture is not None
    receipt = ui.printed()
    assert receipt and url.encode() in receipt  # the receipt's QR carries the tracking URL
    assert ui.shows("رسید شما چاپ شد")
    # What was filed is in the kiosk's store (saved before it was printed) …
    request = ui.store.records_for(code, "request")
    assert len(request) == 1 and request[0].body["applicant"]["national_code"] == "0499370899"
    documents = ui.store.records_for(code, "document")
    assert len(documents) == scanned
    # … and no longer on the screen's state.
    assert ui.state.answers == {} and ui.state.scans == {}
    # The sync takes it to the server.
    report = ui.sync()
    assert report.ok
    assert code in ui.server.codes()


def test_a_printer_out_of_paper_is_explained_and_the_request_kept(ui: Any) -> None:
    from tests.shared.fake_devices import PAPER_OUT

    ui.printer_device.replies = dict(PAPER_OUT)
    ui.state.start_application("records-certificate")
    ui.shell.ui.nav.go("question")
    service = ui.state.service
    ui.state.answers.update({"applicant.name": NAME, "applicant.national_code": NATIONAL_CODE,
                             "applicant.mobile": MOBILE})
    from shared.forms import FieldType

    samples = {FieldType.text: "نمونه", FieldType.textarea: "متن نمونه برای درخواست",
               FieldType.number: "۳", FieldType.date: "۱۴۰۴/۰۱/۱۵",
               FieldType.national_code: NATIONAL_CODE, FieldType.mobile: MOBILE,
               FieldType.postal_code: "۸۱۴۶۸۳۳۱۱۱", FieldType.email: "a@example.com",
               FieldType.checkbox: True}
    for field in service.form:
        if field.type.value in ("select",):
            value: Any = field.options[0].value
        elif field.type.value == "multiselect":
            value = [field.options[0].value]
        else:
            value = samples[field.type]
        ui.state.answers[f"fields.{field.name}"] = value
    for document in service.documents:
        ui.state.scans[document.id] = [ui.kiosk.scan_document()]
    ui.shell.ui.nav.go("review")
    ui.tap("تأیید و ثبت درخواست")
    ui.wait_screen("filed")
    code = ui.state.filed.tracking_code
    assert ui.state.filed.print_error
    assert ui.shows("کاغذ چاپگر تمام شده است") and ui.shows("پذیرش")
    assert ui.shows("درخواست شما ثبت شده است و از بین نمی‌رود")
    assert not ui.printed()  # refused before the first byte
    assert ui.store.records_for(code, "request")  # saved all the same
    stored = ui.store.find_receipt("request", code)
    assert stored is not None and stored.printed_at is None  # for reception to reprint
