"""The receipt printer: python-escpos transports (USB, serial, network, file) behind one class.

`ReceiptPrinter` sends ESC/POS bytes that `shared.receipts` rendered. Before each print it
asks the printer for its state with the real-time status command DLE EOT n (0x10 0x04 n):

    n=1 printer status      bit 3: offline
    n=2 offline cause       bit 2: cover open, bit 5: printing stopped by paper end
    n=4 roll paper sensor   bits 2–3: paper near its end, bits 5–6: paper out

Every status byte has bits 1 and 4 set and bits 0 and 7 clear (0x12 is "all fine"); a byte
that does not look like one is no answer. A printer that says nothing within the timeout is
`unknown`, never "fine" (python-escpos's own `paper_status()` reports plenty of paper on
silence, so it is not used). Paper out, cover open and offline refuse the print *before* any
receipt byte is sent, with a Persian message for the citizen.

The record behind a receipt is the caller's to save first (`kiosk.store.KioskStore`), and only
then is it printed, so that a printer failure never loses it and reception can reprint it.
"""

from __future__ import annotations

import os
import socket
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import serial
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial

from kiosk.config import PrinterConfig

try:
    from termios import error as TermiosError  # pyserial's flush() on a vanished port
except ImportError:  # not POSIX
    TermiosError = OSError  # type: ignore[misc,assignment]

DLE_EOT = b"\x10\x04"
STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER = 1, 2, 4
STATUS_FIXED_MASK, STATUS_FIXED_BITS = 0x93, 0x12
OFFLINE_BIT = 0x08
COVER_OPEN_BIT, PAPER_END_STOP_BIT = 0x04, 0x20
PAPER_NEAR_END_BITS, PAPER_OUT_BITS = 0x0C, 0x60

WRITE_TIMEOUT = 10.0
SAVED_AND_WHERE_TO_GO = "رسید شما ذخیره شده؛ لطفاً به پذیرش مراجعه کنید تا برایتان چاپ کنند."


class PrinterStatus(StrEnum):
    """What the printer said about itself before printing."""

    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNKNOWN = "unknown"

    @property
    def can_print(self) -> bool:
        """False when printing now would surely fail; unknown still tries (it may work)."""
        return self not in (PrinterStatus.PAPER_OUT, PrinterStatus.COVER_OPEN,
                            PrinterStatus.OFFLINE)

    @property
    def description(self) -> str:
        """The state in plain Persian, for the screen or for staff."""
        return STATUS_DESCRIPTIONS[self]


STATUS_DESCRIPTIONS = {
    PrinterStatus.OK: "چاپگر آماده است.",
    PrinterStatus.PAPER_LOW: "کاغذ چاپگر رو به پایان است.",
    PrinterStatus.PAPER_OUT: "کاغذ چاپگر تمام شده است.",
    PrinterStatus.COVER_OPEN: "درپوش چاپگر باز است.",
    PrinterStatus.OFFLINE: "چاپگر در دسترس نیست.",
    PrinterStatus.UNKNOWN: "چاپگر به پرسش وضعیت پاسخ نداد؛ وضعیت آن معلوم نیست.",
}
PRINT_FAILED = "چاپ رسید انجام نشد."


class PrinterError(Exception):
    """The receipt was not printed; `message` is Persian, for the citizen."""

    def __init__(self, status: PrinterStatus, message: str, detail: str = "") -> None:
        super().__init__(detail or message)
        self.status, self.message, self.detail = status, message, detail


def _status_byte(reply: int | None) -> int | None:
    """The reply if it has the fixed bits of a DLE EOT status byte, else None."""
    if reply is None or reply & STATUS_FIXED_MASK != STATUS_FIXED_BITS:
        return None
    return reply


