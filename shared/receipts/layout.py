"""What a receipt says, as one description that every output renders the same way.

A `Receipt` is a tuple of small blocks, top to bottom. The blocks hold logical Persian text
(never reshaped or reordered: the renderers do that) and know nothing of paper widths; the
paper gives every named size its pixels. The PNG preview (`render_png.to_png`) and the
printer's bytes (`render_escpos.to_escpos`) are both made from this one description.

The builders — `request_receipt`, `queue_ticket`, `delivery_slip`, `printer_test_page` — take
plain values
(strings, numbers, dates), so that the counter server and the kiosk call them alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from shared.jalali import format_date, format_datetime
from shared.text import format_duration, format_number, to_persian_digits
from shared.tracking_codes import LRI, PDI, format_code, normalize

Align = Literal["right", "center", "left"]

# Blocks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A paragraph of text, wrapped by words to the paper width.

    The direction follows the text: right-to-left when it holds any Persian letter, else
    left-to-right. `fit=True` keeps the text on one line and shrinks the type until it fits
    (for the ticket number) instead of wrapping.
    """

    text: str
    size: str = "normal"
    bold: bool = False
    align: Align = "right"
    fit: bool = False


@dataclass(frozen=True)
class Field:
    """A label on the right and its value on the left of one row; on two rows if too long."""

    label: str
    value: str
    size: str = "normal"


@dataclass(frozen=True)
class Bullet:
    """One item of a list: a bullet at the right edge, the text wrapped beside it."""

    text: str
    size: str = "normal"


@dataclass(frozen=True)
class Code:
    """A tracking code, large, in groups of four drawn left to right (never reordered)."""

    code: str
    persian: bool = True

    @property
    def groups(self) -> tuple[str, ...]:
        """The code's groups of four digits, left to right: ("۰۱۲۳", "۴۵۶۷", …)."""
        return tuple(format_code(self.code, persian=self.persian).split(" "))


@dataclass(frozen=True)
class Qr:
    """A QR code of `data` (error correction level M), centred."""

    data: str


