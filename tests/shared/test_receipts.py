"""Tests of shared.receipts: the layouts, the Persian drawing, and the printer's bytes.

The ESC/POS jobs are run through a small printer emulator (tests/shared/escpos_decode.py)
that rebuilds the printed paper from the raster bands and QR commands and fails on any
command it does not know; the QR codes are then read back with a real decoder (zxing-cpp).
The PNG previews of every layout are written to var/receipts/ for a person to look at.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps, features

from shared.receipts import (
    PAPER_58,
    PAPER_80,
    PAPER_80_512,
    Bullet,
    Code,
    Field,
    Line,
    Paper,
    Receipt,
    ensure_shaping,
    paper_for,
    printer_test_page,
    queue_ticket,
    render_png,
    request_receipt,
    supports_native_qr,
    to_escpos,
    to_png,
)
from shared.receipts.layout import channel_label, deadline_label, wait_label
from shared.receipts.render_png import FONT_DIR, code_size, font, pitch, render_block, wrap
from shared.tracking_codes import damm_check_digit
from tests.shared.escpos_decode import EscposDecodeError, decode, render_native_qr

REPO_ROOT = Path(__file__).resolve().parents[2]
PREVIEW_DIR = REPO_ROOT / "var" / "receipts"
LOGO = REPO_ROOT / "assets" / "images" / "logo.svg"

AGENCY = "اداره کل میراث فرهنگی، گردشگری و صنایع‌دستی استان اصفهان"
BASE_URL = "https://miz.chht-isfahan.example/"  # as in the catalog: with a trailing slash
CODE = "014821370655927" + str(damm_check_digit("014821370655927"))
TICKET_ID = "Xy3_kq9-Lm2P"
FILED_AT = datetime(2026, 11, 26, 7, 5, tzinfo=UTC)  # ۵ آذر ۱۴۰۵، ساعت ۱۰:۳۵ in Tehran
DUE = date(2026, 12, 1)  # ۱۰ آذر ۱۴۰۵

TRACKING_URL = f"https://miz.chht-isfahan.example/t/{CODE}"
TICKET_URL = f"https://miz.chht-isfahan.example/q/{TICKET_ID}"
TEST_QR = "miz-printer-test:kiosk-01"

PAPERS = [PAPER_58, PAPER_80, PAPER_80_512]
PAPER_IDS = [paper.name for paper in PAPERS]


def sample_request() -> Receipt:
    return request_receipt(
        agency_name=AGENCY,
        service_title="صدور پروانهٔ بهره‌برداری دفتر خدمات مسافرتی",
        tracking_code=CODE,
        public_base_url=BASE_URL,
        filed_at=FILED_AT,
        channel="kiosk",
        place="سالن انتظار",
        documents=[
            "تصویر کارت ملی مدیر عامل",
            "اساسنامه و آگهی تأسیس شرکت در روزنامهٔ رسمی",
            "گواهی عدم سوءپیشینه",
        ],
        duration=5,
        duration_unit="working_days",
        due=DUE,
        logo=LOGO,
        phone="031-32220000",
    )


def sample_ticket() -> Receipt:
    return queue_ticket(
        agency_name=AGENCY,
        office_name="ساختمان مرکزی",
        ticket_label="ب-۰۲۳",
        ticket_id=TICKET_ID,
        public_base_url=BASE_URL,
        queue_title="مجوزهای گردشگری",
        service_title="صدور پروانهٔ دفتر خدمات مسافرتی",
        issued_at=FILED_AT,
        people_ahead=4,
        wait_minutes=(10, 30),
        logo=LOGO,
    )


def sample_test_page() -> Receipt:
    return printer_test_page(
        kiosk_id="kiosk-01",
        printed_at=FILED_AT,
        agency_name=AGENCY,
        config={
            "سرور": "https://miz.chht-isfahan.example/",
            "چاپگر": "usb 04b8:0e15",
            "کاغذ": "۸۰ میلی‌متر، ۵۷۶ نقطه",
            "QR": "native",
        },
        qr_data=TEST_QR,
    )


LAYOUTS = {
    "request": (sample_request, TRACKING_URL),
    "ticket": (sample_ticket, TICKET_URL),
    "test": (sample_test_page, TEST_QR),
}


# Helpers ---------------------------------------------------------------------------------


def black_pixels(image: Image.Image) -> int:
    """Number of black pixels of a 1-bit or greyscale image."""
    return image.convert("L").histogram()[0]


def ink_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageChops.invert(image.convert("L")).getbbox()


def crop_ink(image: Image.Image) -> Image.Image:
    box = ink_box(image)
    assert box is not None, "nothing drawn"
    return image.convert("L").crop(box)


def mismatch(a: Image.Image, b: Image.Image) -> float:
    """Differing pixels over inked pixels, the two images laid on each other at top left."""
    width, height = max(a.width, b.width), max(a.height, b.height)
    canvases = []
    for image in (a, b):
        canvas = Image.new("L", (width, height), 255)
        canvas.paste(image.convert("L"), (0, 0))
        canvases.append(canvas)
    differing = sum(ImageChops.difference(*canvases).histogram()[1:])
    return differing / max(1, black_pixels(canvases[0]) + black_pixels(canvases[1]))


def read_qr(image: Image.Image) -> list[str]:
    """Every QR code zxing-cpp finds in the picture (given a quiet zone)."""
    framed = ImageOps.expand(image.convert("L"), border=32, fill=255)
    return [found.text for found in
            zxingcpp.read_barcodes(framed, formats=zxingcpp.BarcodeFormat.QRCode)]


def draw_text(face: ImageFont.FreeTypeFont, text: str, **layout: str) -> Image.Image:
    """`text` drawn on white with `face` and thresholded like a receipt."""
    image = Image.new("L", (int(face.size * (len(text) + 2)), face.size * 3), 255)
    ImageDraw.Draw(image).text((face.size, face.size * 2), text, font=face, fill=0,
                               anchor="ls", **layout)
    return image.point(lambda level: 0 if level < render_png.THRESHOLD else 255)


# Layouts ---------------------------------------------------------------------------------


def test_request_receipt_says_what_the_citizen_needs() -> None:
    receipt = sample_request()
    texts = [b.text for b in receipt.blocks if isinstance(b, (Line, Bullet))]
    fields = {b.label: b.value for b in receipt.blocks if isinstance(b, Field)}
    assert receipt.kind == "request"
    assert receipt.qr_data == (TRACKING_URL,)
    assert AGENCY in texts and "رسید ثبت درخواست" in texts and "کد رهگیری" in texts
    assert fields["تاریخ ثبت"] == "۵ آذر ۱۴۰۵، ساعت ۱۰:۳۵"
    assert fields["محل ثبت"] == "کیوسک سالن انتظار"
    assert fields["مهلت انجام"] == "۵ روز کاری (تا ۱۰ آذر ۱۴۰۵)"
    assert "مدارک دریافت‌شده:" in texts and "گواهی عدم سوءپیشینه" in texts
    assert any("پیگیری" in t and "QR" in t for t in texts)
    assert "miz.chht-isfahan.example/t" in texts
    codes = [b for b in receipt.blocks if isinstance(b, Code)]
    last = "۹۲۷" + "۰۱۲۳۴۵۶۷۸۹"[int(CODE[-1])]
    assert [c.groups for c in codes] == [("۰۱۴۸", "۲۱۳۷", "۰۶۵۵", last)]
    # Persian letters only: Persian ی and ک, never Arabic ي or ك.
    everything = " ".join(texts + list(fields) + list(fields.values()))
    assert "ي" not in everything and "ك" not in everything


def test_request_receipt_without_documents_or_duration() -> None:
    receipt = request_receipt(agency_name=AGENCY, service_title="خدمت", tracking_code=CODE,
                              public_base_url=BASE_URL, filed_at=FILED_AT, channel="counter",
                              place="3")
    fields = {b.label: b.value for b in receipt.blocks if isinstance(b, Field)}
    assert fields["محل ثبت"] == "باجه ۳"
    assert fields["مدارک دریافت‌شده"] == "ندارد"
    assert "مهلت انجام" not in fields


def test_queue_ticket_says_where_the_citizen_stands() -> None:
    ticket = sample_ticket()
    texts = [b.text for b in ticket.blocks if isinstance(b, Line)]
    fields = {b.label: b.value for b in ticket.blocks if isinstance(b, Field)}
    assert ticket.qr_data == (TICKET_URL,)
    assert "نوبت شما" in texts and "مجوزهای گردشگری" in texts
    number = next(b for b in ticket.blocks if isinstance(b, Line) and b.text == "ب-۰۲۳")
    assert number.size == "huge" and number.fit and number.bold
    assert fields["پیش از شما"] == "۴ نفر"
    assert fields["زمان تقریبی انتظار"] == "۱۰ تا ۳۰ دقیقه"
    assert fields["زمان صدور"] == "۵ آذر ۱۴۰۵، ساعت ۱۰:۳۵"


def test_labels() -> None:
    assert wait_label(12) == "۱۲ دقیقه"
    assert wait_label((10, 30)) == "۱۰ تا ۳۰ دقیقه"
    assert wait_label((7, 7)) == "۷ دقیقه"
    assert wait_label(None) == "نامشخص"
    assert channel_label("kiosk", "سالن انتظار") == "کیوسک سالن انتظار"
    assert channel_label("counter") == "باجه"
    assert deadline_label(5, "working_days", DUE) == "۵ روز کاری (تا ۱۰ آذر ۱۴۰۵)"
    assert deadline_label(8, "working_hours", None) == "۸ ساعت کاری"
    with pytest.raises(ValueError):
        channel_label("fax")
    with pytest.raises(ValueError):
        wait_label((30, 10))


def test_paper_sizes() -> None:
    assert (PAPER_58.dots, PAPER_80.dots, PAPER_80_512.dots) == (384, 576, 512)
    assert paper_for(58) is PAPER_58 and paper_for(80) is PAPER_80
    assert paper_for(80, 512) is PAPER_80_512
    with pytest.raises(ValueError):
        paper_for(76)
    with pytest.raises(ValueError):
        Paper(name="odd", width_mm=58, dots=380, margin=8, body=24, qr_module=6)


# Drawing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("paper", PAPERS, ids=PAPER_IDS)
@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_png_preview_of_every_layout(kind: str, paper: Paper) -> None:
    build, expected_qr = LAYOUTS[kind]
    picture = to_png(build(), paper)
    PREVIEW_DIR.mkdir(parents=True, exist_ok=True)
    picture.save(PREVIEW_DIR / f"{kind}-{paper.name}.png")
    assert picture.mode == "1" and picture.width == paper.dots
    assert picture.height > 600
    assert read_qr(picture) == [expected_qr]


@pytest.mark.parametrize("paper", PAPERS, ids=PAPER_IDS)
@pytest.mark.parametrize("kind", ["request", "ticket"])
def test_nothing_is_clipped(kind: str, paper: Paper) -> None:
    """No ink in the side margins, and no text block's ink touching its top or bottom row."""
    blocks = LAYOUTS[kind][0]().blocks
    for block in blocks:
        image = render_block(block, paper)
        assert image.width == paper.dots
        margins = [image.crop((0, 0, paper.margin, image.height)),
                   image.crop((paper.dots - paper.margin, 0, paper.dots, image.height))]
        assert all(black_pixels(m) == 0 for m in margins), f"ink in the margin: {block}"
        if isinstance(block, (Line, Field, Bullet, Code)):
            edges = [image.crop((0, 0, image.width, 1)),
                     image.crop((0, image.height - 1, image.width, image.height))]
            assert all(black_pixels(e) == 0 for e in edges), f"clipped: {block}"


