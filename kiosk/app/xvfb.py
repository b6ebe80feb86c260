"""A virtual X display (Xvfb) for running the app with no screen: tests, screenshots, the
benchmark. Used only when there is no DISPLAY, or when asked for explicitly."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SOCKETS = Path("/tmp/.X11-unix")


class NoDisplay(RuntimeError):
    """Xvfb is not installed or did not start."""


def _free_display() -> int:
    for number in range(90, 400):
        if not (SOCKETS / f"X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            return number
    raise NoDisplay("no free X display number between :90 and :399")


@contextmanager
def virtual_display(width: int = 1920, height: int = 1920, depth: int = 24,
                    timeout: float = 10.0) -> Iterator[str]:
    """Start `Xvfb :N -screen 0 WxHxD`, set DISPLAY while inside, stop it after."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise NoDisplay("Xvfb is not installed (Debian: apt-get install xvfb xauth "
                        "libgl1-mesa-dri, or run scripts/install-system-deps.sh)")
    number = _free_display()
    display = f":{number}"
    process = subprocess.Popen(
        [binary, display, "-screen", "0", f"{width}x{height}x{depth}", "-nolisten", "tcp",
         "-noreset"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not (SOCKETS / f"X{number}").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise NoDisplay(f"Xvfb {display} did not start")
        time.sleep(0.02)
    before = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if before is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = before
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
