"""The PDF a service delivers: a card, a licence, a certificate or a letter, in Persian.

Drawn with fpdf2 from the logical text: HarfBuzz (uharfbuzz) shapes and joins the letters and
fpdf2's bidi algorithm orders each paragraph right to left, so nothing is reshaped
beforehand (shaping twice prints it reversed) and the text a PDF reader extracts is the
logical text. The font is Vazirmatn (`assets/fonts/`), the agency's logo its SVG drawn by
cairosvg. Dates are Jalali, numbers in Persian digits; the seal's QR (`shared/seals.py`)
and the verification address are on every page.

A card is an A6 landscape page (a card to cut out or laminate); the others are A4
portrait, with the agency's header, the document's number and date in the corner, the
title, the holder's facts, a letter's or a licence's text, and a footer with the QR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path

import qrcode
from fpdf import FPDF
from PIL import Image

from shared import jalali
from shared.catalog.schema import Agency, OutputSpec, ServiceSpec
from shared.forms import display_value
from shared.seals import OutputKind, SealFacts
from shared.sms_texts import LRM, code_in_text
from shared.text import to_persian_digits

FONT = "Vazirmatn"
INK = (31, 58, 104)      # the logo's dark blue
ACCENT = (201, 162, 39)  # the logo's gold
GREY = (90, 90, 90)


@dataclass(frozen=True)
class PrintedDocument:
    """Everything a delivered document shows, already in display form (Persian)."""

    agency: str
    agency_short: str
    agency_contact: str
    kind: OutputKind
    title: str
    number: str
    holder: str
    issued_on: date
    expires_on: date | None
    seal_text: str
    verify_url: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None


@dataclass(frozen=True)
class Applicant:
    name: str
    national_code: str
    mobile: str


def _ltr(value: str) -> str:
    """A code in Persian digits, after a LEFT-TO-RIGHT MARK: inside Persian text a code's
    dash-joined groups would otherwise be ordered right to left."""
    return LRM + to_persian_digits(value)


def _source_value(source: str, service: ServiceSpec, applicant: Applicant,
                  answers: dict[str, object]) -> str:
    if source == "applicant.name":
        return applicant.name
    if source == "applicant.national_code":
        return to_persian_digits(applicant.national_code)
    if source == "applicant.mobile":
        return to_persian_digits(applicant.mobile)
    name = source.removeprefix("fields.")
    form_field = next(f for f in service.form if f.name == name)
    return display_value(form_field, answers.get(name))


def _body(output: OutputSpec, service: ServiceSpec, agency: Agency, applicant: Applicant,
          answers: dict[str, object], tracking_code: str, facts: SealFacts) -> str | None:
    if not output.body:
        return None
    values = {f.name: display_value(f, answers.get(f.name)) for f in service.form}
    values.update(holder=facts.holder, national_code=to_persian_digits(applicant.national_code),
                  number=_ltr(facts.number), issued_on=jalali.format_date(facts.issued_on),
                  expires_on=jalali.format_date(facts.expires_on) if facts.expires_on
                  else "بدون تاریخ انقضا",
                  service=service.title, agency=agency.name,
                  tracking_code=to_persian_digits(code_in_text(tracking_code)))
    return output.body.format_map(values)


def from_template(output: OutputSpec, service: ServiceSpec, agency: Agency,
                  applicant: Applicant, answers: dict[str, object], tracking_code: str,
                  facts: SealFacts, seal_text: str) -> PrintedDocument:
    """The document a service's output template makes for one request."""
    contact = agency.contact
    return PrintedDocument(
        agency=agency.name, agency_short=agency.short_name or agency.name,
        agency_contact=f"{contact.address} — تلفن {_ltr(contact.phone)}",
        kind=output.kind, title=output.title, number=facts.number, holder=facts.holder,
        issued_on=facts.issued_on, expires_on=facts.expires_on, seal_text=seal_text,
        verify_url=seal_text.partition("#")[0],
        lines=[(f.label, _source_value(f.source, service, applicant, answers))
               for f in output.fields],
        body=_body(output, service, agency, applicant, answers, tracking_code, facts))


@cache
def _logo_png(path: str) -> bytes:
    import cairosvg  # type: ignore[import-untyped]

    return bytes(cairosvg.svg2png(url=path, output_width=512))


def _qr_image(text: str) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       box_size=8)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("L")


