"""The survey (faces and stars, sent once), the idle reset that wipes what was entered, and
one tap being one action however the touchscreen reports it."""

from __future__ import annotations

from typing import Any

from kivy.metrics import mm

from counter_server.models import SurveyAnswer, Ticket
from kiosk.app import harness
from kiosk.app.registry import SCREENS
from kiosk.app.widgets.rating import Rating
from tests.kiosk_ui.driver import walk


def ratings(ui: Any) -> list[Rating]:
    return [w for w in walk(ui.screen()) if isinstance(w, Rating)]


def test_the_survey_is_answered_by_touch_and_sent_once(ui: Any) -> None:
    before = ui.server.count(SurveyAnswer)
    ui.tap("آیا از خدمت راضی بودید؟")
    assert ui.current == "survey"
    survey = ui.kiosk.survey_for(None)
    assert len(ratings(ui)) == len(survey.questions)
    assert {q.id: ui.screen().ratings[q.id].scale for q in survey.questions} == \
        {q.id: q.scale for q in survey.questions}  # faces or stars, as the catalog says
    assert ui.screen().ids.submit.disabled  # nothing answered yet
    first, second = (ui.screen().ratings[q.id] for q in survey.questions[:2])
    ui.tap(first.choices[4])  # a face: «راضی»
    ui.tap(second.choices[5])  # five stars
    assert dict(ui.state.survey_answers) == {survey.questions[0].id: 4,
                                             survey.questions[1].id: 5}
    submit = ui.screen().ids.submit
    assert not submit.disabled
    # A double tap (a finger that bounces, a touch plus its emulated mouse click):
    harness.tap(submit)
    harness.tap(submit)
    ui.settle()
    assert ui.current == "thanks"
    queued = [r for r in ui.store.pending() if r.kind == "survey"]
    assert len(queued) == 1 and queued[0].body["answers"] == dict(ui.state.survey_answers)
    assert ui.sync().ok
    assert ui.server.count(SurveyAnswer) == before + 1
    ui.tap("صفحهٔ اصلی")
    assert ui.current == "home" and not ui.state.survey_answers


def test_after_a_ticket_the_survey_is_about_it(ui: Any) -> None:
    ui.tap("گرفتن نوبت باجه")
    ui.tap("صدور کارت راهنمای گردشگری")
    ui.tap("نوبت عادی")
    ui.tap("گرفتن نوبت")
    ui.wait_screen("ticket_done")
    ticket = ui.state.ticket.ticket_id
    ui.tap("پایان")
    assert ui.shows("صدور کارت راهنمای گردشگری")  # «دربارهٔ خدمت …»
    question = ui.kiosk.survey_for("tour-guide-card").questions[0]
    ui.tap(ui.screen().ratings[question.id].choices[2])
    ui.tap("ثبت نظر")
    assert ui.current == "thanks"
    [record] = [r for r in ui.store.pending() if r.kind == "survey"]
    assert record.body["ticket_id"] == ticket and record.body["service"] == "tour-guide-card"


def test_idle_asks_then_wipes_everything_entered(ui: Any) -> None:
    ui.tap("مشاهدهٔ خدمت‌ها و ثبت درخواست")
    ui.tap("راهنمایان و آموزش گردشگری")
    ui.tap("صدور کارت راهنمای گردشگری")
    ui.tap("ثبت درخواست")
    ui.type_keys("مریم")
    assert ui.screen().ids.answer.ltext == "مریم"
    idle, countdown = ui.state.idle_seconds, ui.state.countdown_seconds

    ui.idle_for(idle - 1)
    assert ui.state.idle_left == -1  # not yet
    ui.idle_for(2)
    assert ui.state.idle_left > 0
    layer = ui.shell.root.idle_layer
    assert layer.parent is ui.shell.root  # «هنوز اینجا هستید؟» is on screen
    assert any(getattr(w, "ltext", "") == "هنوز اینجا هستید؟" for w in walk(layer))
    ui.tap(next(w for w in walk(layer) if getattr(w, "ltext", "") == "بله، ادامه می‌دهم"))
    assert ui.state.idle_left == -1 and layer.parent is None
    assert ui.current == "question" and ui.state.answers["applicant.name"] == "مریم"

    ui.idle_for(idle + 1)
    assert ui.state.idle_left > 0
    ui.idle_for(countdown)  # nobody answered
    assert ui.current == "home"
    assert ui.state.answers == {} and ui.state.service_slug == "" and not ui.state.has_input()
    assert layer.parent is None
    assert ui.screen("question").ids.answer.ltext == ""  # wiped from the screen too
    assert ui.shell.watcher.resets == 1


def test_idle_never_interrupts_home_or_a_running_task(ui: Any) -> None:
    ui.idle_for(ui.state.idle_seconds * 3)
    assert ui.state.idle_left == -1 and ui.current == "home"
    ui.tap("پیگیری درخواست")
    ui.state.busy = True  # e.g. printing
    ui.idle_for(ui.state.idle_seconds * 3)
    assert ui.state.idle_left == -1 and ui.current == "track"
    ui.state.busy = False


def test_one_tap_is_one_action(ui: Any) -> None:
    before = ui.server.count(Ticket)
    ui.tap("گرفتن نوبت باجه")
    ui.tap("صدور کارت راهنمای گردشگری")
    ui.tap("نوبت عادی")
    take = ui.button("گرفتن نوبت")
    # The touchscreen's touch and its emulated mouse event arrive for the same tap:
    harness.tap(take)
    harness.tap(take)
    ui.settle()
    assert ui.current == "ticket_done"
    assert ui.server.count(Ticket) == before + 1
    # The duplicate also lands on the next screen, where the same spot is another button:
    ui.tap("پایان")
    assert ui.current == "survey"

    ui.shell.ui.home()
    ui.tap("پیگیری درخواست")
    one = ui.screen().ids.keypad.keys["۱"]
    harness.tap(one)
    harness.tap(one)  # the bounce is dropped …
    ui.tap(ui.screen().ids.keypad.keys["۲"])  # … a different key right after is not
    assert ui.state.track_code == "۱۲"


def test_every_button_is_a_big_enough_target(ui: Any) -> None:
    ui.state.start_application("tour-guide-card")
    ui.state.category = "tour-guides"
    small = []
    for spec in SCREENS:
        ui.shell.ui.nav.go(spec.name)
        harness.pump(3)
        for widget in ui.buttons():
            if widget.width < mm(9) or widget.height < mm(9):
                small.append((spec.name, getattr(widget, "ltext", ""), widget.size))
    assert not small
