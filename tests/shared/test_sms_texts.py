"""The SMS texts: every template keeps the tracking code's digits in order on an RTL phone and
every queue message the ticket's label as the lobby shows it; templates are checked, and a
service announces only what its citizens care about."""

from __future__ import annotations

import re

import pytest
from bidi import get_display

from shared.sms_texts import (
    DEFAULT_EVENTS,
    DEFAULT_TEMPLATES,
    LRM,
    QUEUE_TEMPLATES,
    announces,
    check_templates,
    code_in_text,
    render,
    render_queue,
)

CODE = "0010262539246768"


def visual_digit_groups(text: str) -> list[str]:
    """The runs of digits as a right-to-left phone shows the text, left to right."""
    shown = "\n".join(get_display(line, base_dir="R") for line in text.split("\n"))
    return re.findall(r"\d{4}(?:-\d{4})+", shown)


@pytest.mark.parametrize("event", sorted(DEFAULT_TEMPLATES))
def test_every_template_keeps_the_codes_digits_in_order(event: str) -> None:
    text = render(DEFAULT_TEMPLATES, event, service="صدور کارت راهنمای گردشگری", code=CODE,
                  link="https://miz.example/t/0010262539246768", step="مصاحبه در کمیسیون فنی",
                  note="گواهی دوره را دوباره بفرستید.")
    assert text is not None and "{" not in text
    for groups in visual_digit_groups(text):
        assert groups == "0010-2625-3924-6768", (event, groups)
    if "{code}" in DEFAULT_TEMPLATES[event]:
        assert visual_digit_groups(text) == ["0010-2625-3924-6768"]


def test_without_the_mark_the_groups_would_come_out_reversed() -> None:
    """What the mark is for: the bidi algorithm reverses the groups after Persian words."""
    bare = "درخواست «کارت» با کد 0010-2625-3924-6768: تأیید شد"
    assert visual_digit_groups(bare) == ["6768-3924-2625-0010"]
    assert code_in_text(CODE) == LRM + "0010-2625-3924-6768"


def test_a_template_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="approve: unknown field"):
        check_templates({**DEFAULT_TEMPLATES, "approve": "تأیید شد، {applicant_name}"})
    check_templates(DEFAULT_TEMPLATES)


def test_the_note_stands_on_its_own_line_only_when_there_is_one() -> None:
    kwargs = {"service": "خدمت", "code": CODE, "link": "https://x/t/1"}
    assert "\n\n" not in render(DEFAULT_TEMPLATES, "approve", **kwargs, note="")
    assert "\nکارت با پست فرستاده شد.\n" in render(DEFAULT_TEMPLATES, "complete", **kwargs,
                                                     note=" کارت با پست فرستاده شد. ")
    assert render(DEFAULT_TEMPLATES, "claim", **kwargs) is None  # no template: not announced


def test_a_service_announces_the_usual_events_and_only_the_steps_it_lists() -> None:
    assert {e for e in DEFAULT_TEMPLATES if announces(None, e)} == DEFAULT_EVENTS
    sms = {"steps": ["commission-interview"]}
    assert announces(sms, "advance", "commission-interview")
    assert not announces(sms, "advance", "criminal-record-inquiry")
    assert not announces(None, "advance", "commission-interview")
    assert announces({"events": ["complete"]}, "complete")
    assert not announces({"events": ["complete"]}, "submit")


# The walk-in queue's messages -----------------------------------------------------------------

def shown(text: str) -> str:
    """The text as a right-to-left phone shows it, line by line."""
    return "\n".join(get_display(line, base_dir="R") for line in text.split("\n"))


@pytest.mark.parametrize("label", ["ب-۰۱۲", "الف-۱۰۳", "A-۰۰۷"])
@pytest.mark.parametrize("event", sorted(QUEUE_TEMPLATES))
def test_a_queue_message_shows_the_ticket_as_the_lobby_does(event: str, label: str) -> None:
    text = render_queue(QUEUE_TEMPLATES, event, ticket=label, counter=12, ahead=3)
    assert text is not None and "{" not in text and len(text) <= 70  # one part
    assert get_display(label, base_dir="R") in shown(text)
    if "{counter}" in QUEUE_TEMPLATES[event]:
        assert "باجه ۱۲" in text and get_display("باجه ۱۲", base_dir="R") in shown(text)
    if "{ahead}" in QUEUE_TEMPLATES[event]:
        assert text.startswith("۳ نفر جلوی شما هستند")


def test_queue_templates_are_checked_against_their_own_fields() -> None:
    check_templates({**DEFAULT_TEMPLATES, **QUEUE_TEMPLATES})
    with pytest.raises(ValueError, match="queue_called: unknown field"):
        check_templates({"queue_called": "نوبت {ticket}، کد {code}"})
    with pytest.raises(ValueError, match="approve: unknown field"):
        check_templates({"approve": "باجه {counter}"})
    assert render_queue({}, "queue_called", ticket="ب-۰۰۱") is None  # no template, no SMS


def test_an_ask_names_the_documents_when_they_fit_and_counts_them_when_not() -> None:
    from shared.sms import parts
    from shared.sms_texts import DOCUMENT_NAMES_MAX_PARTS

    kwargs = {"service": "صدور کارت راهنمای گردشگری", "code": CODE,
              "link": "https://miz.example/t/0010262539246768"}
    named = render(DEFAULT_TEMPLATES, "request_documents", **kwargs,
                   documents=["گواهی پایان دوره آموزشی", "عکس پرسنلی"])
    assert "\nمدارک خواسته‌شده: «گواهی پایان دوره آموزشی»، «عکس پرسنلی»\n" in named
    assert parts(named) <= DOCUMENT_NAMES_MAX_PARTS
    many = [f"گواهی شماره {n} از اداره‌ای که نامش بلند است" for n in range(8)]
    counted = render(DEFAULT_TEMPLATES, "request_documents", **kwargs, documents=many,
                     note="همه را خوانا بفرستید.")
    assert "\nمدارک خواسته‌شده: ۸ مدرک (فهرست در صفحه پیگیری)\nهمه را خوانا بفرستید.\n" in counted
    assert "گواهی شماره" not in counted
    assert visual_digit_groups(counted) == ["0010-2625-3924-6768"]
    plain = render(DEFAULT_TEMPLATES, "request_documents", **kwargs, note="نامه امضا ندارد.")
    assert "مدارک خواسته‌شده" not in plain and "منتظر شماست.\nنامه امضا ندارد.\n" in plain
