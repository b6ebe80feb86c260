"""Track, found: the request's status and where it stands in its steps.

The state shows only the note the server says belongs to it (`note`; a server without it
sends `decision`); each step shows the notes written while the request was at it. The
documents delivered for it are listed with when they were issued, and lead to their delivery
slip (`hand_over`)."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.app import theme
from kiosk.app.persian import ltr
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.buttons import KioskButton
from kiosk.app.widgets.chrome import Notice
from kiosk.app.widgets.service_page import Card
from kiosk.app.widgets.text import Heading, Paragraph
from kiosk.sync.api_client import parse_time
from kiosk.usecases.tracking import state_note, step_notes
from shared import tracking_codes
from shared.catalog.labels import ACTORS
from shared.catalog.schema import Actor
from shared.jalali import format_date, format_datetime
from shared.text import to_persian_digits

STEP_STATES = {"done": "انجام شد", "current": "در حال انجام", "pending": "در نوبت"}
STATUS_KINDS = {"completed": "ok", "approved": "ok", "rejected": "error",
                "waiting_citizen": "warning", "refused": "error"}


def step_lines(details: Any) -> list[tuple[str, str, str, list[str]]]:
    """(number and title, state, who, its notes «date — event: text») of each step the
    server reported."""
    steps = details.get("steps") if isinstance(details, dict) else None
    rows = []
    for i, step in enumerate(steps or [], start=1):
        if not isinstance(step, dict):
            continue
        state = STEP_STATES.get(str(step.get("state")), "")
        try:
            who = ACTORS[Actor(step.get("actor"))]
        except ValueError:
            who = ""
        rows.append((f"{to_persian_digits(i)}. {step.get('title', '')}", state, who,
                     step_notes(step)))
    return rows


def inquiry_lines(details: Any) -> list[tuple[str, str | None]]:
    """«استعلام از ثبت احوال: انجام شد» for each inquiry the server reported, and what the
    citizen should do when one holds the request."""
    inquiries = details.get("inquiries") if isinstance(details, dict) else None
    return [(f"{item.get('title', '')}: {item.get('status_label', '')}", item.get("advice"))
            for item in inquiries or [] if isinstance(item, dict)]


def delivered_lines(details: Any) -> list[str]:
    """«کارت راهنمای گردشگری — صادرشده ۱۰ آذر ۱۴۰۵، ساعت ۱۰:۳۰» for each document the server
    reported delivered."""
    rows = []
    for item in (details.get("deliverables") if isinstance(details, dict) else None) or []:
        if not isinstance(item, dict):
            continue
        when = parse_time(item.get("issued_at"))
        issued = f" — صادرشده {format_datetime(when)}" if when is not None else ""
        rows.append(f"{item.get('title', '')}{issued}")
    return rows


class TrackResultScreen(KioskScreen):
    code = StringProperty("")
    service_title = StringProperty("")
    status_label = StringProperty("")
    status_kind = StringProperty("info")

    def refresh(self) -> None:
        found = self.state.tracked
        box = self.ids.body
        box.clear_widgets()
        if found is None:
            return
        self.code = ltr(tracking_codes.format_code(found.tracking_code, persian=True))
        self.service_title = found.service_title or ""
        self.status_label = found.status_label or ""
        self.status_kind = STATUS_KINDS.get(found.status, "info")
        details = found.details if isinstance(found.details, dict) else {}
        if found.note:
            box.add_widget(Notice(kind="warning", ltext=found.note))
        action = details.get("citizen_action")
        if action:
            box.add_widget(Notice(kind="warning", ltext=f"اقدام لازم از سوی شما: {action}"))
        note = state_note(details)
        if note:
            box.add_widget(Notice(kind="info", ltext=f"توضیح اداره: {note}"))
        facts = Card()
        if found.submitted_at is not None:
            facts.add_widget(Paragraph(ltext="تاریخ ثبت: " + format_datetime(found.submitted_at)))
        if found.due_date is not None:
            late = " (از موعد گذشته است)" if details.get("overdue") else ""
            facts.add_widget(Paragraph(ltext="موعد انجام: " + format_date(found.due_date) + late))
        documents = details.get("documents") or []
        if documents:
            facts.add_widget(Paragraph(ltext="مدارک دریافت‌شده: " + "، ".join(map(str, documents))))
        if facts.children:
            box.add_widget(facts)
        delivered = delivered_lines(details)
        if delivered:
            card = Card()
            card.add_widget(Heading(ltext="اسناد تحویل‌شده"))
            for line in delivered:
                card.add_widget(Paragraph(ltext=line))
            button = KioskButton(ltext="دریافت برگهٔ تحویل", size_hint_y=None,
                                 height=theme.T.button_height)
            button.bind(on_tap=lambda *_: self.hand_over())
            card.add_widget(button)
            box.add_widget(card)
        inquiries = inquiry_lines(details)
        if inquiries:
            card = Card()
            card.add_widget(Heading(ltext="استعلام‌ها"))
            for line, advice in inquiries:
                card.add_widget(Paragraph(ltext=line))
                if advice:
                    card.add_widget(Notice(kind="warning", ltext=advice))
            box.add_widget(card)
        rows = step_lines(details)
        if rows:
            card = Card()
            card.add_widget(Heading(ltext="مراحل انجام کار"))
            for title, state, who, notes in rows:
                current = state == STEP_STATES["current"]
                card.add_widget(Paragraph(ltext=title, bold=True,
                                          color=theme.BRAND_DARK if current else theme.INK))
                line = "، ".join(part for part in (state, who) if part)
                card.add_widget(Paragraph(ltext=line, font_size=theme.T.small,
                                          color=theme.OK if state == STEP_STATES["done"]
                                          else theme.MUTED))
                for line in notes:
                    card.add_widget(Paragraph(ltext=line, font_size=theme.T.small))
            box.add_widget(card)
        self.ids.scroll.scroll_y = 1

    def hand_over(self) -> None:
        self.state.clear_hand_over()
        self.ui.nav.go("hand_over")

    def another(self) -> None:
        self.state.clear_tracking()
        self.ui.nav.go("track", remember=False)