def test_wrapping_keeps_words_width_and_order() -> None:
    text = ("برای پیگیری، کد\u00a0QR را با تلفن همراه بخوانید یا کد رهگیری را در "
            "نشانی میز خدمت وارد کنید؛ پیامک مراحل کار هم برایتان فرستاده می‌شود.")
    face = font(PAPER_58.font_size("normal"))
    lines = wrap(text, face, PAPER_58.text_width)
    assert len(lines) >= 3
    assert " ".join(lines) == text
    assert all(face.getlength(line, direction="rtl") <= PAPER_58.text_width for line in lines)
    assert "کد\u00a0QR" in " ".join(lines)  # a no-break space holds its two words together
    # The first logical line is drawn on top (lines are not reversed).
    block = render_block(Line(text), PAPER_58)
    first = render_block(Line(lines[0]), PAPER_58)
    step = pitch(PAPER_58.font_size("normal"))
    assert block.height == step * len(lines)
    assert ImageChops.difference(block.crop((0, 0, block.width, step)).convert("L"),
                                 first.convert("L")).getbbox() is None


def test_a_long_address_is_cut_between_characters() -> None:
    face = font(PAPER_58.font_size("normal"))
    address = "https://" + "very-long-subdomain." * 6 + "example/t"
    lines = wrap(address, face, PAPER_58.text_width)
    assert len(lines) > 1 and "".join(lines) == address
    assert all(face.getlength(line) <= PAPER_58.text_width for line in lines)


