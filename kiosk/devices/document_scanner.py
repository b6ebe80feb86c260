"""Document scanning behind one small interface: `scan() -> ScannedDocument`.

Backends:

- `SaneScanner`: a scanner driven through SANE (python-sane, the optional extra `sane`,
  imported only when this backend is built; a clear error when it is missing). A document
  feeder gives one page per sheet.
- `HotFolderScanner`: a network scanner drops files into a folder; the next new file is taken
  once its size has stopped changing, read (JPEG, PNG, TIFF with all its pages, or a PDF
  passed on as it is) and removed from the folder.
- `FakeScanner`: serves the documents of a folder in name order, again and again (tests and
  the demo); a sub-folder is one document whose files are its pages.

`to_upload` turns a scan into what the server takes: one page as JPEG, several as one PDF,
made smaller (JPEG quality, then scale) until it fits the upload limit.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from kiosk.config import DocumentScannerConfig

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_DPI = 200
MAX_PAGES = 50
QUALITIES = (85, 70, 55, 40)
SCALES = (1.0, 0.8, 0.6, 0.45, 0.3)
IMAGE_FORMATS = ("JPEG", "PNG", "TIFF")
IGNORED_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", "~")

MESSAGE_FAILED = "اسکن سند انجام نشد؛ لطفاً دوباره تلاش کنید."
MESSAGE_TIMEOUT = "سندی از اسکنر نرسید؛ لطفاً دوباره تلاش کنید."
MESSAGE_UNREADABLE = "فایل اسکن‌شده خوانا نیست؛ لطفاً سند را دوباره اسکن کنید."
MESSAGE_TOO_LARGE = "حجم سند اسکن‌شده بیش از حد مجاز است؛ لطفاً صفحه‌های کمتری اسکن کنید."
MESSAGE_NOT_SET_UP = "اسکنر اسناد راه‌اندازی نشده است؛ لطفاً به پذیرش مراجعه کنید."


class ScanError(Exception):
    """No usable scan: `message` is Persian for the citizen, `detail` is for the log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message, self.detail = message, detail


@dataclass
class ScannedDocument:
    """The pages of one scanned document, or a PDF the scanner made itself."""

    pages: list[Image.Image] = field(default_factory=list)
    pdf: bytes | None = None
    dpi: int = DEFAULT_DPI
    source: str = ""

    @property
    def page_count(self) -> int:
        return len(self.pages) if self.pages else (1 if self.pdf else 0)


class DocumentScanner(Protocol):
    """Anything that scans one document when asked."""

    def scan(self) -> ScannedDocument: ...


# --- reading files -------------------------------------------------------------------------

def _pages(image: Image.Image) -> list[Image.Image]:
    pages: list[Image.Image] = []
    for frame in ImageSequence.Iterator(image):
        if len(pages) == MAX_PAGES:
            raise ScanError(MESSAGE_TOO_LARGE, f"more than {MAX_PAGES} pages")
        page = ImageOps.exif_transpose(frame)
        pages.append(page.convert("L" if page.mode in ("1", "L", "LA", "I;16") else "RGB"))
    return pages


def read_document(path: Path) -> ScannedDocument:
    """A scan from a file, judged by its bytes: PDF as it is, JPEG/PNG/TIFF as pages."""
    data = path.read_bytes()
    if data.startswith(b"%PDF-"):
        return ScannedDocument(pdf=data, source=path.name)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in IMAGE_FORMATS:
                raise ScanError(MESSAGE_UNREADABLE, f"{path.name}: {image.format} is not taken")
            dpi = image.info.get("dpi", (DEFAULT_DPI,))[0]
            pages = _pages(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ScanError(MESSAGE_UNREADABLE, f"{path.name}: {exc}") from exc
    return ScannedDocument(pages=pages, dpi=int(dpi) or DEFAULT_DPI, source=path.name)


def _document_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")
                  and (p.is_dir() or p.is_file()))


def _read_folder_document(path: Path) -> ScannedDocument:
    """One document: a file, or a folder whose files are its pages in name order."""
    if path.is_file():
        return read_document(path)
    pages: list[Image.Image] = []
    for page in (p for p in _document_files(path) if p.is_file()):
        pages.extend(read_document(page).pages)
    if not pages:
        raise ScanError(MESSAGE_UNREADABLE, f"{path}: no pages")
    return ScannedDocument(pages=pages[:MAX_PAGES], source=path.name)


