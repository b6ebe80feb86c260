"""Driving the kiosk app in the test window: a real touch on a widget, the screen on show,
what the printer got, what the kiosk stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.metrics import mm

from kiosk.app import harness
from kiosk.app.app import KioskShell
from kiosk.app.widgets.buttons import GATE, KioskButton
from kiosk.app.widgets.chrome import Tile
from kiosk.config import load_config
from kiosk.devices.document_scanner import FakeScanner
from kiosk.local.store import KioskStore
from kiosk.sync.engine import SyncEngine
from kiosk.sync.policy import KioskPolicy
from kiosk.usecases.kiosk import Kiosk
from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter
from shared.text import to_persian_digits
from tests.kiosk.fakes import kiosk_top, write_config
from tests.kiosk.live import PUBLIC
from tests.shared.fake_devices import READY, PtyDevice

DEMO_SCANS = Path(__file__).resolve().parents[2] / "kiosk_config" / "demo-scans"


class ManualClock:
    """A monotonic clock the test moves: the tap gate's and the idle watcher's."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in widget.children:
        yield from walk(child)


class Driver:
    """One kiosk app, its devices and its store; a person's hand on its screen."""

    def __init__(self, folder: Path, server: Any, *, printer_replies: dict[int, int] | None = None,
                 idle_seconds: float = 60.0, countdown_seconds: float = 10.0) -> None:
        self.folder, self.server = folder, server
        self.scanner = PtyDevice()
        top = kiosk_top(folder, server_url=server.url, public_base_url=PUBLIC,
                        kiosk_id=server.kiosk_id, token=server.token,
                        data_dir=str(folder / "data"))
        printer = {"backend": "file", "path": str(folder / "receipts.escpos"),
                   "paper_width_mm": 80, "qr": "native"}
        self.config = load_config(write_config(
            folder / "kiosk.toml", top, printer=printer,
            scanner={"backend": "serial", "url": self.scanner.path},
            document_scanner={"backend": "fake", "folder": str(DEMO_SCANS)}))
        self.store = KioskStore(self.config.data_dir)
        self.printer_device = FakePrinter(READY if printer_replies is None else printer_replies)
        self.kiosk = Kiosk(self.config, self.store, ReceiptPrinter(self.printer_device, 0.05),
                           FakeScanner(DEMO_SCANS),
                           # 10 s, not the kiosk's 3: a loaded CI machine answered a ticket
                           # in over 3 s once, and these tests are not about the timeout
                           policy=KioskPolicy(inline_timeout=10.0, enforce_queue_hours=False))
        self.clock = ManualClock()
        GATE.clock = self.clock
        GATE.reset()
        self.shell = KioskShell(self.kiosk, self.config, idle_seconds=idle_seconds,
                                countdown_seconds=countdown_seconds,
                                icon_folder=folder / "icons", clock=self.clock)
        self.state = self.shell.state
        harness.attach(self.shell.root)
        self.shell.start()

    def close(self) -> None:
        self.shell.stop()
        self.store.close()
        self.scanner.close()
        import time as real_time

        GATE.clock = real_time.monotonic
        GATE.reset()

    # -- looking ------------------------------------------------------------------------

    @property
    def current(self) -> str:
        return self.shell.ui.nav.current

    def screen(self, name: str | None = None) -> Any:
        return self.shell.ui.screen(name or self.current)

    def buttons(self, name: str | None = None) -> list[Any]:
        """Every button and tile on the screen (in the tree, so tappable)."""
        return [w for w in walk(self.screen(name)) if isinstance(w, (KioskButton, Tile))]

    def button(self, text: str) -> Any:
        """The one button or tile on the current screen whose text is `text`."""
        found = [w for w in self.buttons() if getattr(w, "ltext", None) == text
                 or getattr(w, "title", None) == text]
        assert len(found) == 1, (text, self.current, [getattr(w, "ltext", "") or
                                                      getattr(w, "title", "")
                                                      for w in self.buttons()])
        return found[0]

    def texts(self, name: str | None = None) -> list[str]:
        """The logical texts of every label on the screen."""
        return [w.ltext for w in walk(self.screen(name)) if getattr(w, "ltext", "")]

    def shows(self, fragment: str) -> bool:
        return any(fragment in text for text in self.texts())

    def printed(self) -> bytes:
        return bytes(self.printer_device.output)

    # -- touching -----------------------------------------------------------------------

    def tap(self, widget_or_text: Any, *, wait: bool = True) -> None:
        """A person's tap: a second or so after the last one, then a real touch."""
        widget = self.button(widget_or_text) if isinstance(widget_or_text, str) \
            else widget_or_text
        self.clock.advance(1.0)
        harness.tap(widget)
        if wait:
            self.settle()

    def settle(self, timeout: float = 20.0) -> None:
        harness.settle(self.shell, timeout)

    def type_keys(self, text: str) -> None:
        """Tap the on-screen keyboard's (or keypad's) keys, one per character."""
        screen = self.screen()
        board = self._keyboard(screen)
        for ch in text:
            key = board.keys.get(ch) or board.keys.get(to_persian_digits(ch))
            assert key is not None, f"no key {ch!r} on the {type(board).__name__}"
            self.tap(key, wait=False)
        harness.pump(2)

    @staticmethod
    def _keyboard(screen: Any) -> Any:
        from kiosk.app.widgets.keyboard import NumericKeypad, PersianKeyboard

        boards = [w for w in walk(screen) if isinstance(w, (PersianKeyboard, NumericKeypad))]
        assert boards, "no keyboard on this screen"
        return boards[0]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0,
                 what: str = "") -> None:
        harness.wait_until(predicate, timeout, what)

    def run_for(self, seconds: float) -> None:
        """Let the app run (frames, clock, threads) for `seconds` of real time."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            harness.pump(1)
            time.sleep(0.01)

    def wait_screen(self, name: str, timeout: float = 20.0) -> None:
        state = self.state
        self.wait_for(lambda: self.current == name, timeout,
                      f"the {name} screen (on {self.current}; errors: {state.file_error!r} "
                      f"{state.ticket_error!r} {state.track_error!r} {dict(state.errors)!r})")
        harness.pump(2)

    def idle_for(self, seconds: float) -> None:
        """Nobody touches the screen for `seconds` (the idle watcher's clock moves)."""
        self.clock.advance(seconds)
        self.shell.watcher.check()
        harness.pump(2)

    def sync(self) -> Any:
        """One round of the kiosk's sync with the server."""
        return SyncEngine(self.config, self.store).run_once()

    def scan_qr(self, text: str) -> None:
        """The serial QR scanner reads `text`."""
        self.scanner.send(text.encode("utf-8") + b"\r")
        time.sleep(0.05)

    def min_target_ok(self, widget: Any) -> bool:
        return widget.width >= mm(9) and widget.height >= mm(9)
