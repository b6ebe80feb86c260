"""`python -m kiosk screenshots OUTDIR --config FILE`: every screen, with demo data, as PNG.

It needs no server, no devices and no earlier data: the kiosk runs on an empty store in a
temporary folder (so it serves the catalog bundled in `assets/catalog/`), a server address
that refuses at once, an in-memory printer and the demo scans. It drives the real screens
by touch and by their own methods, files a real request (so the code and QR are real), and
shows a ticket and a tracking answer made of demo data where those need the server.
Without a DISPLAY it starts a virtual one (Xvfb).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig
from shared.text import to_persian_digits

SIZE = (1080, 1920)
UNREACHABLE = "http://127.0.0.1:9"
DEMO_SCANS = Path(__file__).resolve().parents[2] / "kiosk_config" / "demo-scans"
READY = {1: 0x12, 2: 0x12, 4: 0x12}


def render_all(config: KioskConfig, outdir: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    """Render every screen to `outdir` (made if missing); the files written, in order."""
    outdir.mkdir(parents=True, exist_ok=True)
    if os.environ.get("DISPLAY"):
        return _render(config, outdir, size)
    from kiosk.app.xvfb import virtual_display

    with virtual_display(max(size), max(size)):
        return _render(config, outdir, size)


def _render(config: KioskConfig, outdir: Path, size: tuple[int, int]) -> list[Path]:
    work = Path(tempfile.mkdtemp(prefix="miz-kiosk-shots-"))
    try:
        from kiosk.app.boot import prepare_kivy

        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        prepare_kivy(fullscreen=False, size=size,
                     kivy_home=Path(os.environ.get("KIVY_HOME") or work / "kivy"))
        return Tour(config, work, outdir).run()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Tour:
    """Walks through every screen and photographs each."""

    def __init__(self, config: KioskConfig, work: Path, outdir: Path) -> None:
        from kiosk.app import harness
        from kiosk.app.app import KioskShell
        from kiosk.devices.document_scanner import FakeScanner
        from kiosk.local.store import KioskStore
        from kiosk.usecases.kiosk import Kiosk
        from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter

        self.h = harness
        self.config = dataclasses.replace(config, data_dir=work / "data",
                                          server_url=UNREACHABLE)
        scans = config.document_scanner.folder if config.document_scanner.backend == "fake" \
            else DEMO_SCANS
        self.store = KioskStore(self.config.data_dir)
        self.kiosk = Kiosk(self.config, self.store, ReceiptPrinter(FakePrinter(READY)),
                           FakeScanner(Path(scans or DEMO_SCANS)))
        self.shell = KioskShell(self.kiosk, self.config, icon_folder=work / "icons",
                                idle_seconds=3600)
        self.ui = self.shell.ui
        self.outdir = outdir
        self.shots: list[Path] = []
        self.code = ""
        harness.attach(self.shell.root)

    # -- helpers --------------------------------------------------------------------------

    def shot(self, name: str) -> None:
        self.h.pump(3)
        self.shots.append(self.h.screenshot(self.outdir / f"{len(self.shots) + 1:02d}-{name}.png"))

    def screen(self, name: str | None = None) -> Any:
        return self.ui.screen(name or self.ui.nav.current)

    def tap(self, widget: Any) -> None:
        from kiosk.app.widgets.buttons import GATE

        GATE.reset()  # the tour taps faster than a person; every tap is a real one
        self.h.tap(widget)
        self.h.settle(self.shell)

    def type(self, text: str) -> None:
        question = self.screen("question")
        for ch in text:
            question.key(ch)

    def next_question(self) -> None:
        self.tap(self.screen("question").ids.next)

    def tile(self, box: Any, value: str) -> Any:
        return next(w for w in box.children if getattr(w, "value", None) == value)

    # -- the tour -------------------------------------------------------------------------

    def run(self) -> list[Path]:
        steps: list[Callable[[], None]] = [self.browse, self.apply, self.documents,
                                           self.filed, self.ticket, self.track, self.search,
                                           self.verify, self.survey, self.idle]
        for step in steps:
            step()
        return self.shots

    def browse(self) -> None:
        self.shot("home")
        self.tap(self.screen("home").ids.browse)
        self.shot("categories")
        self.tap(self.tile(self.screen("categories").ids.tiles, "tour-guides"))
        self.shot("services")
        self.tap(self.tile(self.screen("services").ids.tiles, "tour-guide-card"))
        self.shot("service")
        page = self.screen("service").ids.page
        page.finish()
        self.h.pump(3)
        page.scroll_y = 0.55
        self.shot("service-steps-and-documents")
        page.scroll_y = 0.0
        self.shot("service-complaint-and-official")

    def apply(self) -> None:
        self.tap(self.screen("service").ids.apply)
        self.type("مریم کاظمی")
        self.shot("apply-name-keyboard")
        self.next_question()
        self.type("۰۰۱۲۳۴")
        self.next_question()
        self.shot("apply-national-code-error")
        question = self.screen("question")
        question.key("\b")
        self.type("۵۶۷۹")
        question.key("\b")
        question.key("\b")
        question.key("\b")
        question.key("\b")
        self.type("۴۵۶۷۹")
        self.next_question()
        self.type("۰۹۱۲۳۴۵۶۷۸۹")
        self.next_question()
        question.choose("cultural")
        self.shot("apply-one-choice")
        self.next_question()
        question.choose("en")
        question.choose("fr")
        self.shot("apply-several-choices")
        self.next_question()
        self.type("۱۴۰۴/۱۱/۲۰")
        self.shot("apply-date-keypad")
        self.next_question()
        self.type("مؤسسه آموزش عالی گردشگری اصفهان")
        self.next_question()
        self.type("کارشناسی مدیریت جهانگردی")
        self.next_question()
        question.choose("yes")
        self.shot("apply-yes-no")
        self.next_question()

    def documents(self) -> None:
        documents = self.screen("documents")
        self.shot("documents-before-scan")
        self.tap(documents.ids.scan)
        self.shot("documents-scanned")
        service = self.ui.state.service
        assert service is not None
        for document in service.documents[1:]:
            self.tap(documents.ids.next)
            if document.mandatory:
                self.tap(documents.ids.scan)
            else:
                self.shot("documents-optional")
                self.tap(documents.ids.skip)
                continue
        self.tap(documents.ids.next)
        self.shot("review")
        page = self.screen("review").ids.scroll
        page.scroll_y = 0.0
        self.shot("review-documents")

    def filed(self) -> None:
        self.tap(self.screen("review").ids.confirm)
        self.code = self.ui.state.filed.tracking_code
        self.shot("filed-code-and-qr")

    def ticket(self) -> None:
        from kiosk.usecases.tickets import Taken

        self.tap(self.screen("filed").ids.ticket)
        self.shot("ticket-priority")
        self.tap(self.screen("priority").ids.ordinary)
        state = self.ui.state
        state.ticket_service = state.ticket_service or "tour-guide-card"
        self.ui.nav.go("ticket_mobile")
        mobile = self.screen("ticket_mobile")
        for key in "0912":  # a mobile half typed: the validator's message
            mobile.key(to_persian_digits(key))
        mobile.submit()
        self.shot("ticket-mobile-invalid")
        for key in "3456789":
            mobile.key(to_persian_digits(key))
        self.shot("ticket-mobile")
        self.tap(mobile.ids.submit)
        self.shot("ticket-refused-offline")
        state.ticket = Taken(ticket_id="d3mo-T1ck3t", label_fa="ب-۰۲۳",
                             queue_title="راهنمایان و آزمون‌های گردشگری", ahead=4,
                             wait=(10, 20), printed=None, print_error=None, label="B-023",
                             online=True, issued_at=datetime.now(UTC))
        self.ui.nav.go("ticket_done", remember=False)
        self.shot("ticket-printed")
        self.ui.home()
        self.tap(self.screen("home").ids.ticket)
        self.shot("ticket-pick-a-service")

    def track(self) -> None:
        from kiosk.usecases.tracking import Tracked

        code = self.code
        self.ui.home()
        self.tap(self.screen("home").ids.track)
        track = self.screen("track")
        for ch in code[:9]:
            track.key(ch)
        self.shot("track-typing")
        service = self.kiosk.catalog().service("tour-guide-card")
        assert service is not None
        steps = [{"index": i, "title": s.title, "actor": s.actor.value,
                  "state": "done" if i < 2 else "current" if i == 2 else "pending",
                  "completed_at": None} for i, s in enumerate(service.steps)]
        filed = datetime.now(UTC) - timedelta(days=3)
        self.ui.state.tracked = Tracked(
            tracking_code=code, live=True, status="in_progress",
            status_label="در حال انجام", service=service.slug, service_title=service.title,
            submitted_at=filed, due_date=date.today() + timedelta(days=24),
            details={"steps": steps, "documents": [d.name for d in service.documents[:3]],
                     "overdue": False, "citizen_action": None,
                     "inquiries": [
                         {"title": "استعلام از شاهکار", "status_label": "انجام شد"},
                         {"title": "استعلام از قوه قضاییه (سجل کیفری)",
                          "status_label": "در انتظار پاسخ"}],
                     "deliverables": [{"id": "a" * 24, "title": service.output.title
                                       if service.output else service.title,
                                       "issued_at": datetime.now(UTC).isoformat()}]})
        self.ui.nav.go("track_result")
        self.shot("track-result")
        self.ui.nav.go("hand_over")
        for ch in "04993":
            self.screen("hand_over").key(ch)
        self.shot("hand-over-national-code")

    def verify(self) -> None:
        """A genuine seal's verdict, and a changed one's (demo facts: no server here)."""
        from kiosk.usecases.seal_check import HEADLINES, Verdict
        from shared.seals import SIGNATURE_INVALID, OutputKind, SealFacts, new_document_id

        self.ui.home()
        self.tap(self.screen("home").ids.verify)
        facts = SealFacts(new_document_id(), "1405-000123", OutputKind.card, "زهرا احمدی",
                          "049*****99", date.today() - timedelta(days=20),
                          date.today() + timedelta(days=710))
        synced = datetime.now(UTC) - timedelta(minutes=4)
        self.ui.state.verdict = Verdict("valid", HEADLINES["valid"], facts=facts,
                                        last_sync=synced)
        self.screen("verify").refresh()
        self.shot("verify-valid")
        self.ui.state.verdict = Verdict("refused", HEADLINES["refused"], SIGNATURE_INVALID,
                                        "seal_signature_invalid", last_sync=synced)
        self.screen("verify").refresh()
        self.shot("verify-refused")

    def search(self) -> None:
        self.ui.home()
        self.tap(self.screen("home").ids.search)
        search = self.screen("search")
        for ch in "کارت":
            search.key(ch)
        self.shot("search")

    def survey(self) -> None:
        self.ui.home()
        self.tap(self.screen("home").ids.survey)
        survey = self.screen("survey")
        questions = list(survey.ratings)
        if questions:
            survey.rate(questions[0], 4)
        self.shot("survey")
        self.tap(survey.ids.submit)
        self.shot("thanks")

    def idle(self) -> None:
        self.ui.home()
        self.tap(self.screen("home").ids.track)
        self.screen("track").key("۱")
        self.ui.state.idle_left = 9
        self.shot("idle-are-you-still-here")
        self.ui.home()
        self.ui.state.busy_text = "در حال ثبت درخواست و چاپ رسید…"
        self.ui.state.busy = True
        self.shot("please-wait")
        self.ui.state.busy = False
