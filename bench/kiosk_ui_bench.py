"""Kiosk touchscreen app: cold start, tap-to-screen, and «تأیید» to the printer's first byte.

    .venv/bin/python bench/kiosk_ui_bench.py [--runs 5] [--taps 20] [--confirms 10]

Runs under Xvfb (started here when there is no DISPLAY) in a 1080×1920 window, with an empty
kiosk store, the demo catalog, the demo scans, an in-memory printer and no server (its
address refuses at once). Prints the figures; asserts nothing (see bench/RESULTS-kiosk-ui.md).

1. cold start: a fresh `python` process, from its launch to the first frame of the home
   screen on the window (what `python -m kiosk --config FILE` does: imports, Kivy and its
   window, the store, the catalog, every screen), median of --runs processes;
2. tap → next screen drawn: a finger posted to Kivy's event loop on a button; from the
   moment it lifts (when a tap acts) until the first frame that shows the next screen has
   been swapped to the window (`on_flip`), for the taps of a browse-and-apply walk;
3. «تأیید» → first byte: the touch on «تأیید و ثبت درخواست» of the review screen (a
   tour-guide-card request with its six required documents scanned) until the printer gets
   the first byte of the receipt (after the request, its documents and its receipt are
   committed to the store and the receipt rendered).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import tomllib
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CONFIG = REPO / "kiosk_config" / "example-file.toml"
SIZE = (1080, 1920)
UNREACHABLE = "http://127.0.0.1:9"

CHILD = r"""
import os, sys, time, dataclasses, tomllib
from pathlib import Path
sys.path.insert(0, {repo!r})
from kiosk.app.boot import prepare_kivy
prepare_kivy(fullscreen=False, size=(1080, 1920))
from kiosk.config import parse_config
example = Path({config!r})  # the repository's example: checked as such, not as a kiosk's file
config = dataclasses.replace(parse_config(tomllib.loads(example.read_text()), example),
                             data_dir=Path({data!r}),
                             server_url={unreachable!r})
from kiosk.app.app import KioskApp, build_kiosk
from kiosk.local.store import KioskStore
from kivy.core.window import Window

class Timed(KioskApp):
    def on_start(self):
        super().on_start()
        def flipped(*_):
            if self.shell.ui.nav.current == "home":
                print("HOME-DRAWN", flush=True)
                Window.unbind(on_flip=flipped)
                self.stop()
        Window.bind(on_flip=flipped)

