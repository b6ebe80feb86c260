"""Driving the app frame by frame, without Kivy's main loop: the UI tests, the screenshot
command and the benchmark put the shell's root in the window and step it themselves.

`tap(widget)` is a real touch: a motion event posted to Kivy's event loop at the widget's
place in the window, dispatched down the widget tree like a finger's."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent

_ids = count(1000)


class FingerTouch(MotionEvent):
    """A touch at a window position (pixels), as a touchscreen's driver would send it."""

    def __init__(self, x: float, y: float) -> None:
        super().__init__("finger", next(_ids), self._args(x, y), is_touch=True,
                         type_id="touch")
        self.profile = ["pos"]

    @staticmethod
    def _args(x: float, y: float) -> dict[str, float]:
        return {"x": x / max(1.0, Window.width - 1.0), "y": y / max(1.0, Window.height - 1.0)}

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        super().depack(args)

    def down(self) -> None:
        EventLoop.post_dispatch_input("begin", self)

    def up(self) -> None:
        EventLoop.post_dispatch_input("end", self)


def attach(root: Any) -> None:
    """Put `root` in the window (the only widget there)."""
    EventLoop.ensure_window()
    for child in list(Window.children):
        Window.remove_widget(child)
    Window.add_widget(root)
    pump(2)


def pump(frames: int = 1) -> None:
    """Run `frames` frames: clock, input, layout, drawing."""
    for _ in range(frames):
        EventLoop.idle()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> None:
    """Run frames until `predicate()` is true (TimeoutError after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        pump(1)
        time.sleep(0.005)


def settle(shell: Any, timeout: float = 15.0) -> None:
    """Wait for the worker to finish, then two more frames."""
    wait_until(lambda: shell.ui.worker.pending == 0, timeout, "the worker")
    pump(2)


def window_pos(widget: Any) -> tuple[float, float]:
    return widget.to_window(*widget.center)


def tap(widget: Any, frames: int = 1) -> None:
    """Touch `widget` at its centre and lift the finger, as one tap."""
    pump(1)  # lay out what the last change showed, so that the widget is where it is drawn
    x, y = window_pos(widget)
    finger = FingerTouch(x, y)
    finger.down()
    pump(frames)
    finger.up()
    pump(frames)


def screenshot(path: Path) -> Path:
    """The window as a PNG at `path`."""
    pump(2)
    made = Window.screenshot(name=str(path))
    Path(made).replace(path)
    return path
