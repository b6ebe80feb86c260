"""The kiosk's widgets. `load()` reads their kv rules once (after `boot.prepare_kivy`)."""

from __future__ import annotations

from pathlib import Path

_loaded: list[bool] = []


def load() -> None:
    """Import every widget module and load `widgets.kv` (once per process)."""
    if _loaded:
        return
    from kivy.lang import Builder

    from kiosk.app.widgets import (  # noqa: F401  (register the classes with Kivy's Factory)
        buttons,
        chrome,
        keyboard,
        qr,
        rating,
        service_page,
        text,
    )

    Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
    _loaded.append(True)
