"""Putting the kiosk app together.

`KioskShell` builds the window's root from the registry of screens around one `KioskState`,
and owns what runs beside the screens: the idle watcher, the QR scanner (serial, or a USB
scanner that types like a keyboard), and the status line. `KioskApp` is a thin Kivy App
around it (`python -m kiosk --config FILE`); tests and the screenshot command use the shell
directly in a window they drive frame by frame.

Import this module only after `kiosk.app.boot.prepare_kivy()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder

from kiosk.app import theme, widgets
from kiosk.app.context import Navigator, Ui, Worker
from kiosk.app.icons import IconCache
from kiosk.app.idle import IdleWatcher
from kiosk.app.registry import SCREENS, screen_class, spec
from kiosk.app.root import KioskRoot
from kiosk.app.state import KioskState
from kiosk.config import KioskConfig
from kiosk.devices.scanner import KeyboardWedgeDecoder, Scan, ScanKind, ScannerError, SerialScanner
from kiosk.local.store import KioskStore
from kiosk.usecases.kiosk import Kiosk

log = logging.getLogger(__name__)

ROOT_KV = Path(__file__).with_name("root.kv")
#: Screens where a scanned receipt QR opens its tracking page, and a document's seal its
#: check (never in the middle of a form).
TRACK_ON_SCAN = frozenset({"home", "categories", "services", "search", "service", "track",
                           "track_result", "thanks", "verify"})
STATUS_EVERY = 10.0
_kv_loaded: list[bool] = []


class KioskShell:
    """The screens, their state, and the helpers around them; no main loop of its own."""

    def __init__(self, kiosk: Kiosk, config: KioskConfig, *, idle_seconds: float | None = None,
                 countdown_seconds: float | None = None, icon_folder: Path | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        theme.register_fonts()
        theme.T.fit(*Window.size)
        Window.bind(size=self._resized)
        Window.clearcolor = theme.GROUND  # the ground colour, without a full-screen fill
        widgets.load()
        if not _kv_loaded:
            Builder.load_file(str(ROOT_KV))
            _kv_loaded.append(True)
        self.kiosk, self.config = kiosk, config
        self.state = KioskState(
            idle_seconds=idle_seconds or config.screen.idle_seconds,
            countdown_seconds=countdown_seconds or config.screen.idle_countdown_seconds)
        self.root = KioskRoot(state=self.state)
        folder = icon_folder or Path(config.data_dir) / "cache" / "icons"
        self.ui = Ui(kiosk=kiosk, config=config, state=self.state,
                     nav=Navigator(self.root.manager, self._make_screen),
                     worker=Worker(self.state),
                     icons=IconCache(folder, size=int(160 * theme.T.scale) or 160))
        self.ui.extras["status_text"] = self.status_text
        self.ui.extras["reload_catalog"] = self.reload_catalog
        self.reload_catalog()
        # Home first, so that it shows at once; the other screens are made one per frame
        # after it (or when first needed, whichever comes first).
        self._unmade = [spec.name for spec in SCREENS if spec.name != "home"]
        self._making: Any = None
        self.watcher = IdleWatcher(self.ui, clock=clock)
        self.root.watcher = self.watcher
        self._serial: SerialScanner | None = None
        self._wedge: KeyboardWedgeDecoder | None = None
        self._status_event: Any = None
        self.ui.home()

    @staticmethod
    def _resized(_window: Any, size: tuple[int, int]) -> None:
        theme.T.fit(*size)  # every size in the kv rules follows

    # -- screens --------------------------------------------------------------------------

    def _make_screen(self, name: str) -> Any:
        if name in self._unmade:
            self._unmade.remove(name)
        return screen_class(spec(name))(self.ui, name=name)

    def make_screens_in_background(self) -> None:
        """Make the screens not yet made, one per frame."""
        if self._unmade and self._making is None:
            self._making = Clock.schedule_once(self._make_next, 0)

    def _make_next(self, *_: Any) -> None:
        self._making = None
        if self._unmade:
            self.ui.nav.screen(self._unmade[0])
            self.make_screens_in_background()

    # -- catalog and status ---------------------------------------------------------------

    def reload_catalog(self) -> None:
        """Take the kiosk's current catalog (the sync may have fetched a newer one)."""
        try:
            catalog = self.kiosk.catalog()
            version = self.kiosk.catalog_version()
        except Exception:  # keep showing the one we have
            log.exception("cannot load the catalog")
            return
        if catalog is not self.state.catalog:
            self.state.catalog = catalog
            self.state.catalog_version = version

    def status_text(self) -> str:
        try:
            return self.kiosk.status().message or ""
        except Exception:
            log.exception("cannot read the kiosk's status")
            return ""

    def _refresh_home(self, *_: Any) -> None:
        if self.ui.nav.current == "home":
            self.reload_catalog()
            self.ui.screen("home").refresh()

    # -- scanners -------------------------------------------------------------------------

    def on_scan(self, scan: Scan) -> None:
        """A receipt's QR (or a typed-in code), or a document's seal, from the scanner, on
        the UI thread."""
        self.watcher.poke()
        if self.state.busy:
            return
        if scan.kind is ScanKind.SEAL:
            self._check_seal(scan.value)
            return
        if scan.kind is not ScanKind.REQUEST:
            return
        if self.ui.nav.current not in TRACK_ON_SCAN:
            return
        from kiosk.app.screens.track import look_up

        self.state.reset()
        if self.ui.nav.current != "track":
            self.ui.nav.history = ["home"]
            self.ui.nav.go("track", remember=False)
        look_up(self.ui, scan.value)

    def _check_seal(self, text: str) -> None:
        """A document's seal: checked on the verify screen (never in the middle of a form)."""
        if self.ui.nav.current not in TRACK_ON_SCAN:
            return
        from kiosk.app.screens.verify import check_seal

        if self.ui.nav.current != "verify":
            self.state.reset()
            self.ui.nav.history = ["home"]
            self.ui.nav.go("verify", remember=False)
        check_seal(self.ui, text)

    def _scanned(self, scan: Scan) -> None:
        """From the serial reader's thread: hand over to the UI thread."""
        Clock.schedule_once(lambda _dt: self.on_scan(scan))

    def _key_down(self, _window: Any, _key: int, scancode: int, _codepoint: Any,
                  modifiers: list[str]) -> bool:
        if self._wedge is not None:
            self._wedge.feed_key(scancode, shift="shift" in modifiers)
        return False

    def start_scanner(self) -> None:
        settings = self.config.scanner
        base = self.config.public_base_url
        if settings.backend == "serial" and settings.url:
            try:
                self._serial = SerialScanner(settings.url, self._scanned,
                                             baudrate=settings.baudrate, public_base_url=base)
                self._serial.start()
            except ScannerError as exc:
                log.error("QR scanner not available: %s", exc)
                self._serial = None
        elif settings.backend == "keyboard":
            self._wedge = KeyboardWedgeDecoder(self.on_scan, public_base_url=base,
                                               layout=settings.keyboard_layout)
            Window.bind(on_key_down=self._key_down)

    # -- life -----------------------------------------------------------------------------

    def start(self) -> None:
        self.make_screens_in_background()
        self.watcher.start()
        self.start_scanner()
        self._status_event = Clock.schedule_interval(self._refresh_home, STATUS_EVERY)

    def stop(self) -> None:
        Window.unbind(size=self._resized)
        if self._making is not None:
            self._making.cancel()
            self._making = None
        self.watcher.stop()
        if self._status_event is not None:
            self._status_event.cancel()
        if self._serial is not None:
            self._serial.stop()
        if self._wedge is not None:
            Window.unbind(on_key_down=self._key_down)
        self.ui.worker.shutdown()


