"""Idle reset: after `state.idle_seconds` without a touch, «هنوز اینجا هستید؟» counts down
`state.countdown_seconds`; a touch anywhere keeps everything, no answer wipes it all and
returns home. Nothing happens at home with nothing entered, or while a use case runs."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock

from kiosk.app.context import Ui
from kiosk.app.widgets.buttons import GATE


class IdleWatcher:
    def __init__(self, ui: Ui, clock: Callable[[], float] = time.monotonic,
                 period: float = 0.2) -> None:
        self.ui, self.clock, self.period = ui, clock, period
        self.last = clock()
        self._event: Any = None
        self.resets = 0

    def start(self) -> None:
        if self._event is None:
            self._event = Clock.schedule_interval(self.check, self.period)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def poke(self, *_: Any) -> None:
        """The citizen did something: start counting again, take the question down."""
        self.last = self.clock()
        if self.ui.state.idle_left >= 0:
            self.ui.state.idle_left = -1

    def check(self, *_: Any) -> None:
        state = self.ui.state
        if state.busy or (self.ui.nav.current == "home" and not state.has_input()):
            self.poke()
            return
        idle = self.clock() - self.last
        if idle < state.idle_seconds:
            if state.idle_left >= 0:
                state.idle_left = -1
            return
        left = state.idle_seconds + state.countdown_seconds - idle
        if left <= 0:
            self.wipe()
        else:
            state.idle_left = math.ceil(left)

    def wipe(self) -> None:
        """Everything entered goes; the next person starts at home."""
        self.resets += 1
        self.ui.home()
        GATE.reset()
        self.poke()
