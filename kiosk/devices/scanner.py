"""QR/barcode scanners: what a scan means (`recognise`), serial scanners, keyboard-wedge scanners.

A scan is recognised as

- a receipt's URL `<public base>/t/<tracking code>` or a bare tracking code (any digit script,
  spaces or dashes; the Damm check digit must hold) → `Scan(ScanKind.REQUEST, code)`;
- a queue ticket's URL `<public base>/q/<public id>` → `Scan(ScanKind.TICKET, id)`;
- a delivered document's seal `<any address>/v/<id>#<digits>` → `Scan(ScanKind.SEAL, text)`
  (the address is not signed, so any host is taken: the seal's signature decides);

and anything else is ignored: `recognise` returns None and never raises.

A USB scanner that "types like a keyboard" presses the keys of US QWERTY. With a Persian
layout active the same key presses arrive as Persian letters: `https://miz.example/t/0012…`
becomes `اففحس://پهظ.ثطشپحمث/ف/۰۰۱۲…`. `KeyboardWedgeDecoder` takes key events by physical
key (HID usage ids, layout-independent) or typed characters, which it maps back through the
ISIRI 9147 layout ("Persian (Standard)" on Windows, "ir" on Linux) or the legacy Windows
"Persian" layout.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Self
from urllib.parse import unquote, urlsplit

import serial

from shared import tracking_codes
from shared.seals import is_seal_text
from shared.text import to_ascii_digits

log = logging.getLogger(__name__)

MAX_SCAN_LENGTH = 720  # a seal's address and up to 600 digits
TICKET_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
SCAN_PATH = re.compile(r"/(t|q)/([^/]+)/?")
SCAN_TAIL = re.compile(r"/(t|q)/([^/]+)/?\Z")
TERMINATORS = "\r\n"


class ScanKind(StrEnum):
    REQUEST = "request"
    TICKET = "ticket"
    SEAL = "seal"


@dataclass(frozen=True)
class Scan:
    """A recognised scan: a request's tracking code (16 ASCII digits), a ticket's public id,
    or a seal's whole text."""

    kind: ScanKind
    value: str


# --- what a scan means -------------------------------------------------------------------