# --- making an upload ----------------------------------------------------------------------

def _encode(pages: list[Image.Image], quality: int, as_pdf: bool, dpi: int) -> bytes:
    out = io.BytesIO()
    if as_pdf:
        pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], quality=quality,
                      resolution=float(dpi))
    else:
        pages[0].save(out, "JPEG", quality=quality, optimize=True, dpi=(dpi, dpi))
    return out.getvalue()


def _scaled(pages: Iterable[Image.Image], scale: float, grayscale: bool) -> list[Image.Image]:
    result = []
    for page in pages:
        page = page.convert("L") if grayscale else page
        if scale < 1.0:
            size = (max(1, round(page.width * scale)), max(1, round(page.height * scale)))
            page = page.resize(size, Image.Resampling.LANCZOS)
        result.append(page)
    return result


def to_upload(document: ScannedDocument, max_bytes: int = DEFAULT_MAX_BYTES, *,
              grayscale: bool = False, as_pdf: bool | None = None) -> tuple[bytes, str]:
    """The scan as (bytes, media type) within `max_bytes`: one page JPEG, several PDF.

    `as_pdf=True` makes a PDF of a single page too (for a slot that takes only PDF).
    Quality goes down first, then the scale; ScanError when even the smallest is too big.
    """
    if not document.pages:
        if document.pdf is not None and len(document.pdf) <= max_bytes:
            return document.pdf, "application/pdf"
        raise ScanError(MESSAGE_TOO_LARGE if document.pdf else MESSAGE_FAILED,
                        f"{document.source}: PDF of {len(document.pdf or b'')} bytes")
    pdf = len(document.pages) > 1 if as_pdf is None else as_pdf
    for scale in SCALES:
        pages = _scaled(document.pages, scale, grayscale)
        for quality in QUALITIES:
            data = _encode(pages, quality, pdf, max(1, round(document.dpi * scale)))
            if len(data) <= max_bytes:
                return data, "application/pdf" if pdf else "image/jpeg"
    raise ScanError(MESSAGE_TOO_LARGE, f"{document.source}: over {max_bytes} bytes at any size")


# --- backends ------------------------------------------------------------------------------

class FakeScanner:
    """Serves the documents in `folder` one per scan, in name order, then starts again."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if not folder.is_dir():
            raise ScanError(MESSAGE_NOT_SET_UP, f"{folder}: no such folder")
        self._next = 0

    def scan(self) -> ScannedDocument:
        documents = _document_files(self.folder)
        if not documents:
            raise ScanError(MESSAGE_FAILED, f"{self.folder}: no documents to serve")
        chosen = documents[self._next % len(documents)]
        self._next += 1
        return _read_folder_document(chosen)


class HotFolderScanner:
    """Waits for the next file a network scanner drops into `folder`, once it has settled.

    Files already there when the scanner is made are old and left alone. A taken file is
    removed (documents of citizens must not pile up on a share); one that cannot be read
    stays for staff to look at and is not offered again. `cancel()` ends a wait.
    """

    def __init__(self, folder: Path, *, settle_seconds: float = 1.0,
                 timeout_seconds: float = 120.0, poll: float = 0.2,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not folder.is_dir():
            raise ScanError(MESSAGE_NOT_SET_UP, f"{folder}: no such folder")
        self.folder, self.settle, self.timeout = folder, settle_seconds, timeout_seconds
        self.poll, self.clock = poll, clock
        self._seen = {p.name for p in folder.iterdir()}
        self._cancel = threading.Event()
        self._sizes: dict[str, tuple[int, float, float]] = {}

    def cancel(self) -> None:
        self._cancel.set()

    def _candidates(self) -> list[Path]:
        return sorted((p for p in self.folder.iterdir() if p.is_file()
                       and p.name not in self._seen and not p.name.startswith(".")
                       and not p.name.endswith(IGNORED_SUFFIXES)),
                      key=lambda p: (p.stat().st_mtime, p.name))

    def _settled(self, path: Path) -> bool:
        """True once the file's size and time have not changed for `settle` seconds."""
        stat = path.stat()
        now = self.clock()
        before = self._sizes.get(path.name)
        if before is None or before[:2] != (stat.st_size, stat.st_mtime):
            self._sizes[path.name] = (stat.st_size, stat.st_mtime, now)
            return False
        return stat.st_size > 0 and now - before[2] >= self.settle

    def _next_file(self) -> Path | None:
        for path in self._candidates():
            try:
                if self._settled(path):
                    return path
            except FileNotFoundError:
                self._sizes.pop(path.name, None)
        return None

    def scan(self) -> ScannedDocument:
        self._cancel.clear()
        deadline = self.clock() + self.timeout
        while self.clock() < deadline:
            path = self._next_file()
            if path is not None:
                return self._take(path)
            if self._cancel.wait(self.poll):
                raise ScanError(MESSAGE_FAILED, "scan cancelled")
        raise ScanError(MESSAGE_TIMEOUT, f"no file in {self.folder} within {self.timeout:g} s")

    def _take(self, path: Path) -> ScannedDocument:
        self._seen.add(path.name)
        self._sizes.pop(path.name, None)
        document = read_document(path)
        try:
            path.unlink()
            self._seen.discard(path.name)
        except OSError as exc:
            log.warning("could not remove %s from the hot folder: %s", path, exc)
        return document


