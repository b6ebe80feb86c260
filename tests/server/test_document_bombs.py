"""Decompression bombs: a small file that decodes to gigabytes is refused at upload (pages,
pixels over all frames, Pillow's bomb warning) and never decoded by the desk's preview.

The bombs are crafted here, byte by byte: a TIFF whose thousands of frames all point at one
PackBits strip of a blank page, as an attacker would make it."""

from __future__ import annotations

import io
import struct

import pytest
from flask import Flask
from flask.testing import FlaskClient
from fpdf import FPDF
from PIL import Image

from counter_server.usecases import documents
from tests.conftest import login
from tests.server.test_documents import kiosk_request, stored, upload  # noqa: F401

A4_300_DPI = (2480, 3508)


def blank_tiff(frames: int, size: tuple[int, int] = A4_300_DPI) -> bytes:
    """A bilevel TIFF of `frames` blank pages of `size`, every frame sharing one strip."""
    width, height = size
    row = bytearray()
    left = (width + 7) // 8
    while left:
        run = min(left, 128)
        row += bytes([(257 - run) % 256, 0])  # PackBits: repeat the next byte `run` times
        left -= run
    strip = bytes(row) * height
    strip_at = 8
    first_ifd = strip_at + len(strip) + (len(strip) % 2)
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + strip)
    out += b"\x00" * (first_ifd - len(out))
    entries = [(256, 4, width), (257, 4, height), (258, 3, 1), (259, 3, 32773), (262, 3, 0),
               (273, 4, strip_at), (277, 3, 1), (278, 4, height), (279, 4, len(strip))]
    ifd_size = 2 + 12 * len(entries) + 4
    for index in range(frames):
        following = len(out) + ifd_size if index + 1 < frames else 0
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            packed = struct.pack("<HI", value, 0)[:4] if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        out += struct.pack("<I", following)
    return bytes(out)


def pdf_of(pages: int) -> bytes:
    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
    return bytes(pdf.output())


def test_the_crafted_tiff_really_is_thousands_of_pages() -> None:
    data = blank_tiff(5000)
    assert len(data) < 1024 * 1024
    with Image.open(io.BytesIO(data)) as image:
        image.seek(4999)
        assert image.size == A4_300_DPI
        assert image.convert("L").getextrema() == (255, 255)  # blank


def test_a_tiff_of_thousands_of_blank_pages_is_refused_at_upload(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str]) -> None:  # noqa: F811
    code, token, slot = kiosk_request
    status, answer = upload(client, code, token, slot, blank_tiff(5000), "pages.tif")
    assert (status, answer["code"]) == (422, "document_too_many_pages")
    assert "حداکثر ۱۰۰ صفحه" in answer["message"]
    assert stored(app) == []


def test_too_many_pixels_over_all_frames_is_refused(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str]) -> None:  # noqa: F811
    code, token, slot = kiosk_request
    status, answer = upload(client, code, token, slot, blank_tiff(60), "scan.tif")
    assert (status, answer["code"]) == (422, "document_too_many_pages")  # 60 pages, 522 MP
    assert upload(client, code, token, slot, blank_tiff(40), "scan.tif")[0] == 201  # 348 MP


def test_pillows_bomb_warning_is_an_error(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str]) -> None:  # noqa: F811
    code, token, slot = kiosk_request
    one_huge_frame = blank_tiff(1, (11_000, 11_000))  # 121 MP: Pillow only warns
    status, answer = upload(client, code, token, slot, one_huge_frame, "huge.tif")
    assert (status, answer["code"]) == (422, "document_too_many_pages")


def test_a_pdf_of_too_many_pages_is_refused(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str]) -> None:  # noqa: F811
    code, token, slot = kiosk_request
    status, answer = upload(client, code, token, slot, pdf_of(150), "book.pdf")
    assert (status, answer["code"]) == (422, "document_too_many_pages")
    assert upload(client, code, token, slot, pdf_of(3), "letter.pdf")[0] == 201


def test_the_preview_refuses_a_bomb_stored_before_the_limits(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str],  # noqa: F811
        staff_users: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    code, token, slot = kiosk_request
    with monkeypatch.context() as before_the_limits:
        before_the_limits.setattr(documents, "MAX_PAGES", 100_000)
        before_the_limits.setattr(documents, "MAX_PIXELS", 10**12)
        status, answer = upload(client, code, token, slot, blank_tiff(1000, (300, 400)))
    assert status == 201
    login(client, "guides")
    preview = client.get(f"/desk/requests/{code}/documents/{answer['id']}/preview.png")
    assert preview.status_code == 422 and preview.mimetype == "text/html"
    assert "برای پیش‌نمایش بیش از حد بزرگ" in preview.get_data(as_text=True)


def test_the_preview_draws_at_most_its_pages(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str],  # noqa: F811
        staff_users: dict[str, int]) -> None:
    code, token, slot = kiosk_request
    status, answer = upload(client, code, token, slot, blank_tiff(30, (50, 70)), "scan.tif")
    assert status == 201
    login(client, "guides")
    preview = client.get(f"/desk/requests/{code}/documents/{answer['id']}/preview.png")
    with Image.open(io.BytesIO(preview.data)) as sheet:
        assert sheet.size == (50, 70 * documents.PREVIEW_PAGES)
