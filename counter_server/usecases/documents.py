"""Documents handed in with a request: checked by their bytes, bounded, stored safely; while
staff wait for documents they named, the applicant may hand in only those.

Bounded means more than bytes: a small file can decode to gigabytes (thousands of blank TIFF
pages, an image declaring huge dimensions). An upload is refused past `MAX_PAGES` pages
(TIFF frames, PDF pages) or `MAX_PIXELS` pixels over all its frames, and Pillow's
decompression-bomb warning is an error; the desk's preview (`preview_pages`) keeps the same
bounds for files stored before them, and draws at most `PREVIEW_PAGES` pages.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageSequence, UnidentifiedImageError
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.models import RequestDocument, RequestEvent, ServiceRequest
from counter_server.storage import Storage
from counter_server.usecases import stored_files
from shared.catalog.labels import FILE_FORMATS
from shared.catalog.schema import FileFormat
from shared.text import format_number
from shared.workflow import Action, Status

if TYPE_CHECKING:
    from counter_server.usecases.tracking_reads import Event, TrackedRequest

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MEDIA_TYPES = {
    FileFormat.pdf: "application/pdf",
    FileFormat.jpeg: "image/jpeg",
    FileFormat.png: "image/png",
    FileFormat.tiff: "image/tiff",
}
EXTENSIONS = {FileFormat.pdf: "pdf", FileFormat.jpeg: "jpg", FileFormat.png: "png",
              FileFormat.tiff: "tif"}
Image.MAX_IMAGE_PIXELS = 100_000_000  # one frame; beyond it Pillow warns (an error here)
MAX_PAGES = 100  # TIFF frames or PDF pages of one document
MAX_PIXELS = 400_000_000  # over all the frames of one image (about 45 A4 pages at 300 dpi)
PREVIEW_PAGES = 20
MEGABYTE = 1024 * 1024


class DocumentRejected(Exception):
    """A file that cannot be taken, with a stable code and a Persian message."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Upload:
    client_id: str
    slot: str
    filename: str
    data: bytes


def sniff(data: bytes) -> FileFormat | None:
    """The format the bytes really are, whatever the file is called."""
    if data.startswith(b"%PDF-"):
        return FileFormat.pdf
    if data.startswith(b"\xff\xd8\xff"):
        return FileFormat.jpeg
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileFormat.png
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return FileFormat.tiff
    return None


class TooBig(Exception):
    """An image or PDF beyond `MAX_PAGES` or `MAX_PIXELS`, or a decompression bomb."""


@contextmanager
def bounded_image(data: bytes) -> Iterator[Image.Image]:
    """The image in `data`, opened once its frames were counted against `MAX_PAGES` and
    `MAX_PIXELS` (from the headers: nothing is decoded). TooBig past them, or when Pillow
    sees a decompression bomb; Pillow's own errors for a damaged file."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                pixels = 0
                for index, frame in enumerate(ImageSequence.Iterator(image)):
                    pixels += frame.width * frame.height
                    if index >= MAX_PAGES or pixels > MAX_PIXELS:
                        raise TooBig(f"frame {index + 1}, {pixels} pixels")
                image.seek(0)
                yield image
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise TooBig(str(exc)) from exc


PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def pdf_pages(data: bytes) -> int:
    """The number of pages of a PDF: its page tree's count, or (when it cannot be parsed) the
    page objects in plain sight; the larger when both are known."""
    in_sight = len(PDF_PAGE.findall(data))
    try:
        counted = int(PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001  — any parse failure: count what is in sight
        return in_sight
    return max(counted, in_sight)


def _intact(data: bytes, kind: FileFormat) -> bool:
    """False for a damaged file; TooBig for one beyond the bounds."""
    if kind is FileFormat.pdf:
        if pdf_pages(data) > MAX_PAGES:
            raise TooBig("pages")
        return b"%%EOF" in data[-2048:]
    try:
        with bounded_image(data) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return False
    return True


def preview_png(data: bytes, width: int = 1600) -> bytes:
    """A PNG of an image the browser cannot show itself (TIFF): its first `PREVIEW_PAGES`
    pages, each at most `width` pixels square, stacked. TooBig for an image beyond the
    upload's bounds (one stored before them), so a preview never decodes a bomb."""
    pages = []
    with bounded_image(data) as image:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= PREVIEW_PAGES:
                break
            page = frame.convert("RGB")
            page.thumbnail((width, width))
            pages.append(page)
    sheet = Image.new("RGB", (max(p.width for p in pages), sum(p.height for p in pages)),
                      "white")
    top = 0
    for page in pages:
        sheet.paste(page, (0, top))
        top += page.height
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG")
    return buffer.getvalue()