def test_a_logo_that_cannot_be_read_is_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "logo.svg"
    broken.write_text("<svg")
    for logo in (broken, tmp_path / "missing.png"):
        receipt = queue_ticket(agency_name=AGENCY, ticket_label="الف-۰۰۱", ticket_id="abc",
                               public_base_url=BASE_URL, queue_title="صف", issued_at=FILED_AT,
                               people_ahead=0, logo=logo)
        assert read_qr(to_png(receipt, PAPER_58)) == [f"{BASE_URL}q/abc"]
    assert "logo" in caplog.text


# Shaping ---------------------------------------------------------------------------------


def test_ensure_shaping_accepts_raqm_with_fribidi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(features, "check", lambda name: name in ("raqm", "fribidi"))
    ensure_shaping()


@pytest.mark.parametrize("missing", ["raqm", "fribidi"])
def test_ensure_shaping_refuses_without_raqm_or_fribidi(monkeypatch: pytest.MonkeyPatch,
                                                         missing: str) -> None:
    monkeypatch.setattr(features, "features", {**features.features, "fribidi": ("", "", "")})
    monkeypatch.setattr(features, "check", lambda name: name != missing)
    with pytest.raises(RuntimeError, match="libfribidi0"):
        ensure_shaping()
    with pytest.raises(RuntimeError, match="raqm"):
        to_png(sample_ticket(), PAPER_58)