def parse_status(printer: int | None, offline_cause: int | None, paper: int | None
                 ) -> PrinterStatus:
    """The printer's state from its DLE EOT 1, 2 and 4 replies (None: no answer)."""
    printer, offline_cause, paper = map(_status_byte, (printer, offline_cause, paper))
    if offline_cause is not None and offline_cause & COVER_OPEN_BIT:
        return PrinterStatus.COVER_OPEN
    if (paper is not None and paper & PAPER_OUT_BITS) or \
            (offline_cause is not None and offline_cause & PAPER_END_STOP_BIT):
        return PrinterStatus.PAPER_OUT
    if printer is not None and printer & OFFLINE_BIT:
        return PrinterStatus.OFFLINE
    if printer is None or offline_cause is None or paper is None:
        return PrinterStatus.UNKNOWN
    if paper & PAPER_NEAR_END_BITS:
        return PrinterStatus.PAPER_LOW
    return PrinterStatus.OK


class StatusQueries:
    """What a transport adds to python-escpos: drop stale input, read one reply in time."""

    answers_status = True

    def drain(self) -> None:
        """Throw away anything the printer sent earlier (a late reply, automatic status)."""

    def read_reply(self, timeout: float) -> bytes:
        """At most one byte of the printer's reply, or b"" when none came in `timeout` s."""
        return b""


class SerialPrinter(StatusQueries, Serial):
    """A serial printer opened with pyserial's `serial_for_url` (a device path or a URL)."""

    def open(self, raise_not_found: bool = True) -> None:
        try:
            self.device = serial.serial_for_url(
                self.devfile, baudrate=self.baudrate, bytesize=self.bytesize,
                parity=self.parity, stopbits=self.stopbits, timeout=self.timeout,
                write_timeout=WRITE_TIMEOUT, xonxoff=self.xonxoff, dsrdtr=self.dsrdtr)
        except (ValueError, serial.SerialException) as exc:
            self.device = None
            raise DeviceNotFoundError(f"cannot open serial printer {self.devfile}: {exc}") from exc

    def drain(self) -> None:
        self.device.reset_input_buffer()

    def read_reply(self, timeout: float) -> bytes:
        if self.device.timeout != timeout:
            self.device.timeout = timeout
        return bytes(self.device.read(1))


class NetworkPrinter(StatusQueries, Network):
    """A printer on TCP port 9100 (or another), answering status on the same socket."""

    def drain(self) -> None:
        sock: socket.socket = self.device
        sock.setblocking(False)
        try:
            while sock.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            sock.settimeout(self.timeout)

    def read_reply(self, timeout: float) -> bytes:
        sock: socket.socket = self.device
        sock.settimeout(timeout)
        try:
            return sock.recv(1)
        except TimeoutError:
            return b""
        finally:
            sock.settimeout(self.timeout)


class FilePrinter(StatusQueries, File):
    """A device file or plain file; bytes are appended and the state is never known."""

    answers_status = False

    def open(self, raise_not_found: bool = True) -> None:
        """A device node is opened as it is (never created: an unplugged printer's path
        must not become a plain file); a plain file is created with its folder."""
        path = Path(self.devfile)
        try:
            if (path.exists() and not path.is_file()) or path.is_relative_to("/dev"):
                handle = os.open(path, os.O_WRONLY | os.O_APPEND)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self.device = cast(Any, os.fdopen(handle, "ab"))
        except OSError as exc:
            self.device = None
            raise DeviceNotFoundError(f"cannot open {self.devfile}: {exc}") from exc


def _usb_printer(vendor_id: int, product_id: int) -> Any:
    """A USB printer; pyusb is optional and imported only here."""
    try:
        import usb.core
    except ImportError:
        raise PrinterError(PrinterStatus.OFFLINE, STATUS_DESCRIPTIONS[PrinterStatus.OFFLINE],
                           'the "usb" printer backend needs pyusb: pip install "miz[usb]"'
                           ) from None
    from escpos.printer import Usb

    class UsbPrinter(StatusQueries, Usb):
        def drain(self) -> None:
            while self.read_reply(0.01):
                pass

        def read_reply(self, timeout: float) -> bytes:
            try:
                data = self.device.read(self.in_ep, 64, int(timeout * 1000))
            except usb.core.USBTimeoutError:
                return b""
            return bytes(data[-1:])

    return UsbPrinter(vendor_id, product_id, timeout=int(WRITE_TIMEOUT * 1000))