def display_name(filename: str) -> str:
    """The file's own name, for display only: no folders, no control characters."""
    name = PurePath(filename.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")
    return name[:200] or "document"


def slot_spec(request: ServiceRequest, slot: str) -> dict[str, Any]:
    spec = next((d for d in request.service.get("documents", []) if d["id"] == slot), None)
    if spec is None:
        raise DocumentRejected("unknown_document_slot", "این مدرک در فهرست مدارک این خدمت نیست.")
    return spec


def last_ask(request: ServiceRequest | TrackedRequest) -> RequestEvent | Event | None:
    """The event in which staff last asked the applicant for documents or a correction."""
    return next((e for e in reversed(request.events) if e.action == Action.request_documents),
                None)


def asked_slots(request: ServiceRequest | TrackedRequest) -> list[str] | None:
    """The document slots the request waits for, as staff chose them when asking; None when
    it is not waiting for the applicant or the ask named none (its note says what is needed)."""
    ask = last_ask(request) if request.status == Status.waiting_citizen else None
    chosen = (ask.details or {}).get("documents") if ask is not None else None
    return list(chosen) if chosen else None


def slot_names(request: ServiceRequest | TrackedRequest, slots: list[str]) -> list[str]:
    """The titles of `slots` in the request's terms (a slot the terms lack keeps its id)."""
    names = {d["id"]: d["name"] for d in request.service.get("documents", [])}
    return [names.get(slot, slot) for slot in slots]


def check_asked(request: ServiceRequest, slot: str) -> None:
    """DocumentRejected when the request waits for named documents and `slot` is not one."""
    asked = asked_slots(request)
    if asked is not None and slot not in asked:
        wanted = "، ".join(f"«{name}»" for name in slot_names(request, asked))
        raise DocumentRejected(
            "document_not_asked",
            f"«{slot_names(request, [slot])[0]}» از شما خواسته نشده است؛ "
            f"فقط این مدارک را بفرستید: {wanted}.")


def megabytes(size: int) -> str:
    """A size in whole megabytes, rounded up, in Persian digits: «۱۰»."""
    return format_number(math.ceil(size / MEGABYTE))


def check_total(sizes: Sequence[int], max_total: int) -> None:
    """DocumentRejected when the files of one filing or one hand-in weigh more than
    `max_total` together (each is checked against its own limit by `check`)."""
    total = sum(sizes)
    if total > max_total:
        raise DocumentRejected(
            "documents_too_large",
            f"پرونده‌های انتخاب‌شده روی هم {megabytes(total)} مگابایت است و بیش از "
            f"{megabytes(max_total)} مگابایت پذیرفته نمی‌شود؛ پرونده‌ها را کم‌حجم‌تر کنید "
            "(برای نمونه با وضوح کمتر اسکن کنید) و دوباره بفرستید.")


def check(upload: Upload, spec: dict[str, Any], max_bytes: int) -> FileFormat:
    """The file's format if it may be taken for this slot; DocumentRejected otherwise."""
    if not upload.data:
        raise DocumentRejected("document_empty", f"پرونده «{spec['name']}» خالی است.")
    if len(upload.data) > max_bytes:
        raise DocumentRejected("document_too_large",
                               f"حجم پرونده «{spec['name']}» بیش از {megabytes(max_bytes)} "
                               "مگابایت است.")
    kind = sniff(upload.data)
    accepted = [FileFormat(f) for f in spec["formats"]]
    if kind not in accepted:
        names = "، ".join(FILE_FORMATS[f] for f in accepted)
        raise DocumentRejected("document_format_not_accepted",
                               f"قالب پرونده «{spec['name']}» پذیرفته نیست؛ قالب‌های مجاز: {names}.")
    try:
        intact = _intact(upload.data, kind)
    except TooBig:
        raise DocumentRejected(
            "document_too_many_pages",
            f"پرونده «{spec['name']}» بیش از حد بزرگ است: حداکثر {format_number(MAX_PAGES)} "
            "صفحه و تصویری با ابعاد معمول یک اسکن پذیرفته می‌شود.") from None
    if not intact:
        raise DocumentRejected("document_damaged",
                               f"پرونده «{spec['name']}» خراب یا ناقص است؛ دوباره اسکن یا ذخیره کنید.")
    return kind


def attach(session: Session, storage: Storage, request: ServiceRequest, upload: Upload,
           uploaded_by: str, max_bytes: int = DEFAULT_MAX_BYTES,
           user_id: int | None = None) -> tuple[RequestDocument, bool]:
    """Store `upload` for `request`; (document, created). A replayed client id is a no-op."""
    digest = hashlib.sha256(upload.data).hexdigest()
    existing = session.scalar(select(RequestDocument)
                              .where(RequestDocument.client_id == upload.client_id))
    if existing is not None:
        if existing.request_id == request.id and existing.sha256 == digest:
            return existing, False
        raise DocumentRejected("idempotency_key_reused",
                               "این شناسه پیش‌تر برای پرونده دیگری به کار رفته است.")
    spec = slot_spec(request, upload.slot)
    if uploaded_by == "citizen":
        check_asked(request, upload.slot)
    kind = check(upload, spec, max_bytes)
    current = [d for d in request.documents if d.slot == upload.slot and not d.replaced]
    if len(current) >= spec["count"]:
        if request.status != Status.waiting_citizen:
            raise DocumentRejected(
                "document_slot_full",
                f"برای «{spec['name']}» بیش از {format_number(spec['count'])} پرونده پذیرفته نمی‌شود.")
        current[0].replaced = True  # a corrected document replaces the earliest one
    stored = storage.save(upload.data, EXTENSIONS[kind])
    stored_files.delete_on_rollback(session, storage, stored)
    try:
        document = RequestDocument(
            client_id=upload.client_id, slot=upload.slot, original_name=display_name(upload.filename),
            stored_name=stored, media_type=MEDIA_TYPES[kind], size=len(upload.data), sha256=digest,
            uploaded_by=uploaded_by)
        request.documents.append(document)
        request.events.append(RequestEvent(
            action="document_added", actor=uploaded_by, user_id=user_id,
            from_status=request.status, to_status=request.status, step=request.current_step,
            details={"slot": upload.slot, "name": document.original_name}))
        session.flush()
    except Exception:
        storage.delete(stored)
        raise
    return document, True