def test_persian_is_joined() -> None:
    """Joined «سلام» is narrower than its four isolated letters side by side."""
    face = font(48)
    joined = face.getlength("سلام", direction="rtl", language="fa")
    isolated = sum(face.getlength(letter) for letter in "سلام")
    assert joined < 0.85 * isolated


def test_persian_is_shaped_once_and_right_to_left() -> None:
    """The receipt's «سلام» matches the reference visual rendering, not the broken ones.

    The reference is the presentation forms in visual order (ﻡ ﻼ ﺳ, what arabic_reshaper and
    python-bidi make) drawn with no shaping at all. Drawing with shaping off gives unjoined
    letters left to right; shaping twice (reshaped text given to raqm again) reverses it.
    """
    paper = PAPER_80
    size = paper.font_size("xlarge")
    drawn = crop_ink(render_block(Line("سلام", size="xlarge", align="center"), paper))
    path = str(FONT_DIR / "Vazirmatn-Regular.ttf")
    basic = ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)
    raqm = ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.RAQM)
    visual = "\ufee1\ufefc\ufeb3"  # م (isolated), لا (final ligature), س (initial)
    reference = crop_ink(draw_text(basic, visual))
    unshaped = crop_ink(draw_text(basic, "سلام"))
    shaped_twice = crop_ink(draw_text(raqm, visual, direction="rtl", language="fa"))
    assert mismatch(drawn, reference) < 0.25
    assert mismatch(drawn, unshaped) > 0.4
    assert mismatch(drawn, shaped_twice) > 0.4
    assert mismatch(reference, shaped_twice) > 0.4  # the test can tell them apart