Timed(build_kiosk(config, KioskStore(config.data_dir)), config).run()
"""


def cold_start(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as work:
            code = CHILD.format(repo=str(REPO), config=str(CONFIG), data=f"{work}/data",
                                unreachable=UNREACHABLE)
            env = dict(os.environ, KIVY_HOME=f"{work}/kivy", SDL_AUDIODRIVER="dummy",
                       KIVY_NO_ARGS="1")
            if not os.environ.get("MIZ_BENCH_DEBUG"):
                env["KIVY_NO_CONSOLELOG"] = "1"
            start = time.perf_counter()
            child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                     stderr=None if os.environ.get("MIZ_BENCH_DEBUG") else subprocess.DEVNULL,
                                     text=True, env=env)
            assert child.stdout is not None
            for line in child.stdout:
                if line.strip() == "HOME-DRAWN":
                    times.append(time.perf_counter() - start)
                    break
            child.wait(30)
    return times


class Bench:
    """The app in this process, driven frame by frame."""

    def __init__(self, work: Path) -> None:
        from kiosk.app.boot import prepare_kivy

        prepare_kivy(fullscreen=False, size=SIZE, kivy_home=work / "kivy")
        from kivy.core.window import Window

        from kiosk.app import harness
        from kiosk.app.app import KioskShell
        from kiosk.config import parse_config
        from kiosk.devices.document_scanner import FakeScanner
        from kiosk.local.store import KioskStore
        from kiosk.usecases.kiosk import Kiosk
        from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter

        class TimedPrinter(FakePrinter):
            """Notes when the first receipt byte (not a status query) arrives."""

            first_byte: float | None = None

            def _raw(self, msg: bytes) -> None:
                if not (len(msg) == 3 and msg[:2] == b"\x10\x04") and self.first_byte is None:
                    self.first_byte = time.perf_counter()
                super()._raw(msg)

        self.h, self.window = harness, Window
        example = parse_config(tomllib.loads(CONFIG.read_text(encoding="utf-8")), CONFIG)
        config = dataclasses.replace(example, data_dir=work / "data",
                                     server_url=UNREACHABLE)
        self.printer = TimedPrinter({1: 0x12, 2: 0x12, 4: 0x12})
        self.kiosk = Kiosk(config, KioskStore(config.data_dir),
                           ReceiptPrinter(self.printer, 0.05),
                           FakeScanner(REPO / "kiosk_config" / "demo-scans"))
        self.shell = KioskShell(self.kiosk, config, icon_folder=work / "icons")
        self.ui = self.shell.ui
        harness.attach(self.shell.root)
        self.shell.start()  # as the app does: the other screens are made after home shows
        harness.wait_until(lambda: not self.shell._unmade, 30, "the screens")
        self.flips: list[float] = []
        Window.bind(on_flip=lambda *_: self.flips.append(time.perf_counter()))

    def tap_until(self, widget: Any, done: Any) -> float:
        """Seconds from the touch to the first frame swapped after `done()` holds."""
        from kiosk.app.widgets.buttons import GATE

        GATE.reset()
        self.h.pump(2)  # idle before the tap, layout done
        x, y = self.h.window_pos(widget)
        finger = self.h.FingerTouch(x, y)
        finger.down()
        self.h.pump(2)  # the finger rests on the button (it shows pressed)
        start = time.perf_counter()  # the tap is made when the finger lifts
        finger.up()
        while True:
            before = len(self.flips)
            self.h.pump(1)
            if done() and len(self.flips) > before:
                return self.flips[-1] - start

    def screen(self) -> Any:
        return self.ui.screen(self.ui.nav.current)

    def walk_taps(self, rounds: int) -> list[tuple[str, float, bool]]:
        """(step, seconds, first time): the first round shows each screen for the first
        time (its labels' textures, the category icons drawn from SVG, …)."""
        results = []
        nav = self.ui.nav
        for round_ in range(rounds):
            self.ui.home()
            self.h.pump(3)
            steps = [
                ("home → categories", lambda: self.screen().ids.browse, "categories"),
                ("categories → services", lambda: self._tile("tour-guides"), "services"),
                ("services → service page", lambda: self._tile("tour-guide-card"), "service"),
                ("service page → first question", lambda: self.screen().ids.apply,
                 "question"),
            ]
            for label, widget, target in steps:
                results.append((label, self.tap_until(widget(),
                                                      lambda t=target: nav.current == t),
                                round_ == 0))
            question = self.ui.screen("question")
            for ch in "مریم کاظمی":
                question.key(ch)
            self.h.pump(2)
            before = self.ui.state.question_index
            results.append(("«بعدی» → next question", self.tap_until(
                question.ids.next, lambda b=before, q=question: self.ui.state.question_index
                == b + 1 and q.label != "نام و نام خانوادگی"), round_ == 0))
            key = question.keypad.keys["۱"]
            results.append(("keypad key → digit shown", self.tap_until(
                key, lambda q=question: q.ids.answer.ltext.endswith("۱")), round_ == 0))
        return results

    def _tile(self, value: str) -> Any:
        return next(w for w in self.screen().ids.tiles.children
                    if getattr(w, "value", None) == value)

    def confirm_to_first_byte(self, runs: int) -> list[float]:
        from kiosk.app.wizard import questions_for

        state = self.ui.state
        catalog = state.catalog
        service = catalog.service("tour-guide-card")
        answers = {"applicant.name": "مریم کاظمی", "applicant.national_code": "۰۴۹۹۳۷۰۸۹۹",
                   "applicant.mobile": "۰۹۱۲۱۲۳۴۵۶۷", "fields.guide_type": "cultural",
                   "fields.foreign_languages": ["en"], "fields.exam_pass_date": "۱۴۰۴/۱۱/۲۰",
                   "fields.training_institute": "مؤسسه آموزش عالی اصفهان",
                   "fields.education_field": "کارشناسی گردشگری",
                   "fields.guides_association_member": True}
        assert {q.key for q in questions_for(service)} == set(answers)
        scans = {}
        for document in service.documents:
            if document.mandatory:
                scanned = self.kiosk.scan_document()
                while len(scanned.pages) > 1 and document.formats == ["jpeg"]:
                    scanned = self.kiosk.scan_document()
                scans[document.id] = [scanned]
        times = []
        for _ in range(runs):
            self.ui.home()
            state.start_application(service.slug)
            state.answers = dict(answers)
            state.scans = {k: list(v) for k, v in scans.items()}
            self.ui.nav.go("review")
            self.h.pump(3)
            self.printer.first_byte = None
            confirm = self.screen().ids.confirm
            from kiosk.app.widgets.buttons import GATE

            GATE.reset()
            x, y = self.h.window_pos(confirm)
            finger = self.h.FingerTouch(x, y)
            finger.down()
            self.h.pump(2)
            start = time.perf_counter()
            finger.up()
            while self.printer.first_byte is None:
                self.h.pump(1)
            times.append(self.printer.first_byte - start)
            self.h.settle(self.shell)
            assert self.ui.nav.current == "filed", state.file_error
        return times


def summary(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (f"median {statistics.median(ms):7.1f} ms   min {ms[0]:7.1f}   p95 {p95:7.1f}"
            f"   max {ms[-1]:7.1f}   (n={len(ms)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts")
    parser.add_argument("--taps", type=int, default=5, help="rounds of the tap walk")
    parser.add_argument("--confirms", type=int, default=10, help="«تأیید» runs")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}; window {SIZE[0]}×{SIZE[1]} on Xvfb "
          "(Mesa llvmpipe: software rendering)")
    from kiosk.app.xvfb import virtual_display

    display = virtual_display(*SIZE) if not os.environ.get("DISPLAY") else None
    if display is not None:
        display.__enter__()
    try:
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        starts = cold_start(args.runs)
        print(f"cold start → home drawn      {summary(starts)}")
        with tempfile.TemporaryDirectory() as work:
            bench = Bench(Path(work))
            taps = bench.walk_taps(args.taps)
            print(f"tap → next screen drawn      {summary([t for _, t, _ in taps])}")
            print(f"    first visit of each screen   {summary([t for _, t, f in taps if f])}")
            print(f"    later visits                 {summary([t for _, t, f in taps if not f])}")
            for label in dict.fromkeys(label for label, _, _ in taps):
                first = next(t for l, t, f in taps if l == label and f)
                again = [t for l, t, f in taps if l == label and not f]
                print(f"    {label:32} first {first * 1000:6.1f} ms; again "
                      f"{summary(again) if again else '-'}")
            confirms = bench.confirm_to_first_byte(args.confirms)
            print(f"«تأیید» → first printer byte {summary(confirms)}")
            bench.shell.stop()
    finally:
        if display is not None:
            display.__exit__(None, None, None)


if __name__ == "__main__":
    main()
