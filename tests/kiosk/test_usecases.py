"""The kiosk's use cases (kiosk/usecases/) with a fake printer and a fake document
scanner, and no server (its address answers nothing): records are committed before anything
is printed, tickets come from leases, and the kiosk says so when it cannot issue them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from kiosk.config import KioskConfig
from kiosk.devices.document_scanner import FakeScanner
from kiosk.local.store import CLOCK_DRIFT, CLOCK_OFFSET, LAST_CONTACT, OFFICE, KioskStore
from kiosk.sync.policy import KioskPolicy
from kiosk.usecases.errors import CannotIssue, InvalidForm, KioskError, NotFound, ScanFailed
from kiosk.usecases.kiosk import Kiosk
from kiosk.usecases.surveys import BAD_ANSWERS
from kiosk.usecases.tickets import NO_QUEUE, OUT_OF_TOUCH
from kiosk.usecases.tracking import TRACK_UNAVAILABLE
from shared import tracking_codes
from shared.catalog.schema import Catalog
from shared.devices.escpos_printer import FakePrinter, PrinterStatus, ReceiptPrinter
from shared.workcalendar import WorkCalendar
from tests.kiosk.live import (
    APPLICANT,
    MOBILE,
    NATIONAL_CODE,
    PHOTO_SLOT,
    SERVICE,
    SLOT,
    form_for,
    kiosk_config,
    scan,
)
from tests.shared.fake_devices import PAPER_OUT, READY

DEAD_SERVER = "http://127.0.0.1:9"  # nothing listens on the discard port
QUEUE = "tour-guides"  # the demo queue of tour-guide-card, prefix B / «ب»


def working_morning(catalog: Catalog) -> datetime:
    """09:30 Tehran time on a working day of the demo calendar."""
    calendar = WorkCalendar.from_spec(catalog.calendar)
    day = calendar.next_working_day(date(2026, 5, 1))
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)


class Clock:
    """A kiosk clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def config(tmp_path: Path) -> KioskConfig:
    return kiosk_config(tmp_path / "kiosk", DEAD_SERVER, kiosk_id=7, token="t")


@pytest.fixture
def store(config: KioskConfig) -> Iterator[KioskStore]:
    with KioskStore(config.data_dir) as opened:
        yield opened


@pytest.fixture
def clock(demo_catalog: Catalog) -> Clock:
    return Clock(working_morning(demo_catalog))


def make_kiosk(config: KioskConfig, store: KioskStore, clock: Clock,
               replies: dict[int, int] | None = None, **policy: object) -> Kiosk:
    printer = ReceiptPrinter(FakePrinter(READY if replies is None else replies), 0.05)
    scans = config.data_dir.parent / "scans"
    scans.mkdir(exist_ok=True)
    Image.new("RGB", (200, 280), "white").save(scans / "01-certificate.png")
    return Kiosk(config, store, printer, FakeScanner(scans), clock,
                 policy=KioskPolicy(inline_timeout=0.5, **policy))  # type: ignore[arg-type]


def in_touch(store: KioskStore, at: datetime, office: str = "isfahan-hq") -> None:
    store.set_state({LAST_CONTACT: at.isoformat(), OFFICE: office})


def lease(store: KioskStore, day: date, first: int = 101, last: int = 102) -> None:
    store.add_lease("isfahan-hq", QUEUE, day, "B", "ب", first, last, datetime.now(UTC))


def printed_bytes(kiosk: Kiosk) -> bytes:
    assert kiosk.parts.printer is not None
    return bytes(kiosk.parts.printer.device.output)


# --- catalog and forms ---------------------------------------------------------------------