def _clean(text: str) -> str:
    """Without control and format characters (bidi marks, ZWNJ, BOM) and outer spaces."""
    kept = (ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return "".join(kept).strip()


def _from_path(kind: str, segment: str) -> Scan | None:
    value = unquote(segment)
    if kind == "t":
        return Scan(ScanKind.REQUEST, tracking_codes.normalize(value))
    if TICKET_ID.fullmatch(value):
        return Scan(ScanKind.TICKET, value)
    return None


def _base_rest(parts: tuple[str, str], public_base_url: str) -> str | None:
    """The URL's path after the public base, or None when the URL is not under it."""
    netloc, path = parts
    base = urlsplit(public_base_url)
    prefix = base.path.rstrip("/")
    if netloc.lower() != base.netloc.lower() or not path.startswith(prefix + "/"):
        return None
    return path[len(prefix):]


def _recognise_url(text: str, public_base_url: str | None) -> Scan | None:
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if public_base_url:
        rest = _base_rest((parts.netloc, parts.path), public_base_url)
        match = SCAN_PATH.fullmatch(rest) if rest is not None else None
    else:
        match = SCAN_TAIL.search(parts.path)
    return _from_path(match.group(1), match.group(2)) if match else None


def _recognise_plain(text: str, public_base_url: str | None) -> Scan | None:
    text = _clean(text)
    if is_seal_text(text):
        return Scan(ScanKind.SEAL, text)
    if "://" in text:
        return _recognise_url(text, public_base_url)
    return Scan(ScanKind.REQUEST, tracking_codes.normalize(text))


def recognise(text: object, public_base_url: str | None = None,
              layout: str = "standard") -> Scan | None:
    """What a scanned text means, or None for anything else (never raises).

    With `public_base_url`, URLs must be under it; without, only the path's shape is checked.
    Text typed through a Persian keyboard layout is tried as the US keys that typed it,
    `layout` ("standard" or "legacy") first.
    """
    if not isinstance(text, str) or not text or len(text) > MAX_SCAN_LENGTH:
        return None
    for candidate in _candidates(text, layout):
        try:
            scan = _recognise_plain(candidate, public_base_url)
        except (ValueError, UnicodeError):
            continue
        if scan is not None:
            return scan
    return None


# --- Persian keyboard layouts ------------------------------------------------------------

US_KEYS = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./"
US_SHIFTED = "~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:\"ZXCVBNM<>?"

# What each US key types under each layout, key by key in the order of US_KEYS/US_SHIFTED.
# ISIRI 9147 (xkb "ir", Windows "Persian (Standard)"):
_STANDARD = (
    ["\u200d", "۱", "۲", "۳", "۴", "۵", "۶", "۷", "۸", "۹", "۰", "-", "=",
     "ض", "ص", "ث", "ق", "ف", "غ", "ع", "ه", "خ", "ح", "ج", "چ", "\\",
     "ش", "س", "ی", "ب", "ل", "ا", "ت", "ن", "م", "ک", "گ",
     "ظ", "ط", "ز", "ر", "ذ", "د", "پ", "و", ".", "/"],
    ["÷", "!", "\u066c", "\u066b", "\ufdfc", "\u066a", "×", "\u060c", "*", ")", "(", "\u0640", "+",
     "\u0652", "\u064c", "\u064d", "\u064b", "\u064f", "\u0650", "\u064e", "\u0651",
     "]", "[", "}", "{", "|",
     "\u0624", "\u0626", "\u064a", "\u0625", "\u0623", "\u0622", "\u0629", "»", "«", ":", "\u061b",
     "\u0643", "\u0653", "\u0698", "\u0670", "\u200c", "\u0654", "\u0621", ">", "<", "\u061f"],
)
# Legacy Windows "Persian" (KBDFA):
_LEGACY = (
    ["÷", "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "-", "=",
     "ض", "ص", "ث", "ق", "ف", "غ", "ع", "ه", "خ", "ح", "ج", "چ", "پ",
     "ش", "س", "ی", "ب", "ل", "ا", "ت", "ن", "م", "ک", "گ",
     "ظ", "ط", "ز", "ر", "ذ", "د", "ئ", "و", ".", "/"],
    ["×", "!", "@", "#", "$", "%", "^", "&", "*", ")", "(", "_", "+",
     "\u064b", "\u064c", "\u064d", "ريال", "\u060c", "\u061b", ",", "]", "[", "\\", "}", "{", "|",
     "\u064e", "\u064f", "\u0650", "\u0651", "\u06c0", "\u0622", "\u0640", "«", "»", ":", '"',
     "\u0629", "\u064a", "\u0698", "\u0624", "\u0625", "\u0623", "\u0621", "<", ">", "\u061f"],
)
LAYOUTS = {"standard": _STANDARD, "legacy": _LEGACY}


def _reverse(layout: tuple[list[str], list[str]]) -> dict[str, str]:
    """Typed text → the US key that typed it, for one layout."""
    base, shifted = layout
    table = dict(zip(base, US_KEYS, strict=True))
    table.update(zip(shifted, US_SHIFTED, strict=True))
    return table


REVERSE = {name: _reverse(layout) for name, layout in LAYOUTS.items()}


def unmap_layout(text: str, layout: str = "standard") -> str:
    """`text` as the US keys that typed it under a Persian `layout`; digits become ASCII."""
    table = REVERSE[layout]
    for typed, key in table.items():
        if len(typed) > 1:
            text = text.replace(typed, key)
    return to_ascii_digits("".join(table.get(ch, ch) for ch in text))


def _candidates(text: str, layout: str) -> Iterator[str]:
    """The text as it came, then as typed through each Persian layout (preferred first)."""
    yield text
    if text.isascii():
        return
    for name in sorted(LAYOUTS, key=lambda name: name != layout):
        yield unmap_layout(text, name)


# --- keyboard-wedge scanners -------------------------------------------------------------

# USB HID keyboard usage ids (SDL scancodes) of the keys a scanner presses → US characters.
HID_KEYS: dict[int, str] = {
    **{4 + i: chr(ord("a") + i) for i in range(26)},
    **{30 + i: str((i + 1) % 10) for i in range(10)},
    44: " ", 45: "-", 46: "=", 47: "[", 48: "]", 49: "\\", 51: ";", 52: "'", 53: "`",
    54: ",", 55: ".", 56: "/",
    84: "/", 85: "*", 86: "-", 87: "+", 99: ".",
    **{89 + i: str((i + 1) % 10) for i in range(10)},
}
HID_ENTER = (40, 88)
SHIFTED = dict(zip(US_KEYS, US_SHIFTED, strict=True))


class KeyboardWedgeDecoder:
    """Collects a keyboard-wedge scanner's keystrokes into scans, ended by Enter.

    Feed it either key events (`feed_key`, by HID usage id: immune to the keyboard layout)
    or typed text (`feed_text`, mapped back from a Persian layout when needed) — not both
    for the same keystrokes. A pause longer than `max_gap` seconds starts a new scan, so stray
    keystrokes do not glue onto one.
    """

    def __init__(self, on_scan: Callable[[Scan], None] | None = None, *,
                 public_base_url: str | None = None, layout: str = "standard",
                 max_gap: float = 0.3, clock: Callable[[], float] = time.monotonic) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
        self.on_scan, self.public_base_url, self.layout = on_scan, public_base_url, layout
        self.max_gap, self.clock = max_gap, clock
        self._buffer: list[str] = []
        self._last = 0.0

    def reset(self) -> None:
        self._buffer.clear()

    def _tick(self) -> None:
        now = self.clock()
        if self._buffer and now - self._last > self.max_gap:
            self._buffer.clear()
        self._last = now

    def _end(self) -> Scan | None:
        text = "".join(self._buffer)
        self._buffer.clear()
        scan = recognise(text, self.public_base_url, self.layout) if text else None
        if scan is not None and self.on_scan is not None:
            self.on_scan(scan)
        return scan

    def _add(self, text: str) -> None:
        if len(self._buffer) < MAX_SCAN_LENGTH + 1:
            self._buffer.append(text)

    def feed_key(self, usage: int, shift: bool = False) -> Scan | None:
        """One key press by HID usage id; returns the scan that Enter completed, if any."""
        self._tick()
        if usage in HID_ENTER:
            return self._end()
        key = HID_KEYS.get(usage)
        if key is not None:
            self._add(SHIFTED.get(key, key) if shift else key)
        return None

    def feed_text(self, text: str) -> Scan | None:
        """Typed characters; a CR or LF ends the scan. Returns the last completed scan."""
        found = None
        for ch in text:
            self._tick()
            if ch in TERMINATORS:
                found = self._end() or found
            else:
                self._add(ch)
        return found


# --- serial scanners ---------------------------------------------------------------------

class ScannerError(Exception):
    """The scanner's port cannot be opened."""


class SerialScanner:
    """A scanner on a serial port (or any pyserial URL), read in a background thread.

    Each CR- or LF-terminated line is recognised and, if it means something, handed to
    `on_scan` (from the reader thread). Garbage, overlong lines and a partial line left at
    `stop()` are ignored. An unplugged scanner is reopened until it comes back.
    """

    def __init__(self, url: str, on_scan: Callable[[Scan], None], *, baudrate: int = 9600,
                 public_base_url: str | None = None, poll: float = 0.05,
                 reopen_delay: float = 1.0) -> None:
        self.url, self.baudrate, self.on_scan = url, baudrate, on_scan
        self.public_base_url, self.poll, self.reopen_delay = public_base_url, poll, reopen_delay
        self.port: serial.SerialBase | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending = bytearray()
        self._overlong = False

    def _open(self) -> serial.SerialBase:
        try:
            return serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.poll)
        except (ValueError, serial.SerialException) as exc:
            raise ScannerError(f"cannot open scanner {self.url}: {exc}") from exc

    def start(self) -> None:
        """Open the port (ScannerError if it cannot be) and start reading."""
        self.port = self._open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"scanner {self.url}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.port is not None:
            self.port.close()
            self.port = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                assert self.port is not None
                data = self.port.read(max(1, self.port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                log.warning("scanner %s failed: %s", self.url, exc)
                self._reopen()
                continue
            if data:
                self.feed(bytes(data))

    def _reopen(self) -> None:
        self._pending.clear()
        if self.port is not None:
            self.port.close()
        while not self._stop.wait(self.reopen_delay):
            try:
                self.port = self._open()
                return
            except ScannerError:
                continue

    def feed(self, data: bytes) -> None:
        """Bytes from the port: complete lines are recognised, the rest waits."""
        for byte in data:
            if byte in (0x0D, 0x0A):
                self._line(bytes(self._pending))
                self._pending.clear()
            elif len(self._pending) < MAX_SCAN_LENGTH:
                self._pending.append(byte)
            else:
                self._overlong = True

    def _line(self, raw: bytes) -> None:
        overlong, self._overlong = self._overlong, False
        if overlong or not raw:
            return
        scan = recognise(raw.decode("utf-8", errors="replace"), self.public_base_url)
        if scan is None:
            return
        try:
            self.on_scan(scan)
        except Exception:  # the app's handler must not kill the reader thread
            log.exception("scan handler failed for %s", scan)
