"""The Persian texts of the SMS Miz sends, one template per event, and how codes sit in them.

Templates use `str.format` fields: `{service}` (the service's title), `{code}` (the tracking
code, see `code_in_text`), `{step}` (the title of the step a request reached), `{note}` (the
clerk's note to the citizen), `{note_line}` (that note on a line of its own, or nothing) and
`{link}` (the tracking page), and for an ask for documents `{documents}` (the names of the
documents asked for) and `{documents_line}` (them on a line of their own, or nothing), and
for a delivered document (`delivered`) `{document}` (its title). The
walk-in queue's messages (`QUEUE_TEMPLATES`) have their own fields: `{ticket}` (the ticket's
label as the lobby shows it, «ب-۰۱۲»), `{counter}` (the counter's number, Persian digits) and
`{ahead}` (people ahead, Persian digits). A deployment may replace any of them
(`MIZ_SMS_TEMPLATES`); `check_templates` refuses a template with a field its event does not
fill before it is ever sent.

A tracking code inside Persian text: on an RTL phone the digit groups of "0010-2625-…" come
out in reverse order, because the Unicode bidi algorithm turns digits that follow Arabic
letters into Arabic numbers (rule W2), whose separators then resolve right-to-left. A
LEFT-TO-RIGHT MARK before the code keeps them European numbers joined by their dashes (W4)
and left-to-right (W7): the groups stay in order on every phone that follows the algorithm.
A ticket's label needs no mark: its Persian digits follow its own prefix, so it reads inside a
message exactly as it reads alone on the lobby's board (with a Persian or a Latin prefix).
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

from shared.sms import parts
from shared.text import format_number, to_persian_digits

LRM = "\u200e"
# The names of the documents asked for go into an SMS while the whole text stays within this
# many parts; a longer list is only counted, and the tracking page names them.
DOCUMENT_NAMES_MAX_PARTS = 4

DEFAULT_TEMPLATES: dict[str, str] = {
    "submit": "درخواست «{service}» ثبت شد.\nکد رهگیری: {code}\nپیگیری: {link}",
    "request_documents": ("درخواست «{service}» با کد {code} منتظر شماست.{documents_line}"
                          "{note_line}\nپیگیری و ارسال مدرک: {link}"),
    "documents_provided": ("مدارک درخواست «{service}» با کد {code} رسید و بررسی آن "
                           "ادامه می‌یابد."),
    "advance": "درخواست «{service}» با کد {code}: مرحله «{step}» آغاز شد.\nپیگیری: {link}",
    "record_payment": "پرداخت هزینه درخواست «{service}» با کد {code} ثبت شد.",
    "approve": "درخواست «{service}» با کد {code} تأیید شد.{note_line}\nپیگیری: {link}",
    "reject": "درخواست «{service}» با کد {code} رد شد: {note}\nپیگیری: {link}",
    "complete": "درخواست «{service}» با کد {code} انجام شد.{note_line}\nپیگیری: {link}",
    "delivered": ("«{document}» درخواست «{service}» با کد {code} صادر شد و آماده دریافت "
                  "است.\nدریافت: {link}"),
}

# What a service announces when its catalog entry says nothing: the filing, what the citizen
# must do, the payment, the decision and the end — not every step («در حال انجام» ×4).
DEFAULT_EVENTS = frozenset({"submit", "request_documents", "documents_provided",
                            "record_payment", "approve", "reject", "complete", "delivered"})
FIELDS = frozenset({"service", "code", "step", "note", "note_line", "link", "documents",
                    "documents_line", "document"})

# The walk-in queue by SMS: near the front, called to a counter, sent on to another counter.
QUEUE_TEMPLATES: dict[str, str] = {
    "queue_near": "{ahead} نفر جلوی شما هستند.\nنوبت {ticket} — لطفاً به سالن انتظار برگردید.",
    "queue_called": "نوبت شما: باجه {counter}\nلطفاً با نوبت {ticket} به باجه {counter} بروید.",
    "queue_transferred": ("نوبت {ticket} به باجه {counter} سپرده شد؛ "
                          "هنگام فراخوان دوباره پیامک می‌گیرید."),
}
QUEUE_FIELDS = frozenset({"ticket", "counter", "ahead"})


def code_in_text(code: str) -> str:
    """A 16-digit tracking code as an SMS writes it: four groups joined by dashes, after a
    LEFT-TO-RIGHT MARK so the groups keep their order inside right-to-left text."""
    digits = "".join(ch for ch in code if ch.isdigit())
    return LRM + "-".join(digits[i:i + 4] for i in range(0, len(digits), 4))


ONE_TIME_CODE = "میز خدمت\nکد تأیید شما: {code}\nاین کد را به کسی ندهید."


def one_time_code_text(code: str) -> str:
    """A one-time code's SMS as Miz words it (a provider's approved template words its own)."""
    return ONE_TIME_CODE.format(code=code)


def check_templates(templates: Mapping[str, str]) -> None:
    """ValueError naming each template that uses a field its event does not fill."""
    problems = []
    for event, template in templates.items():
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        unknown = sorted(used - (QUEUE_FIELDS if event in QUEUE_TEMPLATES else FIELDS))
        if unknown:
            problems.append(f"{event}: unknown field(s) {', '.join(unknown)}")
    if problems:
        raise ValueError("SMS templates: " + "; ".join(problems))


def render(templates: Mapping[str, str], event: str, *, service: str, code: str, link: str,
           step: str = "", note: str = "", documents: Sequence[str] = (),
           document: str = "") -> str | None:
    """The message for `event`, or None when no template announces it. `documents` are named
    when the text stays within DOCUMENT_NAMES_MAX_PARTS parts, else only counted."""
    template = templates.get(event)
    if template is None:
        return None
    note = note.strip()

    def fill(asked: str) -> str:
        return template.format(service=service, code=code_in_text(code), link=link, step=step,
                               note=note, note_line=f"\n{note}" if note else "",
                               documents=asked, document=document,
                               documents_line=f"\nمدارک خواسته‌شده: {asked}" if asked else ""
                               ).strip()

    if not documents:
        return fill("")
    named = fill("، ".join(f"«{name}»" for name in documents))
    if parts(named) <= DOCUMENT_NAMES_MAX_PARTS:
        return named
    return fill(f"{format_number(len(documents))} مدرک (فهرست در صفحه پیگیری)")


def render_queue(templates: Mapping[str, str], event: str, *, ticket: str, counter: int = 0,
                 ahead: int = 0) -> str | None:
    """A walk-in queue message (`QUEUE_TEMPLATES`), numbers in Persian digits; None when no
    template announces `event`."""
    template = templates.get(event)
    if template is None:
        return None
    return template.format(ticket=ticket, counter=to_persian_digits(counter),
                           ahead=to_persian_digits(ahead)).strip()


def announces(sms: Mapping[str, object] | None, event: str, step: str | None = None) -> bool:
    """Whether a service whose catalog `sms:` section is `sms` (a dict, as a request keeps
    its terms) tells the citizen of `event`; an `advance` only to a listed step."""
    sms = sms or {}
    if event == "advance":
        return step is not None and step in (sms.get("steps") or [])
    events = sms.get("events")
    return event in (DEFAULT_EVENTS if events is None else events)  # type: ignore[operator]
