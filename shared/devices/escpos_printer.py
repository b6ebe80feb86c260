"""An ESC/POS receipt printer over python-escpos's transports (USB, serial, network, file),
with the real-time status queries python-escpos lacks.

`ReceiptPrinter.open(transport)` takes a plain transport description (`UsbTransport`,
`SerialTransport`, `NetworkTransport`, `FileTransport`): the kiosk builds one from its TOML
file, the counter server from a counter's printer address. It sends ESC/POS bytes that
`shared.receipts` rendered. Before each print it asks the printer for its state with the
real-time status command DLE EOT n (0x10 0x04 n):

    n=1 printer status      bit 3: offline
    n=2 offline cause       bit 2: cover open, bit 5: printing stopped by paper end
    n=4 roll paper sensor   bits 2–3: paper near its end, bits 5–6: paper out

Every status byte has bits 1 and 4 set and bits 0 and 7 clear (0x12 is "all fine"); a byte
that does not look like one is no answer. A printer that says nothing within the timeout is
`unknown`, never "fine" (python-escpos's own `paper_status()` reports plenty of paper on
silence, so it is not used). Paper out, cover open and offline refuse the print *before* any
receipt byte is sent, with `PrinterError.message` saying in Persian what is wrong; what the
reader should do next (ask reception, print from the browser) is the caller's to add.

A caller that keeps a record of what it prints saves it first and prints it after, so that
a printer failure never loses it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Self, cast

import serial
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial

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
DEFAULT_STATUS_TIMEOUT = 0.5


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
    """The receipt was not printed; `message` says why in Persian, `detail` is for the log."""

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


@dataclass(frozen=True)
class UsbTransport:
    """A USB printer by its vendor and product ids (needs pyusb)."""

    vendor_id: int
    product_id: int


@dataclass(frozen=True)
class SerialTransport:
    """A serial printer: a device path (/dev/ttyUSB0) or a pyserial URL."""

    url: str
    baudrate: int = 9600


@dataclass(frozen=True)
class NetworkTransport:
    """A printer on a TCP port (9100 on most), answering status on the same socket."""

    host: str
    port: int = 9100
    timeout: float = WRITE_TIMEOUT
    """Seconds to connect and to write."""


@dataclass(frozen=True)
class FileTransport:
    """A device file or a plain file the bytes are appended to (never answers status)."""

    path: Path


Transport = UsbTransport | SerialTransport | NetworkTransport | FileTransport


def open_device(transport: Transport, status_timeout: float = DEFAULT_STATUS_TIMEOUT
                ) -> StatusQueries:
    """The python-escpos device for `transport` (it connects on first use)."""
    match transport:
        case UsbTransport(vendor_id, product_id):
            return _usb_printer(vendor_id, product_id)
        case SerialTransport(url, baudrate):
            return SerialPrinter(devfile=url, baudrate=baudrate, timeout=status_timeout,
                                 dsrdtr=False)
        case NetworkTransport(host, port, timeout):
            return NetworkPrinter(host=host, port=port, timeout=timeout)
        case FileTransport(path):
            return FilePrinter(devfile=str(path))
    raise ValueError(f"not a printer transport: {transport!r}")


class ReceiptPrinter:
    """Prints rendered receipts, refusing before the first byte when the printer cannot."""

    TRANSPORT_ERRORS = (OSError, TermiosError, serial.SerialException, DeviceNotFoundError)

    def __init__(self, device: StatusQueries,
                 status_timeout: float = DEFAULT_STATUS_TIMEOUT) -> None:
        self.device: Any = device
        self.status_timeout = status_timeout

    @classmethod
    def open(cls, transport: Transport, status_timeout: float = DEFAULT_STATUS_TIMEOUT) -> Self:
        """A printer on `transport`; PrinterError when its backend cannot be used at all."""
        return cls(open_device(transport, status_timeout), status_timeout)

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
            raise PrinterError(status, status.description, f"printer refused: {status.value}")
        try:
            self.device._raw(data)
            flush = getattr(self.device.device, "flush", None)
            if callable(flush):
                flush()
        except self.TRANSPORT_ERRORS as exc:
            self._reset()
            raise PrinterError(PrinterStatus.OFFLINE, PRINT_FAILED,
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