class FakePrinter(StatusQueries, Dummy):
    """An in-memory printer for tests and demos: answers status from `replies` (n → byte)."""

    def __init__(self, replies: dict[int, int] | None = None) -> None:
        super().__init__()
        self.replies = dict(replies or {})
        self.queries: list[int] = []

    def _raw(self, msg: bytes) -> None:
        if len(msg) == 3 and msg[:2] == DLE_EOT:
            self.queries.append(msg[2])
            return
        super()._raw(msg)

    def read_reply(self, timeout: float) -> bytes:
        reply = self.replies.get(self.queries[-1]) if self.queries else None
        return b"" if reply is None else bytes([reply])


def open_device(config: PrinterConfig) -> StatusQueries:
    """The python-escpos transport that `config` names (not yet connected)."""
    if config.backend == "usb":
        assert config.vendor_id is not None and config.product_id is not None
        return _usb_printer(config.vendor_id, config.product_id)
    if config.backend == "serial":
        return SerialPrinter(devfile=config.url or "", baudrate=config.baudrate,
                             timeout=config.status_timeout, dsrdtr=False)
    if config.backend == "network":
        return NetworkPrinter(host=config.host or "", port=config.port, timeout=WRITE_TIMEOUT)
    if config.backend == "file":
        return FilePrinter(devfile=str(config.path))
    raise ValueError(f"unknown printer backend {config.backend!r}")


class ReceiptPrinter:
    """Prints rendered receipts, refusing before the first byte when the printer cannot.

    Save the record first (KioskStore.save_receipt), then `print_bytes`, then mark it printed:
    a PrinterError leaves the record saved for a reprint.
    """

    TRANSPORT_ERRORS = (OSError, TermiosError, serial.SerialException, DeviceNotFoundError)

    def __init__(self, device: StatusQueries, status_timeout: float = 0.5) -> None:
        self.device: Any = device
        self.status_timeout = status_timeout

    @classmethod
    def from_config(cls, config: PrinterConfig) -> ReceiptPrinter:
        return cls(open_device(config), config.status_timeout)

    def _ask(self, n: int) -> int | None:
        self.device.drain()
        self.device._raw(DLE_EOT + bytes([n]))
        reply = self.device.read_reply(self.status_timeout)
        return reply[0] if reply else None

    def status(self) -> PrinterStatus:
        """Ask the printer (DLE EOT 1, 2, 4); unknown when it does not answer."""
        if not self.device.answers_status:
            return PrinterStatus.UNKNOWN
        try:
            printer = self._ask(STATUS_PRINTER)
            if _status_byte(printer) is None:
                return PrinterStatus.UNKNOWN
            return parse_status(printer, self._ask(STATUS_OFFLINE_CAUSE),
                                self._ask(STATUS_PAPER))
        except self.TRANSPORT_ERRORS:
            self._reset()
            return PrinterStatus.OFFLINE

    def print_bytes(self, data: bytes) -> PrinterStatus:
        """Print `data` if the printer can; the status seen before printing is returned.

        Raises PrinterError (with a Persian `message`) when the printer is out of paper,
        open, offline, or fails while printing.
        """
        status = self.status()
        if not status.can_print:
            raise PrinterError(status, f"{status.description} {SAVED_AND_WHERE_TO_GO}",
                               f"printer refused: {status.value}")
        try:
            self.device._raw(data)
            flush = getattr(self.device.device, "flush", None)
            if callable(flush):
                flush()
        except self.TRANSPORT_ERRORS as exc:
            self._reset()
            raise PrinterError(PrinterStatus.OFFLINE, f"{PRINT_FAILED} {SAVED_AND_WHERE_TO_GO}",
                               f"printing failed: {exc}") from exc
        return status

    def _reset(self) -> None:
        """Drop a broken connection so that the next call opens it again."""
        try:
            self.device.close()
        except self.TRANSPORT_ERRORS:
            pass
        self.device._device = False

    def close(self) -> None:
        self._reset()
