"""The shared ESC/POS printer driver's status path: real DLE EOT status bytes from a stand-in
printer on a pseudo-terminal (serial transport) and on a local socket (network transport)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.devices.escpos_printer import (
    FileTransport,
    NetworkTransport,
    PrinterError,
    PrinterStatus,
    ReceiptPrinter,
    SerialTransport,
    UsbTransport,
    parse_status,
)
from shared.receipts import PAPER_58, printer_test_page, to_escpos
from tests.shared.fake_devices import (
    COVER_OPEN,
    PAPER_LOW,
    PAPER_OUT,
    READY,
    PtyDevice,
    SocketPrinter,
)

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
    return ReceiptPrinter.open(SerialTransport(fake.path, 9600), TIMEOUT)


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
    assert refused.value.message == "کاغذ چاپگر تمام شده است."
    assert fake.wait_printed(1, timeout=0.5) == b""  # given time, still nothing
    assert fake.queries == [1, 2, 4]


def test_cover_open_is_found_and_refused(pty_printer: MakePrinter) -> None:
    fake = pty_printer(COVER_OPEN)
    printer = serial_printer(fake)
    assert printer.status() is PrinterStatus.COVER_OPEN
    with pytest.raises(PrinterError) as refused:
        printer.print_bytes(JOB)
    printer.close()
    assert refused.value.message == "درپوش چاپگر باز است."
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
    printer = ReceiptPrinter.open(SerialTransport(str(tmp_path / "ttyUSB9")), TIMEOUT)
    assert printer.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrinterError) as refused:
        printer.print_bytes(JOB)
    assert refused.value.message == "چاپگر در دسترس نیست."


def test_a_network_printer_answers_on_its_socket() -> None:
    fake = SocketPrinter(PAPER_OUT)
    printer = ReceiptPrinter.open(NetworkTransport("127.0.0.1", fake.port), TIMEOUT)
    try:
        assert printer.status() is PrinterStatus.PAPER_OUT
        fake.replies = dict(READY)
        assert printer.print_bytes(JOB) is PrinterStatus.OK
        assert fake.wait_printed(len(JOB)) == JOB
    finally:
        printer.close()
        fake.close()


def test_a_network_printer_nobody_listens_to_is_offline() -> None:
    printer = ReceiptPrinter.open(NetworkTransport("127.0.0.1", 9, timeout=2.0), TIMEOUT)
    with pytest.raises(PrinterError) as refused:
        printer.print_bytes(JOB)
    assert refused.value.status is PrinterStatus.OFFLINE


def test_receipt_bytes_reach_the_file_backend_intact(tmp_path: Path) -> None:
    receipt = printer_test_page(kiosk_id="۰۷", printed_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    job = to_escpos(receipt, PAPER_58, qr="native")
    path = tmp_path / "out" / "receipts.escpos"
    printer = ReceiptPrinter.open(FileTransport(path))
    assert printer.print_bytes(job) is PrinterStatus.UNKNOWN  # a file never answers
    assert printer.print_bytes(JOB) is PrinterStatus.UNKNOWN
    printer.close()
    assert path.read_bytes() == job + JOB  # appended, and no status query in between


def test_a_printer_that_goes_away_is_a_persian_error_not_a_crash() -> None:
    fake = PtyDevice(READY)
    printer = serial_printer(fake)
    assert printer.status() is PrinterStatus.OK
    fake.close()  # the cable is pulled
    with pytest.raises(PrinterError) as failed:
        printer.print_bytes(JOB)
    printer.close()
    assert failed.value.status is PrinterStatus.OFFLINE
    assert failed.value.message in ("چاپگر در دسترس نیست.", "چاپ رسید انجام نشد.")


def test_the_usb_transport_without_pyusb_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usb", None)
    monkeypatch.setitem(sys.modules, "usb.core", None)
    with pytest.raises(PrinterError) as missing:
        ReceiptPrinter.open(UsbTransport(0x04B8, 0x0E15))
    assert 'pip install "miz[usb]"' in missing.value.detail
    assert missing.value.message == "چاپگر در دسترس نیست."