def test_a_new_kiosk_serves_the_bundled_catalog(config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    assert kiosk.catalog() == demo_catalog
    assert kiosk.catalog_version() is None
    survey = kiosk.survey_for(SERVICE)
    assert survey is not None and survey == demo_catalog.survey
    assert kiosk.survey_for(None) == demo_catalog.survey


def test_validate_gives_persian_errors_by_key(config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    assert kiosk.validate(SERVICE, APPLICANT, form_for(demo_catalog)) == {}
    errors = kiosk.validate(SERVICE, {**APPLICANT, "national_code": "1234567890"},
                            {**form_for(demo_catalog), "guide_type": None})
    assert set(errors) == {"applicant.national_code", "fields.guide_type"}
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in text) for text in errors.values())
    with pytest.raises(KioskError) as unknown:
        kiosk.validate("no-such-service", APPLICANT, {})
    assert "خدمتی" in unknown.value.message


# --- filing a request ----------------------------------------------------------------------

def test_a_request_is_committed_with_its_documents_then_printed(
        config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    document = kiosk.scan_document()
    filed = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog),
                               {SLOT: [document], PHOTO_SLOT: [scan("photo")]})
    assert tracking_codes.is_valid(filed.tracking_code) and tracking_codes.issuer_of(filed.tracking_code) == 7
    assert filed.printed is PrinterStatus.OK and filed.print_error is None
    request, certificate, photo = store.pending()
    assert (request.kind, request.ref, request.service) == ("request", filed.tracking_code,
                                                            SERVICE)
    assert request.body is not None and request.body["applicant"]["national_code"] == NATIONAL_CODE
    assert request.body["channel"] == "kiosk" and request.body["catalog_version"] is None
    assert request.body["created_at"] == clock.now.isoformat() == request.kiosk_time.isoformat()
    assert [d.depends_on for d in (certificate, photo)] == [request.id, request.id]
    assert certificate.body == {"slot": SLOT, "filename": certificate.file.name}  # type: ignore
    assert photo.media_type == "image/jpeg" and photo.file is not None and photo.file.is_file()
    assert photo.file.parent == config.data_dir / "outbox"
    receipt = store.find_receipt("request", filed.tracking_code)
    assert receipt is not None and receipt.print_count == 1
    assert receipt.values["channel"] == "kiosk" and receipt.values["place"] == "کیوسک ۰۷"
    assert NATIONAL_CODE not in str(receipt.values) and MOBILE not in str(receipt.values)
    assert f"/t/{filed.tracking_code}".encode() in printed_bytes(kiosk)


def test_saved_before_printed_when_the_printer_is_out_of_paper(
        config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock, replies=PAPER_OUT)
    filed = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {SLOT: [scan()]})
    assert filed.printed is None
    assert filed.print_error is not None and "کاغذ چاپگر تمام شده است" in filed.print_error
    assert "پذیرش" in filed.print_error
    assert [r.kind for r in store.pending()] == ["request", "document"]
    [waiting] = store.unprinted_receipts()
    assert waiting.key == filed.tracking_code
    assert printed_bytes(kiosk) == b""
    assert kiosk.status().printer is PrinterStatus.PAPER_OUT


def test_an_invalid_form_saves_nothing(config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    with pytest.raises(InvalidForm) as refused:
        kiosk.file_request(SERVICE, {**APPLICANT, "mobile": "123"}, form_for(demo_catalog),
                           {SLOT: [scan()]})
    assert set(refused.value.errors) == {"applicant.mobile"}
    assert store.pending() == [] and store.unprinted_receipts() == []
    assert not (config.data_dir / "outbox").exists() or not any(
        (config.data_dir / "outbox").iterdir())
    with pytest.raises(KioskError):
        kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {"no_such_slot": [scan()]})
    with pytest.raises(ScanFailed) as two_pages:  # the photo slot takes one JPEG page
        kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {PHOTO_SLOT: [
            type(scan())(pages=scan().pages * 2)]})
    assert "یک صفحه" in two_pages.value.message
    assert store.pending() == []


def test_a_repeated_tracking_code_is_drawn_again(
        config, store, clock, demo_catalog, monkeypatch) -> None:
    kiosk = make_kiosk(config, store, clock)
    first = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {}).tracking_code
    fresh = tracking_codes.new_code(7)
    draws = iter([first, first, fresh])
    monkeypatch.setattr(tracking_codes, "new_code", lambda issuer: next(draws))
    second = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {})
    assert second.tracking_code == fresh
    assert [r.ref for r in store.pending()] == [first, fresh]


