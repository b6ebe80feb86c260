"""Apply, step by step: one question of the form per screen.

The answer lives in `state.answers` (the logical text, as typed on the on-screen keyboard or
keypad, or the chosen option values); «بعدی» checks it with the same validation the server
runs (`Kiosk.validate`) and shows the message right under the answer.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView

from kiosk.app import theme
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.buttons import KioskButton
from kiosk.app.widgets.keyboard import NumericKeypad, PersianKeyboard, apply_key
from kiosk.app.wizard import Question, questions_for, split_answers
from shared.catalog.schema import FieldType
from shared.forms import EMAIL_MAX_LENGTH, TEXT_MAX_LENGTH, TEXTAREA_MAX_LENGTH
from shared.text import to_persian_digits

KEYPAD_MAX = 24
YES, NO = "yes", "no"


def text_limit(question: Question) -> int:
    field = question.field
    if question.input == "keypad":
        return KEYPAD_MAX
    if field.type is FieldType.email:
        return EMAIL_MAX_LENGTH
    default = TEXTAREA_MAX_LENGTH if field.type is FieldType.textarea else TEXT_MAX_LENGTH
    return int(field.max) if field.max is not None and field.type in (
        FieldType.text, FieldType.textarea) else default


class QuestionScreen(KioskScreen):
    question = ObjectProperty(None, allownone=True)
    progress = StringProperty("")
    label = StringProperty("")
    hint = StringProperty("")
    answer_text = StringProperty("")
    error = StringProperty("")
    text_input = BooleanProperty(True)
    count = NumericProperty(0)
    service_title = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self.keyboard = PersianKeyboard()
        self.keyboard.bind(on_key=lambda _w, k: self.key(k))
        self.keypad = NumericKeypad(size_hint_x=0.72, pos_hint={"center_x": 0.5})
        self.keypad.bind(on_key=lambda _w, k: self.key(k))
        self.options: dict[str, KioskButton] = {}
        self.return_to_review = False
        self.state.fbind("answers", self._show_answer)
        self.state.fbind("errors", self._show_answer)

    # -- what is asked --------------------------------------------------------------------

    def questions(self) -> list[Question]:
        service = self.state.service
        return questions_for(service) if service is not None else []

    def refresh(self) -> None:
        questions = self.questions()
        self.count = len(questions)
        if not questions:
            return
        index = min(max(0, int(self.state.question_index)), len(questions) - 1)
        self.state.question_index = index
        question = questions[index]
        self.question = question
        self.service_title = self.state.service.title
        self.progress = (f"پرسش {to_persian_digits(index + 1)} از "
                         f"{to_persian_digits(len(questions))}")
        self.label = question.label
        self.hint = question.hint
        self.text_input = question.is_text
        self._build_input(question)
        self._show_answer()

    def _build_input(self, question: Question) -> None:
        area = self.ids.input
        area.clear_widgets()
        self.options = {}
        if question.input in ("keyboard", "latin"):
            self.keyboard.mode = "en" if question.input == "latin" else "fa"
            self.keyboard.latin_allowed = True
            area.add_widget(self.keyboard)
        elif question.input == "keypad":
            self.keypad.extra = question.keypad_extra
            area.add_widget(self.keypad)
        else:
            area.add_widget(self._choices(question))

    def _choices(self, question: Question) -> ScrollView:
        if question.input == "yesno":
            choices = [(YES, "بله"), (NO, "خیر")]
        else:
            choices = [(o.value, o.label) for o in question.field.options]
        columns = 2 if len(choices) > 4 or question.input == "yesno" else 1
        grid = GridLayout(cols=columns, orientation="rl-tb", size_hint_y=None,
                          spacing=theme.T.gap, padding=[0, 0, 0, theme.T.gap])
        grid.bind(minimum_height=grid.setter("height"))
        for value, label in choices:
            button = KioskButton(ltext=label, value=value, kind="option",
                                 font_size=theme.T.button)
            button.bind(on_tap=lambda b: self.choose(b.value))
            self.options[value] = button
            grid.add_widget(button)
        scroll = ScrollView(do_scroll_x=False, bar_width=theme.T.gap * 0.6, bar_pos_y="left",
                            scroll_type=["bars", "content"])
        scroll.add_widget(grid)
        return scroll

    def _show_answer(self, *_: Any) -> None:
        question = self.question
        if question is None:
            return
        raw = self.state.answers.get(question.key)
        self.error = self.state.errors.get(question.key, "")
        if question.is_text:
            self.answer_text = raw or ""
        for value, button in self.options.items():
            if question.input == "yesno":
                button.selected = raw is not None and bool(raw) == (value == YES)
            elif question.input == "choices":
                button.selected = value in (raw or [])
            else:
                button.selected = raw == value

    # -- answering ------------------------------------------------------------------------

    def _set(self, value: Any) -> None:
        key = self.question.key
        self.state.answers[key] = value
        if key in self.state.errors:
            del self.state.errors[key]

    def key(self, key: str) -> None:
        """A key of the on-screen keyboard or keypad."""
        question = self.question
        if question is None or not question.is_text:
            return
        text = self.state.answers.get(question.key, "") or ""
        self._set(apply_key(text, key, text_limit(question)))

    def choose(self, value: str) -> None:
        """An option tapped: chosen (one choice, yes/no) or toggled (several choices)."""
        question = self.question
        if question is None:
            return
        if question.input == "yesno":
            self._set(value == YES)
        elif question.input == "choices":
            chosen = list(self.state.answers.get(question.key) or [])
            chosen = [v for v in chosen if v != value] if value in chosen else chosen + [value]
            self._set(chosen)
        else:
            self._set(value)

    def check(self) -> str:
        """The validation message for this question's answer ("" when it is fine)."""
        questions = self.questions()
        applicant, fields = split_answers(questions, self.state.answers)
        errors = self.ui.kiosk.validate(self.state.service_slug, applicant, fields)
        return str(errors.get(self.question.key, ""))

    def next(self) -> None:
        if self.question is None:
            return
        message = self.check()
        if message:
            self.state.errors[self.question.key] = message
            self.error = message
            return
        questions = self.questions()
        if self.return_to_review:
            self.return_to_review = False
            self.ui.nav.go("review", remember=False)
        elif self.state.question_index + 1 < len(questions):
            self.state.question_index += 1
            self.refresh()
        elif self.state.service.documents_to_ask:
            self.state.document_index = 0
            self.ui.nav.go("documents")
        else:
            self.ui.nav.go("review")

    def previous(self) -> None:
        self.return_to_review = False
        if self.state.question_index > 0:
            self.state.question_index -= 1
            self.refresh()
        else:
            self.ui.nav.back()

    def edit(self, key: str) -> None:
        """From the review: show one question, then return to the review."""
        keys = [q.key for q in self.questions()]
        if key in keys:
            self.state.question_index = keys.index(key)
            self.return_to_review = True
            self.ui.nav.go("question", remember=False)
