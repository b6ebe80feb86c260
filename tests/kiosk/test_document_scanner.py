"""Document scanners (fake folder, hot folder, SANE) and turning scans into uploads."""

from __future__ import annotations

import io
import random
import re
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from PIL import Image

from kiosk.config import DocumentScannerConfig
from kiosk.devices.document_scanner import (
    MESSAGE_NOT_SET_UP,
    MESSAGE_TIMEOUT,
    MESSAGE_TOO_LARGE,
    FakeScanner,
    HotFolderScanner,
    SaneScanner,
    ScanError,
    ScannedDocument,
    build_document_scanner,
    read_document,
    to_upload,
)

DEMO_SCANS = Path(__file__).resolve().parents[2] / "kiosk_config" / "demo-scans"


def page(width: int = 400, height: int = 560, noise: bool = False, seed: int = 1) -> Image.Image:
    if not noise:
        return Image.new("RGB", (width, height), (240, 240, 235))
    rng = random.Random(seed)
    return Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))


def pdf_pages(data: bytes) -> int:
    """Page objects in a PDF (not the /Pages tree node)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def tiff_bytes(count: int) -> bytes:
    out = io.BytesIO()
    pages = [page(200, 280) for _ in range(count)]
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    return out.getvalue()


def test_fake_scanner_serves_the_demo_documents_in_order() -> None:
    scanner = FakeScanner(DEMO_SCANS)
    card, certificate, again = scanner.scan(), scanner.scan(), scanner.scan()
    assert (card.page_count, certificate.page_count, again.page_count) == (1, 2, 1)
    assert card.source == "1-national-card.jpg" and certificate.source == "2-certificate"
    assert all(p.mode == "RGB" for p in certificate.pages)


def test_one_page_becomes_a_jpeg_and_several_a_pdf_with_every_page() -> None:
    scanner = FakeScanner(DEMO_SCANS)
    card, certificate = scanner.scan(), scanner.scan()
    data, media_type = to_upload(card)
    assert media_type == "image/jpeg" and data.startswith(b"\xff\xd8\xff")
    assert Image.open(io.BytesIO(data)).size == card.pages[0].size
    data, media_type = to_upload(certificate)
    assert media_type == "application/pdf" and data.startswith(b"%PDF-")
    assert pdf_pages(data) == 2


def test_a_single_page_can_be_asked_for_as_pdf_and_in_grey() -> None:
    document = ScannedDocument(pages=[page()])
    data, media_type = to_upload(document, as_pdf=True)
    assert media_type == "application/pdf" and pdf_pages(data) == 1
    data, media_type = to_upload(document, grayscale=True)
    assert Image.open(io.BytesIO(data)).mode == "L"


def test_a_large_scan_is_made_to_fit_the_upload_limit() -> None:
    document = ScannedDocument(pages=[page(1200, 1600, noise=True), page(1200, 1600, noise=True,
                                                                          seed=2)])
    limit = 900_000
    assert len(to_upload(document, 50_000_000)[0]) > limit  # too big as it is
    data, media_type = to_upload(document, limit)
    assert len(data) <= limit and media_type == "application/pdf" and pdf_pages(data) == 2


def test_a_scan_that_cannot_fit_says_so_in_persian() -> None:
    with pytest.raises(ScanError) as refused:
        to_upload(ScannedDocument(pages=[page(800, 800, noise=True)]), max_bytes=500)
    assert refused.value.message == MESSAGE_TOO_LARGE


def test_files_are_read_by_their_bytes(tmp_path: Path) -> None:
    (tmp_path / "scan.dat").write_bytes(tiff_bytes(3))
    assert read_document(tmp_path / "scan.dat").page_count == 3
    (tmp_path / "scan.jpg").write_bytes(b"%PDF-1.4 a scanner's own pdf")
    made = read_document(tmp_path / "scan.jpg")
    assert made.pdf == b"%PDF-1.4 a scanner's own pdf" and not made.pages
    assert to_upload(made) == (made.pdf, "application/pdf")
    (tmp_path / "scan.pdf").write_bytes(b"GIF89a not a taken format")
    with pytest.raises(ScanError):
        read_document(tmp_path / "scan.pdf")


def write_slowly(path: Path, data: bytes, pieces: int = 4, pause: float = 0.1) -> None:
    """A network scanner saving a file over a slow link."""
    step = len(data) // pieces + 1
    with path.open("wb") as out:
        for start in range(0, len(data), step):
            out.write(data[start:start + step])
            out.flush()
            time.sleep(pause)


def test_hot_folder_takes_the_next_new_file_once_it_has_settled(tmp_path: Path) -> None:
    (tmp_path / "old.tif").write_bytes(tiff_bytes(1))  # there before: not a new scan
    scanner = HotFolderScanner(tmp_path, settle_seconds=0.3, timeout_seconds=10, poll=0.05)
    data = tiff_bytes(2)
    writer = threading.Thread(target=write_slowly, args=(tmp_path / "scan0001.tif", data))
    writer.start()
    document = scanner.scan()
    writer.join()
    assert document.page_count == 2 and document.source == "scan0001.tif"
    assert not (tmp_path / "scan0001.tif").exists()  # taken away
    assert (tmp_path / "old.tif").exists()


def test_hot_folder_skips_partial_and_hidden_files_and_times_out(tmp_path: Path) -> None:
    scanner = HotFolderScanner(tmp_path, settle_seconds=0.1, timeout_seconds=0.6, poll=0.05)
    (tmp_path / "scan0002.pdf.part").write_bytes(b"%PDF-1.4 half")
    (tmp_path / ".scan0002.pdf").write_bytes(b"%PDF-1.4 hidden")
    with pytest.raises(ScanError) as nothing:
        scanner.scan()
    assert nothing.value.message == MESSAGE_TIMEOUT


def test_hot_folder_wait_can_be_cancelled(tmp_path: Path) -> None:
    scanner = HotFolderScanner(tmp_path, timeout_seconds=30, poll=0.05)
    threading.Timer(0.2, scanner.cancel).start()
    started = time.monotonic()
    with pytest.raises(ScanError):
        scanner.scan()
    assert time.monotonic() - started < 10


def test_an_unreadable_dropped_file_is_reported_and_not_offered_again(tmp_path: Path) -> None:
    scanner = HotFolderScanner(tmp_path, settle_seconds=0.1, timeout_seconds=0.6, poll=0.05)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    with pytest.raises(ScanError) as broken:
        scanner.scan()
    assert "خوانا نیست" in broken.value.message
    with pytest.raises(ScanError) as nothing:
        scanner.scan()
    assert nothing.value.message == MESSAGE_TIMEOUT


def test_sane_without_python_sane_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sane", None)  # as if not installed
    with pytest.raises(ScanError) as missing:
        build_document_scanner(DocumentScannerConfig(backend="sane"))
    assert missing.value.message == MESSAGE_NOT_SET_UP
    assert 'pip install "miz[sane]"' in missing.value.detail


class FakeSaneDevice:
    """python-sane's device object, at the edge of the machine: a flatbed with a feeder."""

    def __init__(self, name: str, sheets: int) -> None:
        self.name, self.sheets, self.closed = name, sheets, False
        self.resolution, self.mode, self.source = 300, "Color", "Flatbed"

    def __setattr__(self, key: str, value: object) -> None:
        if key == "mode" and value not in ("Color", "Gray"):
            raise AttributeError(f"mode {value!r} not supported")
        object.__setattr__(self, key, value)

    def scan(self) -> Image.Image:
        return page(300, 420)

    def multi_scan(self):
        for _ in range(self.sheets):
            yield page(300, 420)

    def close(self) -> None:
        self.closed = True