def test_national_codes_never_go_to_the_logs(config, store, clock, demo_catalog, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    kiosk = make_kiosk(config, store, clock, replies=PAPER_OUT)
    filed = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {SLOT: [scan()]})
    logging.getLogger("kiosk.usecases.filing").warning("stray %s", NATIONAL_CODE)  # filtered
    assert filed.tracking_code in caplog.text  # the code is logged, the person is not
    assert NATIONAL_CODE not in caplog.text and MOBILE not in caplog.text
    assert "[redacted]" in caplog.text


# --- tickets -------------------------------------------------------------------------------

def test_no_lease_and_no_server_means_no_ticket(config, store, clock) -> None:
    kiosk = make_kiosk(config, store, clock)
    in_touch(store, clock.now)
    with pytest.raises(CannotIssue) as refused:
        kiosk.take_ticket(SERVICE)
    assert "از پذیرش نوبت بگیرید" in refused.value.message
    assert store.pending() == [] and store.unprinted_receipts() == []


def test_out_of_touch_too_long_sends_people_to_reception(config, store, clock) -> None:
    kiosk = make_kiosk(config, store, clock, max_offline=timedelta(minutes=20))
    in_touch(store, clock.now - timedelta(minutes=21))
    lease(store, clock.now.date())
    with pytest.raises(CannotIssue) as refused:
        kiosk.take_ticket(SERVICE)
    assert refused.value.message == OUT_OF_TOUCH
    assert store.numbers_left(QUEUE, clock.now.date()) == 2  # no number spent
    assert not kiosk.status().can_issue_tickets


def test_offline_tickets_come_from_the_lease_in_order(config, store, clock) -> None:
    kiosk = make_kiosk(config, store, clock)
    in_touch(store, clock.now - timedelta(minutes=5))
    lease(store, clock.now.date(), 101, 102)
    first = kiosk.take_ticket(SERVICE, priority="elderly")
    second = kiosk.take_ticket(SERVICE)
    assert (first.label, first.label_fa, second.label) == ("B-101", "ب-۱۰۱", "B-102")
    assert first.queue_title == "راهنمایان و آزمون‌های گردشگری"
    assert first.ahead is None and first.wait is None and not first.online
    one, two = store.pending()
    assert one.kind == two.kind == "ticket" and one.body is not None and two.body is not None
    assert two.body["number"] == 102 and two.body["priority"] is None
    assert (one.body["number"], one.body["priority"]) == (101, "elderly")
    assert one.body["issued_at"] == clock.now.isoformat()
    assert one.ref == first.ticket_id and store.find_receipt("ticket", first.ticket_id)
    assert first.printed is not None or first.print_error  # saved either way
    with pytest.raises(CannotIssue):  # the lease is used up
        kiosk.take_ticket(SERVICE)
    assert len(store.pending()) == 2


def test_tickets_follow_the_queue_hours_and_the_office(config, store, clock) -> None:
    kiosk = make_kiosk(config, store, clock)
    in_touch(store, clock.now, office="kashan")  # Kashan runs no tour-guide queue
    lease(store, clock.now.date())
    with pytest.raises(CannotIssue) as elsewhere:
        kiosk.take_ticket(SERVICE)
    assert elsewhere.value.message == NO_QUEUE
    in_touch(store, clock.now)
    clock.now += timedelta(hours=10)  # 19:30 in Tehran
    with pytest.raises(CannotIssue) as closed:
        kiosk.take_ticket(SERVICE)
    assert "اکنون بسته است" in closed.value.message
    with pytest.raises(CannotIssue):
        kiosk.take_ticket(SERVICE, priority="vip")


