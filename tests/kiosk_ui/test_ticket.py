"""Queue tickets by touch: pick a service, ordinary or priority, a mobile for the queue's SMS
or none, a printed ticket; linked to the request just filed; the reason in Persian when none
can be issued."""

from __future__ import annotations

from typing import Any

from counter_server.models import Ticket
from shared.text import to_persian_digits
from tests.kiosk.live import APPLICANT, SERVICE, form_for, scan


def test_take_a_ticket(ui: Any) -> None:
    before = ui.server.count(Ticket)
    ui.tap("گرفتن نوبت باجه")
    assert ui.current == "ticket"
    assert ui.shows("راهنمایان و آزمون‌های گردشگری")  # the queues, with their services
    ui.tap("صدور کارت راهنمای گردشگری")
    assert ui.current == "priority"
    assert ui.shows("سالمندان (۶۵ سال و بیشتر)")
    ui.tap("نوبت عادی")
    assert ui.current == "ticket_mobile" and ui.shows("پیامک نوبت (اختیاری)")
    ui.tap("گرفتن نوبت")  # no mobile: no SMS
    ui.wait_screen("ticket_done")
    taken = ui.state.ticket
    assert taken.online and taken.label_fa.startswith("ب-")
    assert ui.screen().ids.number.ltext == taken.label_fa
    assert ui.shows("نفر پیش از شما") and ui.shows("زمان تقریبی انتظار")
    assert ui.shows("نوبت شما چاپ شد")
    assert ui.printed(), "the ticket went to the printer"
    assert taken.ticket_id.encode() in ui.printed()  # its QR: the ticket's public page
    assert ui.server.count(Ticket) == before + 1
    ui.tap("پایان")
    assert ui.current == "survey" and ui.state.survey_ticket_id == taken.ticket_id


def test_a_priority_ticket(ui: Any) -> None:
    ui.tap("گرفتن نوبت باجه")
    ui.tap("صدور کارت راهنمای گردشگری")
    ui.tap("سالمندان (۶۵ سال و بیشتر)")
    ui.tap("گرفتن نوبت")
    ui.wait_screen("ticket_done")
    rows = ui.server.rows(Ticket, "public_id", "priority")
    assert (ui.state.ticket.ticket_id, "elderly") in rows


def test_a_ticket_for_the_request_just_filed_is_linked_to_it(ui: Any, demo_catalog: Any) -> None:
    filed = ui.kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog),
                                  {d.id: [scan(d.id)] for d in
                                   demo_catalog.service(SERVICE).documents if d.mandatory})
    ui.state.filed, ui.state.filed_service = filed, SERVICE
    ui.state.service_slug = SERVICE
    ui.shell.ui.nav.go("filed")
    ui.tap("گرفتن نوبت برای همین درخواست")
    assert ui.current == "priority"
    ui.tap("نوبت عادی")
    ui.tap("گرفتن نوبت")
    ui.wait_screen("ticket_done")
    assert ui.shows("این نوبت به درخواست تازهٔ شما پیوسته است")
    assert ui.sync().ok
    codes = {code for (public_id, code) in ui.server.rows(Ticket, "public_id", "tracking_code")
             if public_id == ui.state.ticket.ticket_id}
    assert codes == {filed.tracking_code}


def test_no_server_and_no_numbers_sends_people_to_reception(ui: Any) -> None:
    ui.server.stop()
    try:
        ui.tap("گرفتن نوبت باجه")
        ui.tap("صدور کارت راهنمای گردشگری")
        ui.tap("نوبت عادی")
        ui.tap("گرفتن نوبت")
        assert ui.current == "ticket_mobile"  # no ticket screen: nothing was issued
        assert "پذیرش" in ui.state.ticket_error
        assert ui.screen().ids.error.ltext == ui.state.ticket_error
        assert not ui.printed()
    finally:
        ui.server.start()


def test_a_ticket_with_a_mobile_for_the_queues_sms(ui: Any) -> None:
    ui.tap("گرفتن نوبت باجه")
    ui.tap("صدور کارت راهنمای گردشگری")
    ui.tap("نوبت عادی")
    ui.type_keys("0912345")
    ui.tap("گرفتن نوبت")
    assert ui.current == "ticket_mobile"  # too short: said so, nothing issued
    assert ui.screen().ids.error.ltext.startswith("شماره تلفن همراه واردشده معتبر نیست")
    ui.type_keys("67890")  # the twelfth digit is not taken
    assert ui.state.ticket_mobile == to_persian_digits("09123456789")
    assert ui.screen().ids.mobile.ltext.strip("\u200e\u200f\u202a\u202c\u2066\u2069") \
        == "۰۹۱۲ ۳۴۵ ۶۷۸۹"
    ui.tap("گرفتن نوبت")
    ui.wait_screen("ticket_done")
    taken = ui.state.ticket
    assert taken.online and ui.state.ticket_mobile == ""  # the screen keeps it no longer
    rows = ui.server.rows(Ticket, "public_id", "mobile")
    assert (taken.ticket_id, "09123456789") in rows
    assert b"09123456789" not in ui.printed()  # never on the paper
    [record] = [r for r in ui.store.records_for(ui.store.ticket_ref_for(taken.ticket_id) or "")
                if r.kind == "ticket"]
    assert record.purged_at and "mobile" not in (record.body or {})