@pytest.mark.parametrize("paper", [PAPER_58, PAPER_80], ids=["58mm", "80mm"])
def test_ticket_number_reads_right_to_left(paper: Paper) -> None:
    """«ب-۰۲۳»: the letter at the right end, the number to its left."""
    line = next(b for b in sample_ticket().blocks if isinstance(b, Line) and b.fit)
    drawn = crop_ink(render_block(line, paper))
    size = paper.font_size("huge")
    assert font(size, True).getlength(line.text, direction="rtl") < paper.text_width
    letter = crop_ink(draw_text(font(size, True), "ب", direction="rtl", language="fa"))
    right_end = drawn.crop((drawn.width - letter.width, 0, drawn.width, drawn.height))
    left_end = drawn.crop((0, 0, letter.width, drawn.height))
    assert mismatch(crop_ink(right_end), letter) < 0.15
    assert mismatch(crop_ink(left_end), letter) > 0.4


@pytest.mark.parametrize("paper", [PAPER_58, PAPER_80], ids=["58mm", "80mm"])
def test_tracking_code_groups_read_left_to_right(paper: Paper) -> None:
    block = Code(CODE)
    drawn = render_block(block, paper).convert("L")
    # Split the ink into the four groups at the three widest blank gaps between columns.
    columns = [black_pixels(drawn.crop((x, 0, x + 1, drawn.height))) > 0
               for x in range(drawn.width)]
    inked = [x for x, ink in enumerate(columns) if ink]
    gaps = sorted(((b - a, a, b) for a, b in itertools.pairwise(inked) if b - a > 1),
                  reverse=True)[:3]
    cuts = sorted((a + 1, b) for _, a, b in gaps)
    edges = [inked[0], *[c for pair in cuts for c in pair], inked[-1] + 1]
    runs = [drawn.crop((edges[i], 0, edges[i + 1], drawn.height)) for i in range(0, 8, 2)]
    face = font(code_size(block, paper), True)
    expected = [crop_ink(draw_text(face, group, direction="ltr")) for group in block.groups]
    for run, group in zip(runs, expected, strict=True):
        assert mismatch(crop_ink(run), group) < 0.2
    assert mismatch(crop_ink(runs[0]), expected[-1]) > 0.3  # not the groups reversed


# ESC/POS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("qr", ["native", "image"])
@pytest.mark.parametrize("paper", PAPERS, ids=PAPER_IDS)
@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_escpos_job_prints_the_preview_and_its_qr_reads_back(
    kind: str, paper: Paper, qr: str
) -> None:
    build, expected = LAYOUTS[kind]
    receipt = build()
    job = to_escpos(receipt, paper, qr=qr)  # type: ignore[arg-type]
    printout = decode(job, paper.dots)

    assert printout.commands[0] == "ESC @"
    assert printout.commands[-1] == "GS V cut" and printout.cuts == 1
    assert printout.rasters, "no raster image: Persian cannot print as code-page text"
    assert all(r.width == paper.dots and r.left == 0 for r in printout.rasters)
    assert printout.image.width == paper.dots

    # The paper shows exactly the preview (then the feed to the cutter).
    preview = to_png(receipt, paper)
    printed = printout.image.crop((0, 0, paper.dots, preview.height))
    assert ImageChops.difference(printed.convert("L"), preview.convert("L")).getbbox() is None
    assert ink_box(printout.image.crop((0, preview.height, paper.dots,
                                        printout.image.height))) is None

    # The QR code on the rebuilt paper reads back as the URL.
    assert read_qr(printout.image) == [expected]
    if qr == "native":
        assert [code.text for code in printout.qr_codes] == [expected]
        native = printout.qr_codes[0]
        assert (native.model, native.level) == (2, "M") and 1 <= native.module <= 16
        assert native.left == (paper.dots - native.size) // 2  # centred by ESC a 1
        # The stored payload is itself a valid QR of the URL.
        assert read_qr(render_native_qr(native.data, native.level, 4)) == [expected]
        assert "ESC a center" in printout.commands and "ESC a left" in printout.commands
    else:
        assert printout.qr_codes == []
        assert not any(c.startswith("QR") for c in printout.commands)