def test_a_ticket_carries_the_server_corrected_time(config, store, clock) -> None:
    kiosk = make_kiosk(config, store, clock)
    server_now = clock.now + timedelta(minutes=7)
    in_touch(store, clock.now)
    store.set_state({CLOCK_OFFSET: "420.0", CLOCK_DRIFT: "1"})
    lease(store, server_now.date())
    taken = kiosk.take_ticket(SERVICE)
    [record] = store.pending()
    assert record.body is not None and record.body["issued_at"] == server_now.isoformat()
    assert record.kiosk_time == clock.now and taken.issued_at == server_now
    status = kiosk.status()
    assert status.clock_drift and status.clock_offset_seconds == 420.0
    assert status.message is not None and "۴۲۰ ثانیه" in status.message


# --- tracking, surveys, status, reprint ----------------------------------------------------

def test_tracking_offline_shows_what_the_kiosk_knows(config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    filed = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {})
    tracked = kiosk.track(tracking_codes.format_code(filed.tracking_code, persian=True))
    assert not tracked.live and tracked.status == "queued"
    assert tracked.status_label == "در صف ارسال به سامانه" and tracked.note
    assert tracked.service_title == demo_catalog.service(SERVICE).title  # type: ignore[union-attr]
    assert tracked.submitted_at == clock.now
    with pytest.raises(KioskError) as unknown:
        kiosk.track(tracking_codes.new_code(3))
    assert unknown.value.message == TRACK_UNAVAILABLE and not isinstance(unknown.value, NotFound)
    with pytest.raises(KioskError) as mistyped:
        kiosk.track("1234 5678 9012 3456")
    assert mistyped.value.message == tracking_codes.MESSAGE_CHECK_FAILED


def test_survey_answers_are_queued(config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    code = tracking_codes.new_code(7)
    kiosk.answer_survey({"satisfaction": 5, "staff_conduct": 4}, service=SERVICE,
                        tracking_code=tracking_codes.format_code(code), comment="  خوب بود  ")
    [record] = store.pending()
    assert record.kind == "survey" and record.body is not None
    assert record.body["answers"] == {"satisfaction": 5, "staff_conduct": 4}
    assert (record.body["tracking_code"], record.body["comment"]) == (code, "خوب بود")
    for wrong in ({}, {"satisfaction": 6}, {"nope": 3}, {"satisfaction": True}):
        with pytest.raises(KioskError) as refused:
            kiosk.answer_survey(wrong, service=SERVICE)
        assert refused.value.message == BAD_ANSWERS
    assert len(store.pending()) == 1


def test_status_reports_offline_and_the_outbox(config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {SLOT: [scan()]})
    status = kiosk.status()
    assert not status.online and status.last_contact_at is None
    assert status.outbox_depth == 2 and status.failed == 0
    assert status.printer is PrinterStatus.OK and status.catalog_version is None
    assert status.message is not None and "وصل نیست" in status.message
    in_touch(store, clock.now - timedelta(seconds=30))
    assert kiosk.status().online and kiosk.status().message is None
    assert kiosk.check_printer() is PrinterStatus.OK


def test_reprint_by_code_and_unknown_keys(config, store, clock, demo_catalog) -> None:
    kiosk = make_kiosk(config, store, clock)
    filed = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {})
    again = kiosk.reprint(tracking_codes.format_code(filed.tracking_code, persian=True))
    assert again.printed is PrinterStatus.OK and again.print_error is None
    assert store.find_receipt("request", filed.tracking_code).print_count == 2  # type: ignore
    with pytest.raises(NotFound):
        kiosk.reprint("no-such-ticket")


def test_a_store_of_the_first_schema_is_migrated_keeping_its_receipts(tmp_path: Path) -> None:
    import sqlite3

    from kiosk.local.store import MIGRATIONS

    db = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    db.execute("INSERT INTO receipts (kind, key, input_json, created_at) "
               "VALUES ('ticket', 'aB3', '{}', '2026-03-01T09:30:00+00:00')")
    db.commit()
    db.close()
    with KioskStore(tmp_path) as store:
        assert store.schema_version == len(MIGRATIONS) >= 2
        assert store.find_receipt("ticket", "aB3") is not None
        assert store.counts() == {"pending": 0, "sent": 0, "failed": 0}
        assert store.cached_catalog() is None and store.states() == {}
