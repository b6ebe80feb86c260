"""What every screen works with: the use cases, the state, navigation and a worker thread.

`Ui` bundles them and is handed to each screen when it is made (no global app object).
The use cases (`kiosk.usecases.kiosk.Kiosk`) may wait on the disk, the printer, a scanner or the
network, so they run on one worker thread, one call at a time, and their results come back
to the UI thread through Kivy's Clock; meanwhile `state.busy` shows a «لطفاً صبر کنید» layer
that also swallows taps.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kivy.clock import Clock
from kivy.uix.screenmanager import ScreenManager

from kiosk.app.icons import IconCache
from kiosk.app.state import KioskState
from kiosk.config import KioskConfig
from kiosk.usecases.kiosk import Kiosk

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = ("متأسفانه کار انجام نشد. لطفاً دوباره تلاش کنید یا از همکاران ما در "
                        "پذیرش کمک بخواهید.")


def message_of(exc: BaseException) -> str:
    """The Persian message an exception carries for the citizen, else a plain apology."""
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message.strip() else SOMETHING_WENT_WRONG


class Worker:
    """Runs use cases off the UI thread, one at a time; results return on the UI thread."""

    def __init__(self, state: KioskState) -> None:
        self.state = state
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-use-case")
        self._lock = threading.Lock()
        self.pending = 0

    def run(self, call: Callable[[], Any], done: Callable[[Any], None],
            failed: Callable[[BaseException], None] | None = None, *,
            busy_text: str = "لطفاً چند لحظه صبر کنید…", block: bool = True) -> None:
        """Run `call` on the worker; then `done(result)` or `failed(exception)` on the UI
        thread. With `block`, the «please wait» layer is up until it finishes."""
        with self._lock:
            self.pending += 1
        if block:
            self.state.busy_text = busy_text
            self.state.busy = True
        future = self._pool.submit(call)
        future.add_done_callback(
            lambda f: Clock.schedule_once(lambda _dt: self._finish(f, done, failed, block)))

    def _finish(self, future: Future[Any], done: Callable[[Any], None],
                failed: Callable[[BaseException], None] | None, block: bool) -> None:
        with self._lock:
            self.pending -= 1
            idle = self.pending == 0
        if block and idle:
            self.state.busy = False
        exc = future.exception()
        if exc is None:
            done(future.result())
            return
        if isinstance(getattr(exc, "message", None), str):  # told to the citizen as it is
            log.info("use case refused: %s: %s", type(exc).__name__, exc)
        else:
            log.error("use case failed", exc_info=exc)
        if failed is not None:
            failed(exc)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Navigator:
    """Which screen is up, and the way back. Screens are made when first needed (`make`)."""

    def __init__(self, manager: ScreenManager,
                 make: Callable[[str], Any] | None = None) -> None:
        self.manager = manager
        self.make = make
        self.history: list[str] = []

    def screen(self, name: str) -> Any:
        """The screen `name`, made now if it was not yet."""
        if not self.manager.has_screen(name) and self.make is not None:
            self.manager.add_widget(self.make(name))
        return self.manager.get_screen(name)

    @property
    def current(self) -> str:
        return str(self.manager.current)

    def go(self, name: str, *, remember: bool = True) -> None:
        self.screen(name)
        if name == self.current:
            screen = self.manager.get_screen(name)
            if hasattr(screen, "refresh"):
                screen.refresh()
            return
        if remember:
            self.history.append(self.current)
        self.manager.current = name

    def back(self) -> None:
        name = self.history.pop() if self.history else "home"
        self.screen(name)
        self.manager.current = name

    def home(self) -> None:
        self.history.clear()
        self.screen("home")
        if self.current == "home":
            screen = self.manager.get_screen("home")
            if hasattr(screen, "on_pre_enter"):
                screen.on_pre_enter()
        self.manager.current = "home"


@dataclass
class Ui:
    """The app as the screens see it."""

    kiosk: Kiosk
    config: KioskConfig
    state: KioskState
    nav: Navigator
    worker: Worker
    icons: IconCache | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def screen(self, name: str) -> Any:
        return self.nav.screen(name)

    def home(self) -> None:
        """Back to the start with everything wiped (and the newest catalog)."""
        self.state.reset()
        reload_catalog = self.extras.get("reload_catalog")
        if reload_catalog is not None:
            reload_catalog()
        self.nav.home()
