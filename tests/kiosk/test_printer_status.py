"""The receipt printer's status path: real DLE EOT status bytes from a fake printer on a
pseudo-terminal (and on a local socket), driven through the serial (network) backend."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.config import PrinterConfig
from kiosk.printer import (
    FakePrinter,
    PrinterError,
    PrinterStatus,
    ReceiptPrinter,
    parse_status,
)
from kiosk.printing import save_and_print
from kiosk.store import KioskStore
from shared.receipts import PAPER_58, printer_test_page, to_escpos
from tests.kiosk.fakes import COVER_OPEN, PAPER_LOW, PAPER_OUT, READY, PtyDevice, SocketPrinter

TIMEOUT = 1.0  # generous: a loaded CI machine must not turn an answer into silence
JOB = b"\x1b@" + b"Miz receipt test\n" + b"\x1dV\x00"


MakePrinter = Callable[[dict[int, int] | None], PtyDevice]


@pytest.fixture
def pty_printer() -> Iterator[MakePrinter]:
    """Makes fake printers on pseudo-terminals, closed after the test."""
    made: list[PtyDevice] = []

    def make(replies: dict[int, int] | None) -> PtyDevice:
        made.append(PtyDevice(replies))
        return made[-1]

    yield make
    for fake in made:
        fake.close()


def serial_printer(fake: PtyDevice) -> ReceiptPrinter:
    config = PrinterConfig(backend="serial", url=fake.path, baudrate=9600, paper_width_mm=58,
                           qr="image", status_timeout=TIMEOUT)
    return ReceiptPrinter.from_config(config)


@pytest.mark.parametrize(("replies", "expected"), [
    ((0x12, 0x12, 0x12), PrinterStatus.OK),
    ((0x16, 0x12, 0x12), PrinterStatus.OK),  # drawer pin high: no matter
    ((0x12, 0x12, 0x1E), PrinterStatus.PAPER_LOW),
    ((0x1A, 0x32, 0x72), PrinterStatus.PAPER_OUT),
    ((0x12, 0x12, 0x72), PrinterStatus.PAPER_OUT),
    ((0x1A, 0x32, None), PrinterStatus.PAPER_OUT),
    ((0x1A, 0x16, 0x12), PrinterStatus.COVER_OPEN),
    ((0x1A, 0x16, 0x72), PrinterStatus.COVER_OPEN),
    ((0x1A, 0x52, 0x12), PrinterStatus.OFFLINE),  # an error, neither paper nor cover
    ((None, None, None), PrinterStatus.UNKNOWN),
    ((0x12, None, None), PrinterStatus.UNKNOWN),
    ((0x12, 0x12, None), PrinterStatus.UNKNOWN),
    ((0xFF, 0x00, 0x80), PrinterStatus.UNKNOWN),  # not status bytes at all
])
def test_status_bytes_are_read_per_the_epson_spec(
    replies: tuple[int | None, int | None, int | None], expected: PrinterStatus
) -> None:
    assert parse_status(*replies) is expected


def test_a_ready_printer_on_a_pty_is_ok_and_prints_the_bytes(pty_printer: MakePrinter) -> None:
    fake = pty_printer(READY)
    printer = serial_printer(fake)
    assert printer.status() is PrinterStatus.OK
    assert fake.queries == [1, 2, 4]
    assert printer.print_bytes(JOB) is PrinterStatus.OK
    printer.close()
    assert fake.wait_printed(len(JOB)) == JOB


def test_paper_out_is_refused_before_any_receipt_byte_is_written(pty_printer: MakePrinter) -> None:
    fake = pty_printer(PAPER_OUT)
    printer = serial_printer(fake)
    with pytest.raises(PrinterError) as refused:
        printer.print_bytes(JOB)
    printer.close()
    assert refused.value.status is PrinterStatus.PAPER_OUT
    assert refused.value.message.startswith("کاغذ چاپگر تمام شده است.")
    assert "به پذیرش مراجعه کنید" in refused.value.message
    assert fake.wait_printed(1, timeout=0.5) == b""  # given time, still nothing
    assert fake.queries == [1, 2, 4]


def test_cover_open_is_found_and_refused(pty_printer: MakePrinter) -> None:
    fake = pty_printer(COVER_OPEN)
    printer = serial_printer(fake)
    assert printer.status() is PrinterStatus.COVER_OPEN
    with pytest.raises(PrinterError) as refused:
        printer.print_bytes(JOB)
    printer.close()
    assert refused.value.message.startswith("درپوش چاپگر باز است.")
    assert fake.wait_printed(1, timeout=0.5) == b""


def test_paper_low_still_prints_and_says_so(pty_printer: MakePrinter) -> None:
    fake = pty_printer(PAPER_LOW)
    printer = serial_printer(fake)
    assert printer.print_bytes(JOB) is PrinterStatus.PAPER_LOW
    printer.close()
    assert fake.wait_printed(len(JOB)) == JOB


def test_a_printer_that_answers_nothing_is_unknown_not_fine(pty_printer: MakePrinter) -> None:
    fake = pty_printer(None)
    printer = serial_printer(fake)
    assert printer.status() is PrinterStatus.UNKNOWN
    assert fake.queries == [1]  # no point asking the rest of a silent printer
    assert printer.print_bytes(JOB) is PrinterStatus.UNKNOWN  # it may still print
    printer.close()
    assert fake.wait_printed(len(JOB)) == JOB


def test_a_stray_byte_from_earlier_does_not_pass_for_an_answer(pty_printer: MakePrinter) -> None:
    fake = pty_printer(COVER_OPEN)
    printer = serial_printer(fake)
    printer.device.device  # noqa: B018 - open the port
    fake.send(b"\x12")  # a late "all fine" to some earlier query, still waiting to be read
    assert printer.status() is PrinterStatus.COVER_OPEN  # not shifted by one answer
    printer.close()


def test_an_unplugged_serial_printer_is_offline(tmp_path: Path) -> None:
    config = PrinterConfig(backend="serial", url=str(tmp_path / "ttyUSB9"), paper_width_mm=80,
                           qr="native", status_timeout=TIMEOUT)
    printer = ReceiptPrinter.from_config(config)
    assert printer.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError) as refused:
        printer.print_bytes(JOB)
    assert refused.value.message.startswith("چاپگر در دسترس نیست.")


def test_a_network_printer_answers_on_its_socket() -> None:
    fake = SocketPrinter(PAPER_OUT)
    config = PrinterConfig(backend="network", host="127.0.0.1", port=fake.port,
                           paper_width_mm=80, qr="native", status_timeout=TIMEOUT)
    printer = ReceiptPrinter.from_config(config)
    try:
        assert printer.status() is PrinterStatus.PAPER_OUT
        fake.replies = dict(READY)
        assert printer.print_bytes(JOB) is PrinterStatus.OK
        assert fake.wait_printed(len(JOB)) == JOB
    finally:
        printer.close()
        fake.close()


def test_receipt_bytes_reach_the_file_backend_intact(tmp_path: Path) -> None:
    receipt = printer_test_page(kiosk_id="۰۷", printed_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    job = to_escpos(receipt, PAPER_58, qr="native")
    path = tmp_path / "out" / "receipts.escpos"
    config = PrinterConfig(backend="file", path=path, paper_width_mm=58, qr="native")
    printer = ReceiptPrinter.from_config(config)
    assert printer.print_bytes(job) is PrinterStatus.UNKNOWN  # a file never answers
    assert printer.print_bytes(JOB) is PrinterStatus.UNKNOWN
    printer.close()
    assert path.read_bytes() == job + JOB  # appended, and no status query in between


def test_the_record_is_saved_before_a_refused_print(tmp_path: Path) -> None:
    values = {"agency_name": "اداره کل آزمایشی", "ticket_label": "B-023", "ticket_id": "aB3_x-Z9",
              "public_base_url": "https://miz.example.ir", "queue_title": "صدور کارت",
              "issued_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "people_ahead": 3,
              "wait_minutes": (10, 30)}
    config = PrinterConfig(backend="file", path=tmp_path / "x", paper_width_mm=80, qr="image")
    out_of_paper = ReceiptPrinter(FakePrinter(PAPER_OUT))
    with KioskStore(tmp_path / "data") as store:
        with pytest.raises(PrinterError):
            save_and_print(store, out_of_paper, config, "ticket", "aB3_x-Z9", values)
        [kept] = store.unprinted_receipts()
        assert kept.key == "aB3_x-Z9" and kept.values["wait_minutes"] == {"$tuple": [10, 30]}
        assert out_of_paper.device.output == b""
        ready = ReceiptPrinter(FakePrinter(READY))
        assert save_and_print(store, ready, config, "ticket", "aB3_x-Z9", values) \
            is PrinterStatus.OK
        assert store.unprinted_receipts() == []
        assert ready.device.output.startswith(b"\x1b@")


def test_a_printer_that_goes_away_gives_a_persian_error_not_a_crash() -> None:
    fake = PtyDevice(READY)
    printer = serial_printer(fake)
    assert printer.status() is PrinterStatus.OK
    fake.close()  # the cable is pulled
    with pytest.raises(PrinterError) as failed:
        printer.print_bytes(JOB)
    printer.close()
    assert failed.value.status is PrinterStatus.OFFLINE
    assert "رسید شما ذخیره شده" in failed.value.message


def test_the_usb_backend_without_pyusb_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usb", None)
    monkeypatch.setitem(sys.modules, "usb.core", None)
    config = PrinterConfig(backend="usb", vendor_id=0x04B8, product_id=0x0E15,
                           paper_width_mm=80, qr="native")
    with pytest.raises(PrinterError) as missing:
        ReceiptPrinter.from_config(config)
    assert 'pip install "miz[usb]"' in missing.value.detail
    assert missing.value.message == "چاپگر در دسترس نیست."
