"""QR/barcode scanners: a serial scanner driven through a pty and `loop://`, keyboard-wedge
decoding (Persian layouts included), and what a scan is recognised as."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator

import pytest

from kiosk.devices.scanner import (
    LAYOUTS,
    MAX_SCAN_LENGTH,
    US_KEYS,
    US_SHIFTED,
    KeyboardWedgeDecoder,
    Scan,
    ScanKind,
    ScannerError,
    SerialScanner,
    recognise,
    unmap_layout,
)
from shared.text import to_persian_digits
from shared.tracking_codes import damm_check_digit, format_code, new_code
from tests.shared.fake_devices import PtyDevice

BASE = "https://miz.example"
CODE = "001234567890123" + str(damm_check_digit("001234567890123"))
URL = f"{BASE}/t/{CODE}"
# The same URL scanned by a keyboard-wedge scanner while a Persian layout was active, as the
# characters arrived (keys h t t p s : / / m i z . e x a m p l e / t / and the digits):
TYPED_STANDARD = "اففحس://پهظ.ثطشپحمث/ف/" + to_persian_digits(CODE)
TYPED_LEGACY = "اففحس://ئهظ.ثطشئحمث/ف/" + CODE  # old Windows "Persian": m → ئ, ASCII digits
# A ticket URL with capitals, typed with ISIRI 9147 (A → ؤ, B → ZWNJ, 3 → ۳, _ → ـ, Z → ك):
TYPED_TICKET = "اففحس://پهظ.ثطشپحمث/ض/ؤ\u200c۳ـطك"


def scanner_on_pty(fake: PtyDevice, found: queue.Queue[Scan], **options: object
                   ) -> SerialScanner:
    scanner = SerialScanner(fake.path, found.put, public_base_url=BASE, **options)  # type: ignore[arg-type]
    scanner.start()
    return scanner


def take(found: queue.Queue[Scan], count: int) -> list[Scan]:
    return [found.get(timeout=5) for _ in range(count)]


@pytest.fixture
def pty() -> Iterator[PtyDevice]:
    fake = PtyDevice()
    yield fake
    fake.close()


def test_serial_scanner_on_a_pty_hands_recognised_scans_to_the_app(pty: PtyDevice) -> None:
    found: queue.Queue[Scan] = queue.Queue()
    scanner = scanner_on_pty(pty, found)
    try:
        pty.send(f"{URL}\r\n".encode())
        pty.send(b"\x00\xff garbage \xfe\r\n")  # noise: ignored
        pty.send(f"{format_code(CODE, persian=True)}\n".encode())  # a typed-looking code
        pty.send(b"https://evil.example/t/" + CODE.encode() + b"\r")  # someone else's site
        pty.send(f"{BASE}/q/aB3_x-Z9\r".encode())
        pty.send(f"{BASE}/t/{new_code(3)}".encode())  # no terminator yet: not a scan
        scans = take(found, 3)
        time.sleep(0.2)
        assert found.empty()
    finally:
        scanner.stop()
    assert scans == [Scan(ScanKind.REQUEST, CODE), Scan(ScanKind.REQUEST, CODE),
                     Scan(ScanKind.TICKET, "aB3_x-Z9")]
    assert scanner.port is None  # stopped cleanly, port closed


def test_a_scan_split_across_reads_is_put_together(pty: PtyDevice) -> None:
    found: queue.Queue[Scan] = queue.Queue()
    scanner = scanner_on_pty(pty, found)
    try:
        for part in (URL[:9], URL[9:20], URL[20:], "\r\n"):
            pty.send(part.encode())
            time.sleep(0.05)
        assert take(found, 1) == [Scan(ScanKind.REQUEST, CODE)]
    finally:
        scanner.stop()


def test_overlong_lines_are_dropped_and_the_next_scan_still_works(pty: PtyDevice) -> None:
    found: queue.Queue[Scan] = queue.Queue()
    scanner = scanner_on_pty(pty, found)
    try:
        pty.send(b"9" * (MAX_SCAN_LENGTH * 3) + CODE.encode() + b"\r\n")
        pty.send(CODE.encode() + b"\r\n")
        assert take(found, 1) == [Scan(ScanKind.REQUEST, CODE)]
        time.sleep(0.2)
        assert found.empty()
    finally:
        scanner.stop()


def test_a_failing_handler_does_not_stop_the_reader(pty: PtyDevice) -> None:
    found: queue.Queue[Scan] = queue.Queue()
    calls = []

    def handler(scan: Scan) -> None:
        calls.append(scan)
        if len(calls) == 1:
            raise RuntimeError("the app had a bad moment")
        found.put(scan)

    scanner = SerialScanner(pty.path, handler)
    scanner.start()
    try:
        pty.send(f"{CODE}\r{URL}\r".encode())
        assert take(found, 1) == [Scan(ScanKind.REQUEST, CODE)]
    finally:
        scanner.stop()
    assert len(calls) == 2


def test_an_unplugged_scanner_is_waited_for_and_still_stops_cleanly() -> None:
    fake = PtyDevice()
    found: queue.Queue[Scan] = queue.Queue()
    scanner = SerialScanner(fake.path, found.put, reopen_delay=0.05)
    scanner.start()
    thread = scanner._thread
    fake.close()  # the cable is pulled: reads fail, the scanner keeps trying to reopen
    time.sleep(0.3)
    assert thread is not None and thread.is_alive()
    scanner.stop()
    assert not thread.is_alive() and scanner.port is None


def test_serial_scanner_over_loop_url() -> None:
    found: queue.Queue[Scan] = queue.Queue()
    with SerialScanner("loop://", found.put, public_base_url=BASE) as scanner:
        assert scanner.port is not None
        scanner.port.write(f"{BASE}/q/Tk-42\r\nnot a code\r\n{URL}\n".encode())
        assert take(found, 2) == [Scan(ScanKind.TICKET, "Tk-42"), Scan(ScanKind.REQUEST, CODE)]


def test_a_scanner_that_cannot_be_opened_says_which() -> None:
    with pytest.raises(ScannerError, match="/dev/no-such-scanner"):
        SerialScanner("/dev/no-such-scanner", print).start()


# --- keyboard-wedge scanners -------------------------------------------------------------

def test_a_url_typed_through_the_standard_persian_layout_is_read_back() -> None:
    assert unmap_layout(TYPED_STANDARD, "standard") == URL
    decoder = KeyboardWedgeDecoder(public_base_url=BASE)
    assert decoder.feed_text(TYPED_STANDARD + "\n") == Scan(ScanKind.REQUEST, CODE)


def test_a_url_typed_through_the_legacy_windows_layout_is_read_back() -> None:
    assert unmap_layout(TYPED_LEGACY, "legacy") == URL
    for preferred in ("standard", "legacy"):
        decoder = KeyboardWedgeDecoder(public_base_url=BASE, layout=preferred)
        assert decoder.feed_text(TYPED_LEGACY + "\r") == Scan(ScanKind.REQUEST, CODE)


def test_shifted_keys_under_a_persian_layout_give_capitals() -> None:
    scans: list[Scan] = []
    decoder = KeyboardWedgeDecoder(scans.append, public_base_url=BASE)
    decoder.feed_text(TYPED_TICKET + "\r")
    assert scans == [Scan(ScanKind.TICKET, "AB3_xZ")]


def test_english_layout_text_passes_through() -> None:
    decoder = KeyboardWedgeDecoder(public_base_url=BASE)
    assert decoder.feed_text(f"{URL}\r\n") == Scan(ScanKind.REQUEST, CODE)


def hid_keys(text: str) -> list[tuple[int, bool]]:
    """The HID usage ids (and shift) a US-keyboard scanner presses to type `text`."""
    keys = {**{chr(ord("a") + i): 4 + i for i in range(26)},
            **{str((i + 1) % 10): 30 + i for i in range(10)},
            "-": 45, "/": 56, ".": 55, ";": 51}
    shifted = {":": ";", "_": "-"}
    presses = []
    for ch in text:
        if ch in shifted:
            presses.append((keys[shifted[ch]], True))
        elif ch.isupper():
            presses.append((keys[ch.lower()], True))
        else:
            presses.append((keys[ch], False))
    return presses


def test_key_events_by_hid_usage_do_not_care_about_the_layout() -> None:
    scans: list[Scan] = []
    decoder = KeyboardWedgeDecoder(scans.append, public_base_url=BASE)
    for text in (URL, f"{BASE}/q/Ab_9"):
        for usage, shift in hid_keys(text):
            assert decoder.feed_key(usage, shift) is None
        decoder.feed_key(40)  # Enter
    assert scans == [Scan(ScanKind.REQUEST, CODE), Scan(ScanKind.TICKET, "Ab_9")]


def test_a_pause_starts_a_new_scan() -> None:
    now = [0.0]
    decoder = KeyboardWedgeDecoder(public_base_url=BASE, max_gap=0.1, clock=lambda: now[0])
    decoder.feed_text("12")  # a stray touch on the keyboard
    now[0] = 5.0
    for ch in CODE:
        now[0] += 0.005
        decoder.feed_text(ch)
    assert decoder.feed_text("\r") == Scan(ScanKind.REQUEST, CODE)


def test_wedge_garbage_and_floods_are_ignored() -> None:
    decoder = KeyboardWedgeDecoder(public_base_url=BASE)
    assert decoder.feed_text("سلام دنیا\r") is None
    assert decoder.feed_text("x" * 10_000 + "\r") is None
    assert decoder.feed_text("\r\r\n") is None
    assert decoder.feed_text(CODE + "\r") == Scan(ScanKind.REQUEST, CODE)


# --- what a scan means -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    URL,
    f"{URL}/",
    f"{URL}?utm_source=receipt",
    f"{URL}#top",
    f"HTTPS://MIZ.EXAMPLE/t/{CODE}",
    f"http://miz.example/t/{CODE}",
    f"  {URL}\r\n",
    f"\u200f{URL}\u200e",
    f"{BASE}/t/{format_code(CODE)}".replace(" ", "%20"),
    CODE,
    format_code(CODE),
    format_code(CODE, persian=True),
    "-".join(CODE[i:i + 4] for i in range(0, 16, 4)),
    CODE.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
    TYPED_STANDARD,
    TYPED_LEGACY,
])
def test_receipts_and_tracking_codes_are_recognised(text: str) -> None:
    assert recognise(text, BASE) == Scan(ScanKind.REQUEST, CODE)


@pytest.mark.parametrize(("text", "ticket"), [
    (f"{BASE}/q/aB3_x-Z9", "aB3_x-Z9"),
    (f"{BASE}/q/7/", "7"),
    (TYPED_TICKET, "AB3_xZ"),
])
def test_ticket_urls_are_recognised(text: str, ticket: str) -> None:
    assert recognise(text, BASE) == Scan(ScanKind.TICKET, ticket)


def test_a_public_base_with_a_path_is_honoured() -> None:
    base = "https://gov.example/miz/"
    assert recognise(f"https://gov.example/miz/t/{CODE}", base) == Scan(ScanKind.REQUEST, CODE)
    assert recognise(f"https://gov.example/other/t/{CODE}", base) is None
    assert recognise(f"https://gov.example/t/{CODE}", base) is None


def test_without_a_public_base_only_the_shape_counts() -> None:
    assert recognise(f"https://anywhere.example/a/b/t/{CODE}") == Scan(ScanKind.REQUEST, CODE)
    assert recognise(f"https://anywhere.example/t/{CODE}/more") is None


@pytest.mark.parametrize("text", [
    "", " ", "\r\n", "hello", "سلام", CODE[:-1], CODE[:-1] + str((int(CODE[-1]) + 1) % 10),
    CODE + "0", f"{BASE}/t/", f"{BASE}/t/{CODE[:-1]}x", f"{BASE}/t/{CODE[::-1]}",
    f"https://evil.example/t/{CODE}", f"ftp://miz.example/t/{CODE}", f"{BASE}/x/{CODE}",
    f"{BASE}/q/", f"{BASE}/q/{'a' * 17}", f"{BASE}/q/a.b", f"{BASE}/q/%00", f"{BASE}/q/%ZZ",
    "http://[::1/t/" + CODE, "javascript:alert(1)", "https://", "://", "\x00" * 20,
    "9" * (MAX_SCAN_LENGTH + 1), CODE + " " * MAX_SCAN_LENGTH,
])
def test_anything_else_is_ignored(text: str) -> None:
    assert recognise(text, BASE) is None


@pytest.mark.parametrize("value", [None, 12, b"0012", ["x"], object()])
def test_non_text_is_ignored_without_raising(value: object) -> None:
    assert recognise(value, BASE) is None



SEAL = (f"https://other-host.example/v/{'a' * 24}#"
        "1" + "0123456789" * 40)  # a seal's shape: whether genuine is the check's business


def typed_with_standard_layout(text: str) -> str:
    """What arrives when a scanner types `text` on US keys under the ISIRI 9147 layout."""
    plain, shifted = LAYOUTS["standard"]
    keys = {**dict(zip(US_KEYS, plain, strict=True)), **dict(zip(US_SHIFTED, shifted,
                                                                  strict=True))}
    return "".join(keys.get(ch, ch) for ch in text)


def test_a_seal_is_recognised_whole_from_any_host_and_through_a_persian_layout() -> None:
    assert recognise(SEAL, BASE) == Scan(ScanKind.SEAL, SEAL)
    typed = typed_with_standard_layout(SEAL)
    assert "#" not in typed and recognise(typed, BASE) == Scan(ScanKind.SEAL, SEAL)
    wedge = KeyboardWedgeDecoder(public_base_url=BASE)
    assert wedge.feed_text(SEAL + "\r") == Scan(ScanKind.SEAL, SEAL)
    assert recognise(SEAL.replace("#", "#x"), BASE) is None
