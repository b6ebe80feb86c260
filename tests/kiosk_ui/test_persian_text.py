"""Persian on Kivy: the logical text is wrapped first, then each line shaped and reordered,
so lines keep their order; codes and phone numbers keep theirs; brackets, marks and
lam-alef come out right."""

from __future__ import annotations

from kiosk.app import harness
from kiosk.app.persian import is_rtl, layout, ltr, shape_line, wrap
from kiosk.app.widgets.text import PersianLabel, measurer
from shared.tracking_codes import format_code_rtl_safe

LONG = ("متقاضی در زمان اعلام‌شده در کمیسیون فنی معاونت گردشگری حاضر می‌شود تا مهارت "
        "ارتباطی، دانش تخصصی و تسلط او به زبان‌های خارجی اعلام‌شده سنجیده شود.")


def test_wrap_keeps_the_logical_order_of_words_and_lines() -> None:
    lines = wrap(LONG, 200, lambda text: 10.0 * len(text))
    assert len(lines) > 3
    assert " ".join(lines).split() == LONG.split()  # first line holds the first words
    assert all(10 * len(line) <= 200 for line in lines)


def test_each_line_is_shaped_on_its_own() -> None:
    shown, rtl = layout(LONG, 300, lambda text: 10.0 * len(text))
    assert rtl
    logical = wrap(LONG, 300, lambda text: 10.0 * len(text))
    assert shown == [shape_line(line) for line in logical]
    first = shown[0]
    assert first.endswith(shape_line("متقاضی"))  # drawn at the right end of the first line


def test_a_label_wraps_to_its_width_in_order() -> None:
    label = PersianLabel(ltext=LONG, font_size=36, size_hint=(None, None), width=500)
    harness.attach(label)
    label.relayout()
    harness.pump(2)
    lines = label.text.split("\n")
    assert len(lines) >= 3
    measure = measurer(label.font_name, label.font_size, label.bold)
    logical = wrap(LONG, 500 * 0.985, measure)
    assert lines == [shape_line(line) for line in logical]
    assert all(measure(line) <= 500 for line in logical)
    assert label.halign == "right"


def test_letters_join_and_digits_become_presentation_forms() -> None:
    shaped = shape_line("سلام")
    assert all(0xFB50 <= ord(ch) <= 0xFEFF for ch in shaped)  # joined forms, lam-alef one
    assert len(shaped) == 3


def test_codes_and_phone_numbers_keep_their_order() -> None:
    code = "0121725032654215"
    shown = shape_line("کد رهگیری: " + format_code_rtl_safe(code))
    assert "۰۱۲۱ ۷۲۵۰ ۳۲۶۵ ۴۲۱۵" in shown
    assert "۰۳۱-۳۲۲۲۰۰۵۰" in shape_line("تلفن: " + ltr("۰۳۱-۳۲۲۲۰۰۵۰"))


def test_brackets_are_mirrored_and_marks_follow_their_letter() -> None:
    shown = shape_line("گواهی (حداکثر سه سال)")
    assert shown.startswith("(") and shown.endswith(shape_line("گواهی"))
    assert shape_line("«نمونه»").startswith("«")
    tanwin = shape_line("لطفاً")
    assert tanwin.index("\u064b") == tanwin.index("\ufe8e") + 1  # on the alef, after it


def test_a_lam_before_an_alef_in_visual_order_is_not_a_ligature() -> None:
    assert "\u200c" in shape_line("عالی")  # lam and alef that do not belong together
    assert "\ufefc" in shape_line("اطلاعات")  # a real lam-alef is its ligature


def test_direction_of_a_paragraph() -> None:
    assert is_rtl("QR رسید خود را جلوی اسکنر بگیرید")
    assert not is_rtl("name@example.com")
    assert is_rtl("۱۲۳")