class SaneScanner:
    """A SANE scanner; python-sane is imported here, only when this backend is configured."""

    def __init__(self, device: str | None = None, *, resolution: int = DEFAULT_DPI,
                 grayscale: bool = False) -> None:
        try:
            import sane
        except ImportError:
            raise ScanError(MESSAGE_NOT_SET_UP,
                            'the "sane" document scanner needs python-sane: '
                            'pip install "miz[sane]" (it builds against the libsane-dev '
                            'system package)') from None
        self._sane: Any = sane
        self._errors = (getattr(sane, "error", RuntimeError), RuntimeError, AttributeError)
        self.device_name, self.resolution, self.grayscale = device, resolution, grayscale
        try:
            sane.init()
            self.device = sane.open(device or self._first_device())
        except self._errors as exc:
            raise ScanError(MESSAGE_NOT_SET_UP, f"SANE: {exc}") from exc
        self._set("resolution", resolution)
        self._set("mode", "gray" if grayscale else "color")

    def _first_device(self) -> str:
        devices = self._sane.get_devices()
        if not devices:
            raise RuntimeError("SANE found no scanner")
        return str(devices[0][0])

    def _set(self, option: str, value: object) -> None:
        """Set an option the scanner has; a scanner without it keeps its own default."""
        for candidate in (value, value.title()) if isinstance(value, str) else (value,):
            try:
                setattr(self.device, option, candidate)
                return
            except self._errors as exc:
                log.info("SANE option %s=%r not taken: %s", option, candidate, exc)

    def _uses_feeder(self) -> bool:
        try:
            source = str(getattr(self.device, "source", ""))
        except self._errors:
            return False
        return any(word in source.lower() for word in ("adf", "feeder", "duplex"))

    def scan(self) -> ScannedDocument:
        try:
            if self._uses_feeder():
                pages = [page.copy() for _, page in zip(range(MAX_PAGES),
                                                        self.device.multi_scan())]
            else:
                pages = [self.device.scan()]
        except self._errors as exc:
            raise ScanError(MESSAGE_FAILED, f"SANE: {exc}") from exc
        if not pages:
            raise ScanError(MESSAGE_FAILED, "SANE: the feeder was empty")
        return ScannedDocument(pages=[p.convert("L" if self.grayscale else "RGB") for p in pages],
                               dpi=self.resolution, source=self.device_name or "sane")

    def close(self) -> None:
        self.device.close()
        self._sane.exit()


def build_document_scanner(config: DocumentScannerConfig) -> DocumentScanner | None:
    """The document scanner `config` names, or None when the kiosk has none."""
    if config.backend == "sane":
        return SaneScanner(config.device, resolution=config.resolution,
                           grayscale=config.grayscale)
    if config.backend == "hot_folder":
        assert config.folder is not None
        return HotFolderScanner(config.folder, settle_seconds=config.settle_seconds,
                                timeout_seconds=config.timeout_seconds)
    if config.backend == "fake":
        assert config.folder is not None
        return FakeScanner(config.folder)
    return None
