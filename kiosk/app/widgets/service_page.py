"""The service page: everything the directive asks for one service, scrollable by touch.

Steps, required documents, fees, duration, laws, FAQ, how to complain and follow up, and
the official responsible: the same catalog description the web page renders.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.properties import ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from kiosk.app import theme
from kiosk.app.persian import ltr
from kiosk.app.widgets.text import Heading, Paragraph
from shared.catalog.labels import ACTORS, CHANNELS, DOCUMENT_KINDS
from shared.catalog.schema import ServiceSpec
from shared.inquiries import document_not_needed
from shared.text import format_duration, format_rials, to_persian_digits

FIRST_CARDS = 1  # the title and the summary card: the top of the page


class Card(BoxLayout):
    """A white panel with a border; grows with what is in it (drawn in widgets.kv)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("padding", theme.T.pad * 0.75)
        kwargs.setdefault("spacing", theme.T.gap / 2)
        super().__init__(**kwargs)
        self.fbind("minimum_height", self._fit)

    def _fit(self, *_: Any) -> None:
        self.height = self.minimum_height


def number(n: int) -> str:
    return to_persian_digits(n)


def fee_summary(service: ServiceSpec) -> str:
    if service.fees.free:
        return "رایگان"
    return format_rials(service.fees.total_rials)


def service_sections(service: ServiceSpec) -> list[tuple[str, list[tuple[str, str]]]]:
    """The page as (section title, [(style, text)]) — style: strong, text, muted."""
    fees: list[tuple[str, str]]
    if service.fees.free:
        fees = [("strong", "این خدمت رایگان است.")]
    else:
        fees = []
        for item in service.fees.items:
            fees += [("strong", f"{item.title}: {format_rials(item.amount_rials)}"),
                     ("text", f"محل پرداخت: {item.where_paid}"),
                     ("muted", f"مبنای قانونی: {item.legal_basis}")]
        if len(service.fees.items) > 1:
            fees.append(("strong", f"جمع: {format_rials(service.fees.total_rials)}"))
    if service.fees.note:
        fees.append(("muted", service.fees.note))

    steps: list[tuple[str, str]] = []
    for i, step in enumerate(service.steps, start=1):
        who = ACTORS[step.actor]
        if step.agency:
            who = f"{who}: {step.agency}"
        steps += [("strong", f"{number(i)}. {step.title}"), ("text", step.description),
                  ("muted", f"انجام‌دهنده: {who}")]
        if step.duration:
            steps.append(("muted", "زمان: " + format_duration(step.duration.value,
                                                              step.duration.unit.value)))
        if step.legal_basis:
            steps.append(("muted", f"مبنای قانونی: {step.legal_basis}"))

    documents: list[tuple[str, str]] = []
    for document in service.documents:
        inquiry = service.inquiry_replacing(document.id)
        if inquiry is not None:
            documents += [("strong", document.name),
                          ("text", document_not_needed(inquiry.kind))]
            continue
        need = "الزامی" if document.mandatory else "اختیاری"
        documents += [("strong", f"{document.name} ({need})"),
                      ("text", document.description),
                      ("muted", DOCUMENT_KINDS[document.kind])]
    if not documents:
        documents = [("text", "این خدمت مدرکی لازم ندارد.")]

    laws = [("text", f"{law.title} — {law.reference}") for law in service.laws]
    faq: list[tuple[str, str]] = []
    for question in service.faq:
        faq += [("strong", question.question), ("text", question.answer)]
    complaint = [("text", service.complaint.how), ("text", service.complaint.follow_up),
                 ("muted", f"مرجع رسیدگی: {service.complaint.authority}")]
    if service.complaint.phone:
        complaint.append(("muted", f"تلفن: {ltr(to_persian_digits(service.complaint.phone))}"))
    person = service.responsible
    responsible = [("strong", f"{person.name}، {person.title}"), ("text", person.unit),
                   ("muted", f"تلفن: {ltr(to_persian_digits(person.phone))}"),
                   ("muted", f"ساعت پاسخ‌گویی: {person.hours}")]
    if person.email:
        responsible.append(("muted", f"پست الکترونیک: {ltr(person.email)}"))
    facts = [
        ("strong", "زمان انجام: " + format_duration(service.duration.value,
                                                    service.duration.unit.value)),
        ("strong", f"هزینه: {fee_summary(service)}"),
        ("text", "راه‌های درخواست: " + "، ".join(CHANNELS[c] for c in service.channels)),
    ]
    return [
        ("", [("text", service.summary)] + facts),
        ("مراحل انجام کار", steps),
        ("مدارک لازم", documents),
        ("هزینه", fees),
        ("قوانین و مقررات", laws),
        ("پرسش‌های متداول", faq),
        ("شکایت و پیگیری", complaint),
        ("مسئول خدمت", responsible),
    ]


class ServicePage(ScrollView):
    """A service's whole description in cards, scrolled by dragging a finger."""

    service = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("do_scroll_x", False)
        kwargs.setdefault("bar_width", theme.T.gap * 0.6)
        kwargs.setdefault("bar_pos_y", "left")  # right-to-left: the bar on the far side
        kwargs.setdefault("scroll_type", ["bars", "content"])
        super().__init__(**kwargs)
        self.body = BoxLayout(orientation="vertical", size_hint_y=None,
                              spacing=theme.T.gap, padding=[0, 0, 0, theme.T.gap])
        self.body.bind(minimum_height=self.body.setter("height"))
        self.add_widget(self.body)
        self._pending: Any = None
        self._rest: list[tuple[str, list[tuple[str, str]]]] = []
        self.fbind("service", self._build)
        self._build()

    def _build(self, *_: Any) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self.body.clear_widgets()
        self.scroll_y = 1
        if self.service is None:
            return
        self.body.add_widget(Heading(ltext=self.service.title, font_size=theme.T.title))
        sections = service_sections(self.service)
        # What fills the screen first is built at once; the rest, a card per frame after it,
        # so that the page shows without waiting for the sections below the fold.
        for section in sections[:FIRST_CARDS]:
            self.body.add_widget(self._card(*section))
        self._rest = list(sections[FIRST_CARDS:])
        if self._rest:
            self._pending = Clock.schedule_once(self._more, 0)

    def _more(self, *_: Any) -> None:
        self._pending = None
        if self._rest:
            self.body.add_widget(self._card(*self._rest.pop(0)))
        if self._rest:
            self._pending = Clock.schedule_once(self._more, 0)

    def finish(self) -> None:
        """Build whatever is still waiting (tests, screenshots)."""
        while self._rest:
            self._more()

    @staticmethod
    def _card(title: str, lines: list[tuple[str, str]]) -> Card:
        card = Card()
        if title:
            card.add_widget(Heading(ltext=title))
        for style, text in lines:
            card.add_widget(Paragraph(
                ltext=text, bold=style == "strong",
                color=theme.MUTED if style == "muted" else theme.INK,
                font_size=theme.T.small if style == "muted" else theme.T.body))
        return card