class _Page(FPDF):
    def __init__(self, assets: Path, orientation: str, size: str | tuple[float, float]):
        super().__init__(orientation=orientation, unit="mm", format=size)
        fonts = assets / "fonts"
        self.add_font(FONT, "", str(fonts / "Vazirmatn-Regular.ttf"))
        self.add_font(FONT, "B", str(fonts / "Vazirmatn-Bold.ttf"))
        self.set_text_shaping(use_shaping_engine=True, script="arab", language="fas")
        self.set_auto_page_break(False)
        self.set_lang("fa")
        self.c_margin = 0

    def text_at(self, x: float, y: float, w: float, text: str, size: float, bold: bool = False,
                align: str = "R", color: tuple[int, int, int] = (0, 0, 0)) -> None:
        """One line of text in a box `w` wide, its size lowered until it fits."""
        style = "B" if bold else ""
        self.set_font(FONT, style, size)
        while self.get_string_width(text) > w and self.font_size_pt > 5:
            self.set_font(FONT, style, self.font_size_pt - 0.5)
        self.set_text_color(*color)
        self.set_xy(x, y)
        self.cell(w, size * 0.5, text, align=align)

    def paragraph(self, x: float, y: float, w: float, text: str, size: float,
                  line_height: float = 1.9) -> float:
        """Draw right-aligned wrapped text; returns the y below it."""
        self.set_font(FONT, "", size)
        self.set_text_color(0, 0, 0)
        self.set_xy(x, y)
        self.multi_cell(w, size * 0.353 * line_height, text, align="R")
        return self.get_y()


def _validity(document: PrintedDocument) -> str:
    if document.expires_on is None:
        return "بدون تاریخ انقضا"
    return f"تا {jalali.format_date(document.expires_on)}"


def _card(document: PrintedDocument, assets: Path) -> _Page:
    pdf = _Page(assets, "L", (105.0, 148.0))
    pdf.add_page()
    width, height = pdf.w, pdf.h
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.6)
    pdf.rect(4, 4, width - 8, height - 8)
    pdf.set_fill_color(*INK)
    pdf.rect(4, 4, width - 8, 17, style="F")
    pdf.image(BytesIO(_logo_png(str(assets / "images" / "logo.svg"))), x=width - 20, y=5.5,
              w=14, h=14)
    pdf.text_at(30, 7.5, width - 53, document.agency_short, 11, bold=True, color=(255, 255, 255))
    pdf.text_at(30, 13.5, width - 53, document.agency, 6.5, color=(235, 235, 235))
    pdf.set_fill_color(*ACCENT)
    pdf.rect(4, 21, width - 8, 1, style="F")

    pdf.text_at(52, 26, width - 60, document.title, 13, bold=True, color=INK)
    pdf.text_at(52, 35, width - 60, document.holder, 12, bold=True)
    y = 43.0
    rows = [*document.lines, ("شماره", to_persian_digits(document.number)),
            ("تاریخ صدور", jalali.format_date(document.issued_on)),
            ("اعتبار", _validity(document))]
    for label, value in rows:
        pdf.text_at(52, y, width - 60 - 30, value, 8.5)
        pdf.text_at(width - 38, y, 30, f"{label}:", 8.5, color=GREY)
        y += 6.2
    pdf.image(_qr_image(document.seal_text), x=8, y=26, w=42, h=42)
    pdf.text_at(8, 69, 42, "رمزینه را برای بررسی اصالت بخوانید", 5.5, align="C", color=GREY)
    pdf.set_font(FONT, "", 5.5)
    pdf.set_text_color(*GREY)
    pdf.set_xy(8, height - 12)
    pdf.cell(width - 16, 4, document.verify_url, align="C")
    return pdf