class KioskApp(App):
    """The full-screen kiosk: a Kivy App around a KioskShell."""

    title = "Miz kiosk"

    def __init__(self, kiosk: Kiosk, config: KioskConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kiosk, self.config_ = kiosk, config
        self.shell: KioskShell | None = None

    def load_kv(self, filename: str | None = None) -> bool:
        """No kv file named after the App: the registry loads each screen's own."""
        return False

    def build(self) -> KioskRoot:
        self.shell = KioskShell(self.kiosk, self.config_)
        return self.shell.root

    def on_start(self) -> None:
        assert self.shell is not None
        self.shell.start()

    def on_stop(self) -> None:
        if self.shell is not None:
            self.shell.stop()


def build_kiosk(config: KioskConfig, store: KioskStore, *,
                notify: Callable[[], None] | None = None) -> Kiosk:
    """The use cases over this kiosk's store, its printer and its document scanner (a device
    that cannot be opened is left out: the screens say so when it is needed)."""
    from kiosk.devices.document_scanner import ScanError, build_document_scanner
    from kiosk.devices.receipt_printer import open_printer
    from shared.devices.escpos_printer import PrinterError

    try:
        printer = open_printer(config.printer)
    except PrinterError as exc:
        log.error("receipt printer not available: %s", exc.detail)
        printer = None
    try:
        document_scanner = build_document_scanner(config.document_scanner)
    except ScanError as exc:
        log.error("document scanner not available: %s", exc.detail)
        document_scanner = None
    return Kiosk(config, store, printer, document_scanner, notify=notify)


def run(config: KioskConfig) -> int:
    """`python -m kiosk --config FILE`: the touchscreen app, with the sync in the background."""
    from kiosk.sync.engine import SyncEngine, start_background_sync

    logging.getLogger("urllib3").setLevel(logging.WARNING)  # one line per retry is noise
    store = KioskStore(config.data_dir)
    engine = SyncEngine(config, store)
    kiosk = build_kiosk(config, store, notify=engine.wake)
    stop = threading.Event()
    start_background_sync(engine, stop)
    try:
        KioskApp(kiosk, config).run()
    finally:
        stop.set()
        engine.stop()
    return 0