def fake_sane(sheets: int) -> types.ModuleType:
    module = types.ModuleType("sane")
    module.error = type("error", (Exception,), {})  # type: ignore[attr-defined]
    module.init = lambda: (1, 1, 0, 0)  # type: ignore[attr-defined]
    module.get_devices = lambda: [("test:0", "Test", "Scanner", "flatbed")]  # type: ignore[attr-defined]
    module.open = lambda name: FakeSaneDevice(name, sheets)  # type: ignore[attr-defined]
    module.exit = lambda: None  # type: ignore[attr-defined]
    return module


def test_sane_scans_a_flatbed_page_and_feeder_sheets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sane", fake_sane(sheets=3))
    scanner = SaneScanner(resolution=150, grayscale=True)
    assert (scanner.device.name, scanner.device.resolution, scanner.device.mode) == (
        "test:0", 150, "Gray")
    flatbed = scanner.scan()
    assert flatbed.page_count == 1 and flatbed.pages[0].mode == "L" and flatbed.dpi == 150
    scanner.device.source = "ADF Front"
    assert scanner.scan().page_count == 3
    scanner.close()
    assert scanner.device.closed


def test_configured_backends_are_built(tmp_path: Path) -> None:
    assert build_document_scanner(DocumentScannerConfig()) is None
    fake = build_document_scanner(DocumentScannerConfig(backend="fake", folder=DEMO_SCANS))
    assert isinstance(fake, FakeScanner)
    hot = build_document_scanner(DocumentScannerConfig(backend="hot_folder", folder=tmp_path))
    assert isinstance(hot, HotFolderScanner)
    with pytest.raises(ScanError):
        build_document_scanner(DocumentScannerConfig(backend="fake", folder=tmp_path / "none"))
