"""The kiosk's receipt printer: its `[printer]` table mapped to the shared driver's transports,
the record saved before a refused print, and what the citizen is told when it does not print
(the driver's own status path is tested in tests/shared/test_escpos_printer.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.config import PrinterConfig
from kiosk.devices.receipt_printer import open_printer, transport_for
from kiosk.local.store import KioskStore
from kiosk.usecases.receipts import save_and_print, told_to_citizen
from shared.devices.escpos_printer import (
    FakePrinter,
    FileTransport,
    NetworkTransport,
    PrinterError,
    PrinterStatus,
    ReceiptPrinter,
    SerialTransport,
    UsbTransport,
)
from tests.shared.fake_devices import PAPER_OUT, READY, PtyDevice

TICKET = {"agency_name": "اداره کل آزمایشی", "ticket_label": "B-023", "ticket_id": "aB3_x-Z9",
          "public_base_url": "https://miz.example.ir", "queue_title": "صدور کارت",
          "issued_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "people_ahead": 3,
          "wait_minutes": (10, 30)}


@pytest.mark.parametrize(("table", "expected"), [
    ({"backend": "usb", "vendor_id": 0x04B8, "product_id": 0x0E15}, UsbTransport(0x04B8, 0x0E15)),
    ({"backend": "serial", "url": "/dev/ttyUSB0", "baudrate": 19200},
     SerialTransport("/dev/ttyUSB0", 19200)),
    ({"backend": "network", "host": "10.0.0.5", "port": 9101}, NetworkTransport("10.0.0.5", 9101)),
    ({"backend": "file", "path": Path("/tmp/x.escpos")}, FileTransport(Path("/tmp/x.escpos"))),
])
def test_each_printer_backend_is_a_transport(table: dict[str, object], expected: object) -> None:
    config = PrinterConfig(paper_width_mm=80, qr="native", **table)  # type: ignore[arg-type]
    assert transport_for(config) == expected


def test_a_printer_out_of_paper_tells_the_citizen_the_receipt_is_saved(tmp_path: Path) -> None:
    fake = PtyDevice(PAPER_OUT)
    config = PrinterConfig(backend="serial", url=fake.path, paper_width_mm=58, qr="image",
                           status_timeout=1.0)
    printer = open_printer(config)
    try:
        assert printer.status_timeout == 1.0
        with KioskStore(tmp_path / "data") as store, pytest.raises(PrinterError) as refused:
            save_and_print(store, printer, config, "ticket", "aB3_x-Z9", TICKET)
    finally:
        printer.close()
        fake.close()
    told = told_to_citizen(refused.value)
    assert told.startswith("کاغذ چاپگر تمام شده است.")
    assert "رسید شما ذخیره شده" in told and "به پذیرش مراجعه کنید" in told


def test_the_record_is_saved_before_a_refused_print(tmp_path: Path) -> None:
    config = PrinterConfig(backend="file", path=tmp_path / "x", paper_width_mm=80, qr="image")
    out_of_paper = ReceiptPrinter(FakePrinter(PAPER_OUT))
    with KioskStore(tmp_path / "data") as store:
        with pytest.raises(PrinterError):
            save_and_print(store, out_of_paper, config, "ticket", "aB3_x-Z9", TICKET)
        [kept] = store.unprinted_receipts()
        assert kept.key == "aB3_x-Z9" and kept.values["wait_minutes"] == {"$tuple": [10, 30]}
        assert out_of_paper.device.output == b""
        ready = ReceiptPrinter(FakePrinter(READY))
        assert save_and_print(store, ready, config, "ticket", "aB3_x-Z9", TICKET) \
            is PrinterStatus.OK
        assert store.unprinted_receipts() == []
        assert ready.device.output.startswith(b"\x1b@")
