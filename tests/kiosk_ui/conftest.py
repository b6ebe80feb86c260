"""The kiosk's UI tests: the real app in a real Kivy window, on a virtual X display.

Kivy allows one window per process, so these tests run in a pytest process of their own
(`pytest tests/kiosk_ui`; the main run ignores this folder). Before anything imports Kivy,
`pytest_configure` starts Xvfb, points DISPLAY at it, gives Kivy a temporary home, mutes
audio and fixes the window at 1080×1920 (a portrait kiosk). Each test gets a fresh app
(`ui` fixture) on a fresh kiosk store, with an in-memory printer, the demo document scans, a
serial QR scanner on a pseudo-terminal, and a real counter server over HTTP.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.catalog.schema import Catalog

SIZE = (1080, 1920)
_display: list[Any] = []


def pytest_configure(config: pytest.Config) -> None:
    """Xvfb and Kivy's settings, before any test module imports Kivy."""
    from kiosk.app.xvfb import virtual_display

    home = Path(tempfile.mkdtemp(prefix="miz-kivy-home-"))
    os.environ["KIVY_NO_ARGS"] = "1"  # or Kivy parses pytest's arguments
    os.environ["KIVY_HOME"] = str(home)
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    display = virtual_display(*SIZE)
    display.__enter__()
    _display.append(display)
    from kiosk.app.boot import prepare_kivy

    prepare_kivy(fullscreen=False, size=SIZE, kivy_home=home)
    from kivy.config import Config

    for option in list(Config.options("input")):  # no real mouse or touchscreen here
        Config.remove_option("input", option)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _display:
        _display.pop().__exit__(None, None, None)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Catalog) -> Iterator[Any]:
    """A real counter server (SQLite, the demo catalog, one registered kiosk) over HTTP."""
    from tests.kiosk.live import LiveServer

    live = LiveServer(tmp_path_factory.mktemp("server"), demo_catalog)
    live.start()
    yield live
    live.close()


@pytest.fixture
def ui(tmp_path: Path, server: Any) -> Iterator[Any]:
    """A fresh kiosk app in the window, driven by touch."""
    from tests.kiosk_ui.driver import Driver

    driver = Driver(tmp_path, server)
    try:
        yield driver
    finally:
        driver.close()
