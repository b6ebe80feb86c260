"""Apply: everything at a glance before it is filed; «تأیید و ثبت درخواست» files it,
prints the receipt, and shows the tracking code."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.app import theme
from kiosk.app.context import message_of
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.buttons import KioskButton
from kiosk.app.widgets.chrome import RtlBox
from kiosk.app.widgets.service_page import Card
from kiosk.app.widgets.text import Heading, Paragraph
from kiosk.app.wizard import questions_for, shown_answer, split_answers
from shared.text import to_persian_digits


def document_line(pages: int, skipped: bool) -> str:
    if pages:
        return f"{to_persian_digits(pages)} صفحه اسکن شد"
    return "ارائه نشد" if skipped else "اسکن نشده"


class ReviewScreen(KioskScreen):
    service_title = StringProperty("")

    def refresh(self) -> None:
        service = self.state.service
        box = self.ids.rows
        box.clear_widgets()
        if service is None:
            return
        self.service_title = service.title
        self.state.file_error = ""
        questions = questions_for(service)
        groups = (("مشخصات متقاضی", [q for q in questions if q.group == "applicant"]),
                  ("اطلاعات درخواست", [q for q in questions if q.group == "fields"]))
        for title, items in groups:
            if not items:
                continue
            card = Card()
            card.add_widget(Heading(ltext=title))
            for question in items:
                card.add_widget(self._row(
                    question.field.label, shown_answer(question, self.state.answers.get(
                        question.key)), lambda k=question.key: self._edit_question(k)))
            box.add_widget(card)
        if service.documents_to_ask:
            card = Card()
            card.add_widget(Heading(ltext="مدارک"))
            for document in service.documents_to_ask:
                pages = sum(s.page_count for s in self.state.scans.get(document.id, []))
                card.add_widget(self._row(
                    document.name, document_line(pages, document.id in self.state.skipped),
                    lambda d=document.id: self._edit_document(d)))
            box.add_widget(card)
        self.ids.scroll.scroll_y = 1

    def _row(self, label: str, value: str, edit: Any) -> RtlBox:
        row = RtlBox(size_hint_y=None, spacing=theme.T.gap)
        texts = BoxLayout(orientation="vertical", size_hint_y=None, spacing=theme.T.gap / 4)
        texts.add_widget(Paragraph(ltext=label, color=theme.MUTED, font_size=theme.T.small))
        texts.add_widget(Paragraph(ltext=value, bold=True))
        texts.bind(minimum_height=texts.setter("height"))
        button = KioskButton(ltext="ویرایش", kind="quiet", size_hint_x=None,
                             width=theme.T.button_height * 1.6, font_size=theme.T.body)
        button.bind(on_tap=lambda _b: edit())
        row.add_widget(texts)
        row.add_widget(button)

        def fit(*_: Any) -> None:
            row.height = max(texts.height, button.height)

        texts.bind(height=fit)
        fit()
        return row

    def _edit_question(self, key: str) -> None:
        self.ui.screen("question").edit(key)

    def _edit_document(self, document_id: str) -> None:
        self.ui.screen("documents").edit(document_id)

    def confirm(self) -> None:
        """File the request: saved first, then the receipt is printed."""
        service = self.state.service
        if service is None or self.state.filed is not None:
            return
        slug = service.slug
        applicant, fields = split_answers(questions_for(service), self.state.answers)
        documents = {doc_id: list(scans) for doc_id, scans in self.state.scans.items()
                     if scans}
        kiosk = self.ui.kiosk

        def done(filed: Any) -> None:
            # What was filed is in the kiosk's store now; the screen keeps only the code.
            self.state.clear_application()
            self.state.filed = filed
            self.state.filed_service = slug
            self.state.service_slug = slug
            self.ui.nav.history.clear()
            self.ui.nav.go("filed", remember=False)

        def failed(exc: BaseException) -> None:
            errors = getattr(exc, "errors", None)
            if isinstance(errors, dict) and errors:
                self.state.errors = dict(errors)
                keys = [q.key for q in questions_for(service)]
                first = next((k for k in keys if k in errors), None)
                if first is not None:
                    self.ui.screen("question").edit(first)
                    return
            self.state.file_error = message_of(exc)

        self.ui.worker.run(lambda: kiosk.file_request(slug, applicant, fields, documents),
                           done, failed, busy_text="در حال ثبت درخواست و چاپ رسید…")
