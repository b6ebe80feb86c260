"""Kivy's configuration, set before Kivy creates its window.

Kivy reads `KIVY_*` variables and its `Config` when first imported and opens the window when
`kivy.core.window` is first imported, so these settings must come first. One window per
process is all Kivy allows.
"""

from __future__ import annotations

import os
from pathlib import Path

PORTRAIT = (1080, 1920)
_prepared: dict[str, object] = {}


def prepare_kivy(*, fullscreen: bool = True, size: tuple[int, int] | None = None,
                 kivy_home: Path | None = None, quiet: bool = False) -> None:
    """Configure Kivy for a kiosk: full screen (or a fixed window), touch input without the
    emulated-mouse duplicates, no on-screen system keyboard, Escape does not quit."""
    if _prepared:
        return
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # Kivy must not parse our command line
    if kivy_home is not None:
        kivy_home.mkdir(parents=True, exist_ok=True)
        os.environ["KIVY_HOME"] = str(kivy_home)
    from kivy.config import Config

    if fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
    else:
        Config.set("graphics", "fullscreen", "0")
        width, height = size or PORTRAIT
        Config.set("graphics", "width", str(width))
        Config.set("graphics", "height", str(height))
        Config.set("graphics", "resizable", "0")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
    Config.set("graphics", "show_cursor", "1")
    Config.set("graphics", "maxfps", "60")
    # No multisampling: flat shapes and text need none, and in software rendering (a kiosk
    # without a GPU driver, Xvfb in tests) it multiplies the cost of every frame.
    Config.set("graphics", "multisamples", "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")  # our own keyboards; no Kivy vkeyboard
    # A touchscreen sends a touch and an emulated mouse event for one tap: the mouse
    # provider ignores the mouse while a touch is active, and TapGate drops what slips through.
    Config.set("input", "mouse", "mouse,disable_on_activity,disable_multitouch")
    Config.set("kivy", "log_level", "warning" if quiet else "info")
    _prepared.update(fullscreen=fullscreen, size=size)


def window_size() -> tuple[int, int] | None:
    """`MIZ_KIOSK_WINDOW=1080x1920` runs the app in a window of that size, not full screen."""
    value = os.environ.get("MIZ_KIOSK_WINDOW", "")
    try:
        width, height = (int(part) for part in value.lower().split("x"))
    except ValueError:
        return None
    return width, height
