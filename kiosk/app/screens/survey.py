"""Survey: one to three questions, answered with faces or stars; sent once (the kiosk's
outbox and the server's client id make it idempotent, the screen sends it only once)."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.app import theme
from kiosk.app.context import message_of
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.rating import Rating
from kiosk.app.widgets.text import Paragraph

NO_SURVEY = "برای این خدمت نظرسنجی‌ای تعریف نشده است."


class SurveyScreen(KioskScreen):
    answered = BooleanProperty(False)
    about = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self.ratings: dict[str, Rating] = {}

    def refresh(self) -> None:
        box = self.ids.questions
        box.clear_widgets()
        self.ratings = {}
        state = self.state
        slug = state.survey_service or None
        catalog = state.catalog
        service = catalog.service(slug) if catalog is not None and slug else None
        self.about = f"دربارهٔ خدمت «{service.title}»" if service is not None else ""
        survey = self.ui.kiosk.survey_for(slug)
        if survey is None:
            state.survey_error = NO_SURVEY
            return
        state.survey_error = ""
        for question in survey.questions:
            box.add_widget(Paragraph(ltext=question.text, font_size=theme.T.heading, bold=True))
            rating = Rating(scale=question.scale, size_hint_y=None,
                            height=theme.T.button_height * 2.2,
                            value=int(state.survey_answers.get(question.id, 0)))
            rating.bind(value=lambda r, v, q=question.id: self._answer(q, v))
            self.ratings[question.id] = rating
            box.add_widget(rating)
        self.answered = bool(state.survey_answers)

    def _answer(self, question: str, value: int) -> None:
        if value:
            self.state.survey_answers[question] = int(value)
        self.answered = bool(self.state.survey_answers)

    def rate(self, question: str, value: int) -> None:
        """Answer a question (what tapping a face or a star does)."""
        self.ratings[question].value = value

    def submit(self) -> None:
        state = self.state
        if state.survey_sent or not state.survey_answers:
            return
        state.survey_sent = True  # one tap, one answer: a second tap finds it sent
        answers = {k: int(v) for k, v in state.survey_answers.items()}
        kiosk = self.ui.kiosk
        service = state.survey_service or None
        code = state.survey_tracking_code or None
        ticket = state.survey_ticket_id or None

        def failed(exc: BaseException) -> None:
            state.survey_sent = False
            state.survey_error = message_of(exc)

        self.ui.worker.run(
            lambda: kiosk.answer_survey(answers, service=service, tracking_code=code,
                                        ticket_id=ticket),
            lambda _none: self.ui.nav.go("thanks", remember=False), failed,
            busy_text="در حال ثبت نظر شما…")

    def skip(self) -> None:
        self.ui.nav.go("thanks", remember=False)