def test_bands_are_small() -> None:
    printout = decode(to_escpos(sample_request(), PAPER_80, qr="image"), PAPER_80.dots)
    assert len(printout.rasters) > 1
    assert max(r.height for r in printout.rasters) <= 128


def test_native_qr_falls_back_to_an_image_on_a_printer_without_it() -> None:
    assert supports_native_qr("default") and not supports_native_qr("POS-5890")
    job = to_escpos(sample_ticket(), PAPER_58, qr="native", profile="POS-5890")
    printout = decode(job, PAPER_58.dots)
    assert printout.qr_codes == []
    assert read_qr(printout.image) == [TICKET_URL]


def test_unknown_qr_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        to_escpos(sample_ticket(), PAPER_58, qr="svg")  # type: ignore[arg-type]


# The decoder itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (b"\x1b@\x1b!\x00", "unknown command ESC 0x21"),  # ESC ! (print mode)
        (b"\x1b@\x1dL\x00\x00", "unknown command GS 0x4c"),  # GS L (left margin)
        (b"\x1b@Hello\n", "unexpected byte 0x48"),  # code-page text
        (b"\x1b@\x1dv0\x00\x02\x00\x02\x00\xff", "truncated"),  # raster data cut short
        (b"\x1b@\x1dv0\x00\x50\x00\x01\x00" + b"\x00" * 80, "do not fit"),  # 640 dots
        (b"\x1b@\x1dv0\x01\x01\x00\x01\x00\x00", "normal density"),  # double width
        (b"\x1b@\x1d(k\x03\x001Q0", "no stored data"),  # QR print before store
        (b"\x1b@\x1d(k\x03\x002Q0", "only QR"),  # another 2D symbol
        (b"\x1b@\x1bax", "no such alignment"),
    ],
)
def test_decoder_fails_on_what_a_receipt_must_not_hold(job: bytes, message: str) -> None:
    with pytest.raises(EscposDecodeError, match=message):
        decode(job, 384)


def test_decoder_rebuilds_a_raster_and_a_native_qr() -> None:
    bits = bytes([0b10000001] + [0] * 46 + [0b00000001])  # 384 dots: first and last black
    job = (b"\x1b@" + b"\x1dv0\x00" + bytes([48, 0, 1, 0]) + bits
           + b"\x1ba\x01"
           + b"\x1d(k\x04\x001A2\x00" + b"\x1d(k\x03\x001C\x05" + b"\x1d(k\x03\x001E1"
           + b"\x1d(k\x08\x001P0hello" + b"\x1d(k\x03\x001Q0"
           + b"\x1ba\x00\n\x1bd\x02\x1dV\x00")
    printout = decode(job, 384)
    image = printout.image
    assert image.getpixel((0, 0)) == 0 and image.getpixel((383, 0)) == 0
    assert image.getpixel((1, 0)) == 255
    assert [code.text for code in printout.qr_codes] == ["hello"]
    assert printout.qr_codes[0].top == 1 and printout.qr_codes[0].module == 5
    assert read_qr(image) == ["hello"]
    size = printout.qr_codes[0].size
    assert image.height == 1 + size + 30 + 2 * 30
    assert printout.cuts == 1


def test_offline_ticket_says_the_place_is_unknown() -> None:
    ticket = queue_ticket(agency_name="اداره کل", ticket_label="ب-۰۲۳", ticket_id="AbC123xyz_-0",
                          public_base_url="https://miz.example.ir", queue_title="راهنمایان",
                          issued_at=datetime(2026, 11, 26, 7, 5, tzinfo=UTC), people_ahead=None)
    fields = {b.label: b.value for b in ticket.blocks if isinstance(b, Field)}
    assert fields["پیش از شما"] == "نامشخص"