def _a4(document: PrintedDocument, assets: Path) -> _Page:
    pdf = _Page(assets, "P", "A4")
    pdf.add_page()
    width = pdf.w
    margin = 18.0
    inner = width - 2 * margin
    pdf.image(BytesIO(_logo_png(str(assets / "images" / "logo.svg"))), x=width - margin - 22,
              y=14, w=22, h=22)
    pdf.text_at(margin + 56, 17, inner - 82, document.agency, 12, bold=True, color=INK)
    pdf.text_at(margin + 56, 25, inner - 82, document.agency_short, 9, color=GREY)
    corner = [("شماره", to_persian_digits(document.number)),
              ("تاریخ", jalali.format_date(document.issued_on))]
    for row, (label, value) in enumerate(corner):
        pdf.text_at(margin, 17 + row * 7, 34, value, 9.5)
        pdf.text_at(margin + 34, 17 + row * 7, 16, f"{label}:", 9.5, color=GREY)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.line(margin, 40, width - margin, 40)

    pdf.text_at(margin, 48, inner, document.title, 17, bold=True, align="C", color=INK)
    y = 62.0
    rows = [("نام دارنده" if document.kind is not OutputKind.letter else "گیرنده",
             document.holder), *document.lines]
    if document.kind is not OutputKind.letter:
        rows.append(("اعتبار", _validity(document)))
    for label, value in rows:
        pdf.text_at(margin, y, inner - 45, value, 11, bold=label in {"نام دارنده", "گیرنده"})
        pdf.text_at(width - margin - 42, y, 42, f"{label}:", 11, color=GREY)
        y += 8.5
    if document.body:
        y += 4
        for paragraph in document.body.split("\n"):
            y = pdf.paragraph(margin, y, inner, paragraph, 11.5) + 2.5
    pdf.text_at(margin, y + 10, 70, document.agency_short, 11, bold=True, align="C")
    pdf.text_at(margin, y + 17, 70, "امضای الکترونیکی", 9, align="C", color=GREY)
    _footer(pdf, document, margin)
    return pdf


def _footer(pdf: _Page, document: PrintedDocument, margin: float) -> None:
    width, top = pdf.w, pdf.h - 62
    inner = width - 2 * margin
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.4)
    pdf.line(margin, top, width - margin, top)
    pdf.image(_qr_image(document.seal_text), x=margin, y=top + 4, w=44, h=44)
    text_x, text_w = margin + 50, inner - 50
    pdf.text_at(text_x, top + 7, text_w, "بررسی اصالت این سند", 11, bold=True, color=INK)
    note = ("این سند با امضای الکترونیکی " + document.agency + " امضا شده و رمزینه کنار آن "
            "مهر امضاشده سند است. برای بررسی اصالت، رمزینه را با دوربین تلفن همراه بخوانید یا "
            "نشانی زیر را باز کنید؛ وضعیت سند (معتبر، باطل‌شده یا منقضی) را همان‌جا ببینید.")
    y = pdf.paragraph(text_x, top + 14, text_w, note, 9)
    pdf.set_font(FONT, "", 8.5)
    pdf.set_text_color(*INK)
    pdf.set_xy(text_x, y + 1.5)
    pdf.cell(text_w, 5, document.verify_url, align="R")
    pdf.text_at(margin, pdf.h - 12, inner, document.agency_contact, 7.5, align="C", color=GREY)


def _is_arabic_script(code: int) -> bool:
    return 0x0600 <= code <= 0x06FF or 0xFB50 <= code <= 0xFEFF


def _ligatures_in_visual_order(pdf: FPDF) -> None:
    """List the letters of a right-to-left ligature (lam-alef: «لا») right to left.

    fpdf2 maps a ligature's glyph to its letters in logical order; text extractors such as
    poppler's `pdftotext` split a glyph's width among its letters from left to right, then
    reverse a right-to-left line, and so read «سلام» as «سالم». A glyph that stands for
    several Arabic-script letters only comes from right-to-left shaping, so its letters
    are listed in the order they appear on the page. Runs after drawing, before output:
    the glyphs hash by their id, so no later lookup is disturbed.
    """
    for font in pdf.fonts.values():
        subset = getattr(font, "subset", None)
        for glyph, _ in subset.items() if subset is not None else ():
            letters = getattr(glyph, "unicode", None)
            if isinstance(letters, tuple) and len(letters) > 1 \
                    and all(_is_arabic_script(code) for code in letters):
                glyph.unicode = tuple(reversed(letters))


def render_pdf(document: PrintedDocument, assets: Path) -> bytes:
    """The document's PDF, unsigned (`pdf_signing.sign_pdf` signs it)."""
    pdf = _card(document, assets) if document.kind is OutputKind.card else _a4(document, assets)
    _ligatures_in_visual_order(pdf)
    pdf.set_title(f"{document.title} {to_persian_digits(document.number)}")
    pdf.set_author(document.agency)
    pdf.set_creator("Miz")
    pdf.set_subject(document.holder)
    return bytes(pdf.output())