@dataclass(frozen=True)
class Logo:
    """An image file (PNG, JPEG, BMP … or SVG), centred, `width_mm` wide."""

    path: str
    width_mm: float = 16


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the text width."""

    dashed: bool = False


@dataclass(frozen=True)
class Ruler:
    """Tick marks every millimetre across the whole paper (printer test page)."""


@dataclass(frozen=True)
class Gap:
    """Blank paper, `mm` millimetres high."""

    mm: float = 2


Block = Line | Field | Bullet | Code | Qr | Logo | Rule | Ruler | Gap


@dataclass(frozen=True)
class Receipt:
    """A receipt: its kind ("request", "ticket", "test") and its blocks, top to bottom."""

    kind: str
    blocks: tuple[Block, ...]

    @property
    def qr_data(self) -> tuple[str, ...]:
        """The data of every QR code on the receipt, top to bottom."""
        return tuple(block.data for block in self.blocks if isinstance(block, Qr))


# Addresses ---------------------------------------------------------------------------------


def tracking_url(public_base_url: str, tracking_code: str) -> str:
    """The public tracking page of a request: `<public_base_url>/t/<16 digits>`."""
    return f"{public_base_url.rstrip('/')}/t/{normalize(tracking_code)}"


def ticket_url(public_base_url: str, ticket_id: str) -> str:
    """The public page of a queue ticket: `<public_base_url>/q/<ticket id>`."""
    if not ticket_id:
        raise ValueError("a ticket needs its public id")
    return f"{public_base_url.rstrip('/')}/q/{quote(ticket_id, safe='')}"


def ltr(text: str) -> str:
    """`text` in a left-to-right isolate (LRI … PDI): a phone number or an address inside
    Persian text keeps its order («۰۳۱-۳۲۲۲۰۰۰۰», not «۳۲۲۲۰۰۰۰-۰۳۱»)."""
    return f"{LRI}{text}{PDI}"


def _site(public_base_url: str) -> str:
    """The address as printed for typing: no scheme, no trailing slash."""
    return public_base_url.split("://", 1)[-1].rstrip("/")


# Labels ------------------------------------------------------------------------------------

CHANNELS = {"kiosk": "کیوسک", "counter": "باجه", "online": "میز خدمت اینترنتی"}

REQUEST_TITLE = "رسید ثبت درخواست"
TICKET_TITLE = "نوبت شما"
TEST_TITLE = "صفحهٔ آزمایش چاپگر"
DELIVERY_TITLE = "برگهٔ تحویل سند"


def channel_label(channel: str, place: str = "") -> str:
    """Where a request was filed: ("kiosk", "سالن انتظار") → «کیوسک سالن انتظار»."""
    try:
        label = CHANNELS[channel]
    except KeyError:
        raise ValueError(f"unknown channel {channel!r}; one of {sorted(CHANNELS)}") from None
    place = to_persian_digits(place.strip())
    return f"{label} {place}" if place else label


def wait_label(wait_minutes: int | tuple[int, int] | None) -> str:
    """An estimated wait: 12 → «۱۲ دقیقه», (10, 30) → «۱۰ تا ۳۰ دقیقه», None → «نامشخص»."""
    if wait_minutes is None:
        return "نامشخص"
    if isinstance(wait_minutes, tuple):
        low, high = wait_minutes
        if low > high or low < 0:
            raise ValueError(f"bad wait range {wait_minutes!r}")
        if low == high:
            return wait_label(low)
        return f"{format_number(low)} تا {format_number(high)} دقیقه"
    if wait_minutes < 0:
        raise ValueError(f"negative wait {wait_minutes!r}")
    if wait_minutes == 0:
        return "کمتر از ۱ دقیقه"
    return f"{format_number(wait_minutes)} دقیقه"


def _due_label(due: date | datetime) -> str:
    return format_datetime(due) if isinstance(due, datetime) else format_date(due)


def deadline_label(duration: int | None, unit: str, due: date | datetime | None) -> str | None:
    """«۵ روز کاری (تا ۱۰ آذر ۱۴۰۵)», or the part that is known, or None."""
    if duration is None:
        return f"تا {_due_label(due)}" if due is not None else None
    text = format_duration(duration, unit)
    return f"{text} (تا {_due_label(due)})" if due is not None else text


def _header(agency_name: str, logo: str | Path | None, title: str) -> list[Block]:
    blocks: list[Block] = []
    if logo is not None:
        blocks += [Logo(str(logo)), Gap(1)]
    blocks += [
        Line(agency_name, size="normal", bold=True, align="center"),
        Gap(1),
        Line(title, size="large", bold=True, align="center"),
        Rule(),
    ]
    return blocks


# Builders ----------------------------------------------------------------------------------


def request_receipt(
    *,
    agency_name: str,
    service_title: str,
    tracking_code: str,
    public_base_url: str,
    filed_at: datetime,
    channel: str,
    place: str = "",
    documents: Iterable[str] = (),
    duration: int | None = None,
    duration_unit: str = "working_days",
    due: date | datetime | None = None,
    logo: str | Path | None = None,
    phone: str | None = None,
) -> Receipt:
    """The receipt of a request filed at a kiosk or a counter.

    `tracking_code` is the request's code (any digits; validated); `filed_at` the instant
    (naive = UTC), shown as Tehran time; `channel` "kiosk", "counter" or "online" and
    `place` the kiosk's or counter's name («سالن انتظار», «۳»); `documents` the titles of
    the documents received; `duration`/`duration_unit` the promised time ("working_days" or
    "working_hours") and `due` the expected date the caller computed on the work calendar;
    `logo` an image file; `phone` the agency's phone for questions.
    """
    url = tracking_url(public_base_url, tracking_code)
    blocks = _header(agency_name, logo, REQUEST_TITLE)
    blocks += [
        Line("خدمت درخواستی", size="small", align="center"),
        Line(service_title, bold=True, align="center"),
        Rule(dashed=True),
        Line("کد رهگیری", align="center"),
        Code(normalize(tracking_code)),
        Qr(url),
        Line(
            "برای پیگیری، کد\u00a0QR را با تلفن همراه بخوانید "
            "یا کد رهگیری را در این نشانی وارد کنید:",
            size="small",
            align="center",
        ),
        Line(f"{_site(public_base_url)}/t", size="small", align="center"),
        Rule(dashed=True),
        Field("تاریخ ثبت", format_datetime(filed_at)),
        Field("محل ثبت", channel_label(channel, place)),
    ]
    deadline = deadline_label(duration, duration_unit, due)
    if deadline is not None:
        blocks.append(Field("مهلت انجام", deadline))
    documents = [doc.strip() for doc in documents if doc.strip()]
    if documents:
        blocks.append(Line("مدارک دریافت‌شده:", bold=True))
        blocks += [Bullet(doc) for doc in documents]
    else:
        blocks.append(Field("مدارک دریافت‌شده", "ندارد"))
    blocks.append(Rule(dashed=True))
    if phone:
        blocks.append(Line(f"تلفن پاسخ‌گویی: {ltr(to_persian_digits(phone))}", size="small",
                           align="center"))
    blocks.append(Line("این رسید را تا پایان کار نگه دارید.", size="small", align="center"))
    return Receipt("request", tuple(blocks))


def queue_ticket(
    *,
    agency_name: str,
    ticket_label: str,
    ticket_id: str,
    public_base_url: str,
    queue_title: str,
    issued_at: datetime,
    people_ahead: int | None,
    wait_minutes: int | tuple[int, int] | None = None,
    service_title: str | None = None,
    office_name: str | None = None,
    logo: str | Path | None = None,
) -> Receipt:
    """A queue ticket: the number very large, the queue, who is ahead, the wait, and a QR.

    `ticket_label` is the number as called, «ب-۰۲۳» (logical order: prefix first);
    `ticket_id` the ticket's public id, in the QR as `<public_base_url>/q/<ticket_id>`;
    `wait_minutes` an estimate in minutes, a (low, high) range, or None when unknown.
    """
    if people_ahead is not None and people_ahead < 0:
        raise ValueError(f"negative people ahead: {people_ahead}")
    url = ticket_url(public_base_url, ticket_id)
    blocks: list[Block] = []
    if logo is not None:
        blocks += [Logo(str(logo), width_mm=12), Gap(1)]
    blocks.append(Line(agency_name, size="small", bold=True, align="center"))
    if office_name:
        blocks.append(Line(office_name, size="small", align="center"))
    blocks += [
        Rule(),
        Line(TICKET_TITLE, size="large", bold=True, align="center"),
        Line(to_persian_digits(ticket_label), size="huge", bold=True, align="center", fit=True),
        Line(queue_title, size="large", bold=True, align="center"),
    ]
    if service_title:
        blocks.append(Line(service_title, align="center"))
    if people_ahead is None:  # numbered by a kiosk out of touch with the server
        ahead = "نامشخص"
    else:
        ahead = f"{format_number(people_ahead)} نفر" if people_ahead else "هیچ‌کس؛ نوبت بعدی شمایید"
    blocks += [
        Rule(dashed=True),
        Field("پیش از شما", ahead),
        Field("زمان تقریبی انتظار", wait_label(wait_minutes)),
        Field("زمان صدور", format_datetime(issued_at)),
        Rule(dashed=True),
        Qr(url),
        Line("برای دیدن جای خود در صف، کد\u00a0QR را با تلفن همراه بخوانید.", size="small",
             align="center"),
        Line("هنگام اعلام شماره به باجه مراجعه کنید.", size="small", bold=True, align="center"),
    ]
    return Receipt("ticket", tuple(blocks))


def delivery_slip(
    *,
    agency_name: str,
    title: str,
    number: str,
    holder: str,
    masked_national_code: str,
    issued_on: date,
    expires_on: date | None,
    seal_text: str,
    tracking_code: str,
    printed_at: datetime,
    logo: str | Path | None = None,
) -> Receipt:
    """The slip of a delivered document: what it is, whose, its dates, and its seal's QR
    (`seal_text`, `<base>/v/<id>#<digits>`: a phone opens the document's page, a kiosk checks
    the seal offline). `number` «1405-000001» and `masked_national_code` «001*****78» are
    printed left to right in Persian digits."""
    blocks = _header(agency_name, logo, DELIVERY_TITLE)
    blocks += [
        Line(title, size="large", bold=True, align="center"),
        Rule(dashed=True),
        Field("شماره سند", ltr(to_persian_digits(number))),
        Field("دارنده", holder),
        Field("کد ملی دارنده", ltr(to_persian_digits(masked_national_code))),
        Field("تاریخ صدور", format_date(issued_on)),
        Field("اعتبار تا", format_date(expires_on) if expires_on else "بدون تاریخ انقضا"),
        Field("کد رهگیری", ltr(format_code(tracking_code, persian=True)), size="small"),
        Rule(dashed=True),
        Qr(seal_text),
        Line("برای بررسی اصالت، کد QR را با تلفن همراه بخوانید یا در کیوسک "
             "«استعلام اصالت مدرک» را بزنید.", size="small", align="center"),
        Rule(dashed=True),
        Field("زمان تحویل", format_datetime(printed_at), size="small"),
    ]
    return Receipt("delivery", tuple(blocks))


ALPHABET = "ا ب پ ت ث ج چ ح خ د ذ ر ز ژ س ش ص ض ط ظ ع غ ف ق ک گ ل م ن و ه ی"


def printer_test_page(
    *,
    kiosk_id: str,
    printed_at: datetime,
    config: Mapping[str, object] | Sequence[tuple[str, object]] = (),
    qr_data: str | None = None,
    agency_name: str | None = None,
) -> Receipt:
    """A page to check a kiosk's printer: who printed it, its settings, text, width and QR.

    `config` is a summary of the kiosk's settings as (label, value) pairs, e.g.
    {"سرور": "https://…", "چاپگر": "usb 04b8:0e15", "کاغذ": "۸۰ میلی‌متر", "QR": "native"};
    `qr_data` what the test QR holds (default "miz-printer-test:<kiosk_id>").
    """
    items = list(config.items()) if isinstance(config, Mapping) else list(config)
    blocks: list[Block] = []
    if agency_name:
        blocks.append(Line(agency_name, size="small", bold=True, align="center"))
    blocks += [
        Line(TEST_TITLE, size="large", bold=True, align="center"),
        Rule(),
        Field("کیوسک", kiosk_id),
        Field("زمان چاپ", format_datetime(printed_at)),
    ]
    if items:
        blocks += [Rule(dashed=True), Line("تنظیمات", bold=True)]
        blocks += [Field(str(label), str(value), size="small") for label, value in items]
    blocks += [
        Rule(dashed=True),
        Line("نمونهٔ متن فارسی", bold=True),
        Line(ALPHABET, size="small"),
        Line("«میز خدمت الکترونیکی»؛ کد رهگیری، پیگیری، دریافت‌شده.", size="normal"),
        Line("۰۱۲۳۴۵۶۷۸۹ — 0123456789", align="center"),
        Line("کوچک", size="small", align="center"),
        Line("متوسط", size="normal", align="center"),
        Line("بزرگ", size="large", bold=True, align="center"),
        Rule(dashed=True),
        Line("پهنای چاپ (هر خط کوتاه یک میلی‌متر)", size="small", align="center"),
        Ruler(),
        Rule(dashed=True),
        Qr(qr_data or f"miz-printer-test:{kiosk_id}"),
        Line("اگر این کد\u00a0QR با تلفن همراه خوانده شود، چاپ QR درست است.", size="small",
             align="center"),
    ]
    return Receipt("test", tuple(blocks))
