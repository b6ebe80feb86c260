"""`python -m kiosk --config FILE` starts the touchscreen app; `python -m kiosk screenshots
OUTDIR --config FILE` renders every screen with no server and an empty store. Each runs in a
process of its own: the app on a virtual display of its own (so that what is on it is the
app's, not this session's window), the screenshots on this session's."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from PIL import Image, ImageGrab

from kiosk.app.registry import SCREENS
from kiosk.app.theme import ACCENT, BRAND, GROUND
from kiosk.app.xvfb import virtual_display
from kiosk.local.store import LAST_SYNC_ERROR
from tests.kiosk.fakes import kiosk_top, write_config
from tests.kiosk_ui.conftest import SIZE

REPO = Path(__file__).resolve().parents[2]


def config_file(folder: Path) -> Path:
    top = kiosk_top(folder)  # its server address refuses at once
    printer = {"backend": "file", "path": str(folder / "receipts.escpos"),
               "paper_width_mm": 80, "qr": "native"}
    return write_config(folder / "kiosk.toml", top, printer=printer)


def env(folder: Path) -> dict[str, str]:
    return dict(os.environ, KIVY_HOME=str(folder / "kivy"), MIZ_KIOSK_WINDOW="1080x1920")


def sync_error(data_dir: Path) -> str | None:
    """The error the app's background sync recorded for its last round, if any yet."""
    database = data_dir / "kiosk.sqlite3"
    if not database.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)) as db:
            row = db.execute("SELECT value FROM state WHERE key = ?",
                             (LAST_SYNC_ERROR,)).fetchone()
    except sqlite3.Error:  # not created or migrated yet
        return None
    return str(row[0]) if row else None


def shows_the_home_screen(display: str) -> bool:
    """Whether the display shows the kiosk's home screen: its ground, its brand-coloured
    tiles and the accent of «گرفتن نوبت باجه», each on a good part of the screen."""
    picture = ImageGrab.grab(xdisplay=display).convert("RGB")
    counts = {rgb: n for n, rgb in picture.getcolors(picture.width * picture.height) or []}
    share = picture.width * picture.height // 20
    return all(counts.get(tuple(round(c * 255) for c in colour[:3]), 0) > share
               for colour in (GROUND, BRAND, ACCENT))


def test_the_app_shows_its_home_screen_and_syncs_until_stopped(tmp_path: Path) -> None:
    """The window shows the home screen, the background sync runs its rounds (against a
    server that refuses, so it records why), and the app runs until SIGTERM, then ends
    cleanly. Not there within the deadline counts as a failure."""
    with virtual_display(*SIZE) as display:
        app = subprocess.Popen([sys.executable, "-m", "kiosk", "--config",
                                str(config_file(tmp_path))], cwd=REPO,
                               env=dict(env(tmp_path), DISPLAY=display),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 90
            while not (shows_the_home_screen(display) and sync_error(tmp_path / "data")):
                assert app.poll() is None, app.communicate()[0][-3000:]
                assert time.monotonic() < deadline, "no home screen or no sync round in 90 s"
                time.sleep(0.5)
            assert "/api/v1/catalog" in (sync_error(tmp_path / "data") or "")
            time.sleep(2)
            assert app.poll() is None  # still running
        finally:
            app.terminate()
            output = app.communicate(timeout=30)[0]
    assert app.returncode == 0, output[-3000:]  # stopped cleanly, not killed or crashed
    assert "Traceback" not in output, output[-3000:]


def test_screenshots_of_every_screen_without_server_or_data(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    done = subprocess.run([sys.executable, "-m", "kiosk", "screenshots", str(out), "--config",
                           str(config_file(tmp_path))], cwd=REPO, env=env(tmp_path),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    written = [Path(line) for line in done.stdout.split()]
    assert written and all(path.is_file() for path in written)
    names = " ".join(path.stem for path in written)
    for spec in SCREENS:  # every screen has its picture
        assert any(part in names for part in {
            "home": ["home"], "categories": ["categories"], "services": ["services"],
            "search": ["search"], "service": ["service"], "question": ["apply-"],
            "documents": ["documents"], "review": ["review"], "filed": ["filed"],
            "ticket": ["ticket-pick"], "priority": ["ticket-priority"],
            "ticket_mobile": ["ticket-mobile"],
            "ticket_done": ["ticket-printed"], "track": ["track-typing"],
            "track_result": ["track-result"], "survey": ["survey"], "thanks": ["thanks"],
            "hand_over": ["hand-over"], "verify": ["verify-valid"],
        }[spec.name]), spec.name
    with Image.open(written[0]) as first:
        assert first.size == (1080, 1920)
    assert not (tmp_path / "data").exists()  # the store it used was a temporary one
