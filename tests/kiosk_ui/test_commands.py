"""`python -m kiosk --config FILE` starts the touchscreen app; `python -m kiosk screenshots
OUTDIR --config FILE` renders every screen with no server and an empty store. Each runs in a
process of its own, on this session's virtual display."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from kiosk.app.registry import SCREENS
from tests.kiosk.fakes import kiosk_top, write_config

REPO = Path(__file__).resolve().parents[2]


def config_file(folder: Path) -> Path:
    top = kiosk_top(folder)  # its server address refuses at once
    printer = {"backend": "file", "path": str(folder / "receipts.escpos"),
               "paper_width_mm": 80, "qr": "native"}
    return write_config(folder / "kiosk.toml", top, printer=printer)


def env(folder: Path) -> dict[str, str]:
    return dict(os.environ, KIVY_HOME=str(folder / "kivy"), MIZ_KIOSK_WINDOW="1080x1920")


def test_the_app_starts_and_keeps_running_until_stopped(tmp_path: Path) -> None:
    app = subprocess.Popen([sys.executable, "-m", "kiosk", "--config",
                            str(config_file(tmp_path))], cwd=REPO, env=env(tmp_path),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and app.poll() is None:
            if (tmp_path / "data" / "kiosk.sqlite3").exists():
                break
            time.sleep(0.2)
        time.sleep(3)
        assert app.poll() is None, app.communicate()[0][-3000:]
    finally:
        app.terminate()
        output = app.communicate(timeout=30)[0]
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
            "ticket_done": ["ticket-printed"], "track": ["track-typing"],
            "track_result": ["track-result"], "survey": ["survey"], "thanks": ["thanks"],
        }[spec.name]), spec.name
    with Image.open(written[0]) as first:
        assert first.size == (1080, 1920)
    assert not (tmp_path / "data").exists()  # the store it used was a temporary one
