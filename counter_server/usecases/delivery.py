"""Electronic delivery: issuing a request's document, signed and sealed, and revoking it.

A clerk issues the document when the request is approved or completed: drawn from the
service's output template in the catalog (the terms the request was filed under; the
current catalog's when those had none), or a PDF made elsewhere and uploaded. Either way
Miz seals its facts (`shared/seals.py`; an uploaded PDF gets the seal stamped on its last
page, `counter_server/delivery/stamping.py`), signs the PDF (PAdES,
`counter_server/delivery/pdf_signing.py`), stores it (`counter_server/storage.py`), writes the
issue in the audit log and, in the same transaction, the SMS that tells the applicant their
result is ready. The click's client id makes issuing idempotent: the same id gives back the
document it made. A supervisor revokes a document with a reason; `state` says whether a
document is valid, revoked or expired.

Kiosks check seals offline, so they learn revocations beside the catalog
(`revocations_since`: every revocation after a cursor, in the order they were made, with
the seal keys to trust), and print a delivery slip for the holder after the kiosk's
national-code check (`for_the_holder`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimestampRequestError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from counter_server.delivery import keys
from counter_server.delivery.pdf_signing import is_pdf, sign_pdf
from counter_server.delivery.render import Applicant, from_template, render_pdf
from counter_server.delivery.stamping import stamp_seal
from counter_server.models import Deliverable, ServiceRequest, User


class Delivered(Protocol):
    """What tracking shows of a delivered document (a `Deliverable` or a tracking read's)."""

    @property
    def public_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...
from counter_server.storage import Storage
from counter_server.usecases import (
    audit,
    catalog_versions,
    notifications,
    public_tracking,
    stored_files,
)
from counter_server.usecases.staff import Role, may_work_on
from shared import jalali
from shared.catalog.schema import Catalog, OutputSpec, ServiceSpec
from shared.seals import (
    MAX_HOLDER,
    OutputKind,
    SealFacts,
    mask_national_code,
    new_document_id,
    seal_text,
)
from shared.text import format_number
from shared.workflow import Status

ISSUABLE = frozenset({Status.approved, Status.completed})
REVOKERS = frozenset({Role.supervisor, Role.admin})
MAX_REASON = 500
KEYS_COMMAND = "flask --app counter_server keys init"


class DeliveryRefused(Exception):
    """A delivery that cannot be done; `code` is stable, `message` Persian."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


def _keys_missing() -> DeliveryRefused:
    return DeliveryRefused(
        "keys_missing", "کلیدهای امضا و مهر اسناد هنوز ساخته نشده است؛ راهبر سامانه باید "
                        f"فرمان «{KEYS_COMMAND}» را روی سرور اجرا کند (یا پرونده‌های کلید اداره "
                        "را معرفی کند) و سپس سند را دوباره صادر کنید.", 503)


@dataclass(frozen=True)
class Signing:
    """What issuing needs besides the database: the keys, the assets (fonts, logo), and the
    largest PDF an upload may be."""

    keys: keys.KeySettings
    assets: Path
    max_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Signing:
        return cls(keys.KeySettings.from_config(config), Path(config["ASSETS_DIR"]),
                   int(config["MAX_DOCUMENT_BYTES"]))


@dataclass(frozen=True)
class Issue:
    """One click of «صدور سند»: its client id, and an uploaded PDF or None (the template)."""

    client_id: str
    pdf: bytes | None = None
    title: str | None = None


def find(session: Session, public_id: str) -> Deliverable | None:
    return session.scalar(select(Deliverable).where(Deliverable.public_id == public_id))


def of_request(session: Session, request: ServiceRequest) -> list[Deliverable]:
    """The documents issued for `request`, oldest first."""
    return list(session.scalars(select(Deliverable).where(Deliverable.request_id == request.id)
                                .order_by(Deliverable.id)))


def state(deliverable: Deliverable, today: date) -> str:
    """"revoked", "expired" (after its expiry date, Tehran's `today`) or "valid"."""
    if deliverable.revoked_at is not None:
        return "revoked"
    if deliverable.expires_on is not None and today > deliverable.expires_on:
        return "expired"
    return "valid"


def is_public_id(value: str) -> bool:
    """Whether `value` looks like a document's public id (checked before any lookup)."""
    return len(value) == 24 and all(ch in "abcdefghijklmnopqrstuvwxyz234567" for ch in value)


def file_name(deliverable: Deliverable) -> str:
    """A safe name to save the signed PDF under: its kind and number, ASCII only
    («card-1405-000001.pdf»)."""
    number = "".join(ch for ch in deliverable.number
                     if ch.isascii() and (ch.isalnum() or ch == "-"))
    return f"{deliverable.kind}-{number or deliverable.public_id}.pdf"


def verify_url(public_url: str, deliverable: Delivered) -> str:
    return f"{public_url.rstrip('/')}/v/{deliverable.public_id}"


def verification(deliverable: Deliverable, today: date) -> dict[str, object]:
    """What anyone may learn of a document by its public id: its state and what its paper
    shows, never the holder's details (`GET /api/v1/verify/<id>`)."""
    return {"status": state(deliverable, today), "kind": deliverable.kind,
            "number": deliverable.number, "issued_at": deliverable.issued_at.isoformat(),
            "expires_at": deliverable.expires_on.isoformat() if deliverable.expires_on else None,
            "sha256": deliverable.sha256}


def listed(delivered: Iterable[Delivered], public_url: str) -> list[dict[str, str]]:
    """Delivered documents as tracking shows them."""
    return [{"id": d.public_id, "title": d.title, "issued_at": d.issued_at.isoformat(),
             "verify_url": verify_url(public_url, d)} for d in delivered]


def output_of(session: Session, request: ServiceRequest) -> OutputSpec | None:
    """The request's output template: its own terms', else the current catalog's."""
    spec = ServiceSpec.model_validate(request.service)
    if spec.output is not None:
        return spec.output
    current = catalog_versions.current_snapshot(session).service(request.service_slug)
    return current.output if current is not None else None


@dataclass(frozen=True)
class Preview:
    """What issuing from the template would print now: the desk shows it beside the button."""

    title: str
    kind: OutputKind
    holder: str
    masked_national_code: str
    number: str
    issued_on: date
    expires_on: date | None


def preview(session: Session, request: ServiceRequest, now: datetime) -> Preview | None:
    """The document the template would make for `request` at `now` (its number the next one
    free now), or None when the service has no output template."""
    output = output_of(session, request)
    if output is None:
        return None
    issued_on = jalali.to_local(now).date()
    validity = output.validity_days
    return Preview(title=output.title, kind=output.kind,
                   holder=request.applicant_name.strip()[:MAX_HOLDER].strip(),
                   masked_national_code=mask_national_code(request.applicant_national_code),
                   number=_next_number(session, issued_on), issued_on=issued_on,
                   expires_on=(date.fromordinal(issued_on.toordinal() + validity)
                               if validity else None))


def needs_download_code(session: Session, request: ServiceRequest) -> bool:
    """Whether the citizen must also type a one-time code sent to the applicant's mobile
    before downloading `request`'s documents (the service's `output.download_code`)."""
    output = output_of(session, request)
    return output is not None and output.download_code


def _replayed(session: Session, request: ServiceRequest, given: Issue) -> Deliverable | None:
    existing = session.scalar(select(Deliverable).where(Deliverable.client_id == given.client_id))
    if existing is None:
        return None
    source = "upload" if given.pdf is not None else "template"
    if existing.request_id != request.id or existing.source != source:
        raise DeliveryRefused("idempotency_key_reused",
                              "این شناسه پیش‌تر برای صدور سند دیگری به کار رفته است.")
    return existing


def _check(request: ServiceRequest, user: User, given: Issue, output: OutputSpec | None,
           max_bytes: int) -> None:
    if not may_work_on(user, request.service_slug):
        raise DeliveryRefused("forbidden",
                              "این درخواست به خدمت‌های واگذارشده به شما مربوط نیست.", 403)
    if request.assigned_to_id not in (None, user.id) and user.role not in REVOKERS:
        raise DeliveryRefused("claimed_by_another", "این درخواست را همکار دیگری برداشته است.",
                              403)
    if request.status not in ISSUABLE:
        raise DeliveryRefused("request_not_finished",
                              "سند را پس از تأیید یا انجام درخواست می‌توان صادر کرد.")
    if given.pdf is None and output is None:
        raise DeliveryRefused("no_output_template",
                              "این خدمت قالب سندی ندارد؛ سند را به صورت PDF بارگذاری کنید.")
    if given.pdf is not None and len(given.pdf) > max_bytes:
        limit = format_number(max_bytes // (1024 * 1024))
        raise DeliveryRefused("document_too_large", f"حجم سند بیش از {limit} مگابایت است.")
    if given.pdf is not None and not is_pdf(given.pdf):
        raise DeliveryRefused("not_a_pdf",
                              "پرونده بارگذاری‌شده PDF سالم نیست؛ سند را دوباره به PDF ذخیره کنید.")


def _next_number(session: Session, issued_on: date) -> str:
    """The next document number of the Jalali year: «1405-000001», «1405-000002» …"""
    year = jalali.to_jalali(issued_on).year
    last = session.scalar(select(func.max(Deliverable.number))
                          .where(Deliverable.number.like(f"{year}-%")))
    following = int(last.split("-")[1]) + 1 if last else 1
    return f"{year}-{following:06d}"


def _facts(session: Session, request: ServiceRequest, output: OutputSpec | None,
           issued_on: date) -> SealFacts:
    validity = output.validity_days if output else None
    expires = date.fromordinal(issued_on.toordinal() + validity) if validity else None
    return SealFacts(document_id=new_document_id(), number=_next_number(session, issued_on),
                     kind=output.kind if output else OutputKind.letter,
                     holder=request.applicant_name.strip()[:MAX_HOLDER].strip(),
                     masked_national_code=mask_national_code(request.applicant_national_code),
                     issued_on=issued_on, expires_on=expires)


def _pdf(request: ServiceRequest, given: Issue, output: OutputSpec | None, catalog: Catalog,
         facts: SealFacts, text: str, assets: Path) -> bytes:
    if given.pdf is not None:
        try:
            return stamp_seal(given.pdf, text)
        except (PdfError, ValueError, KeyError, TypeError):
            raise DeliveryRefused("not_signable", "مهر سند را نمی‌توان روی این PDF زد؛ آن را "
                                                  "دوباره به PDF ساده ذخیره کنید.") from None
    assert output is not None  # _check refused a template-less issue without an upload
    spec = ServiceSpec.model_validate(request.service)
    applicant = Applicant(request.applicant_name, request.applicant_national_code,
                          request.applicant_mobile)
    document = from_template(output, spec, catalog.agency, applicant, dict(request.fields),
                             request.tracking_code, facts, text)
    return render_pdf(document, assets)


def _signed(pdf: bytes, title: str, catalog: Catalog, settings: keys.KeySettings) -> bytes:
    try:
        with keys.pdf_signer(settings) as signer:
            return sign_pdf(pdf, signer, reason=f"صدور «{title}»",
                            location=catalog.agency.short_name or catalog.agency.name,
                            tsa_url=settings.tsa_url)
    except keys.KeysMissing:
        raise _keys_missing() from None
    except (PdfError, SigningError):
        raise DeliveryRefused("not_signable", "این PDF را نمی‌توان امضا کرد؛ آن را دوباره "
                                              "به PDF ساده (بدون گذرواژه) ذخیره کنید.") from None
    except TimestampRequestError:
        raise DeliveryRefused("timestamp_unavailable", "سرور مهر زمانی پاسخ نداد؛ چند دقیقه "
                                                       "بعد دوباره صادر کنید.", 503) from None


def issue(session: Session, storage: Storage, signing: Signing, request: ServiceRequest,
          user: User, given: Issue, now: datetime,
          address: str | None = None, public_url: str = "") -> tuple[Deliverable, bool]:
    """Issue `request`'s document as `user`: (document, created), and tell the applicant by
    SMS (the tracking page's link under `public_url`). The caller commits."""
    replayed = _replayed(session, request, given)
    if replayed is not None:
        return replayed, False
    output = output_of(session, request)
    _check(request, user, given, output, signing.max_bytes)
    catalog = catalog_versions.current_snapshot(session).catalog
    facts = _facts(session, request, output, jalali.to_local(now).date())
    try:
        text = seal_text(facts, keys.seal_key(signing.keys), str(catalog.agency.public_base_url))
    except keys.KeysMissing:
        raise _keys_missing() from None
    title = ((given.title or "").strip()[:200]
             or (output.title if output else request.service["title"]))
    signed = _signed(_pdf(request, given, output, catalog, facts, text, signing.assets), title,
                     catalog, signing.keys)
    stored = storage.save(signed, "pdf")
    stored_files.delete_on_rollback(session, storage, stored)
    try:
        deliverable = Deliverable(
            public_id=facts.document_id, client_id=given.client_id, request_id=request.id,
            kind=facts.kind.value, number=facts.number, title=title, holder=facts.holder,
            masked_national_code=facts.masked_national_code,
            source="upload" if given.pdf is not None else "template", issued_at=now,
            issued_on=facts.issued_on, expires_on=facts.expires_on,
            sha256=hashlib.sha256(signed).hexdigest(), size=len(signed), stored_name=stored,
            seal_text=text, issued_by_id=user.id)
        session.add(deliverable)
        session.flush()
    except Exception:
        storage.delete(stored)
        raise
    audit.record(session, user, "deliverable.issue", request, address=address,
                 deliverable=deliverable.public_id, number=deliverable.number,
                 source=deliverable.source, sha256=deliverable.sha256)
    notifications.announce_delivery(session, request, title,
                                    public_url or str(catalog.agency.public_base_url))
    return deliverable, True


def revoke(session: Session, deliverable: Deliverable, user: User, reason: str, now: datetime,
           address: str | None = None) -> Deliverable:
    """Revoke `deliverable` with a reason, as a supervisor. The caller commits."""
    if user.role not in REVOKERS:
        raise DeliveryRefused("forbidden", "باطل کردن سند با سرپرست است.", 403)
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= MAX_REASON:
        raise DeliveryRefused("reason_required", "دلیل باطل کردن سند را بنویسید "
                                                 f"(حداکثر {format_number(MAX_REASON)} نویسه).")
    if deliverable.revoked_at is not None:
        raise DeliveryRefused("already_revoked", "این سند پیش‌تر باطل شده است.", 409)
    deliverable.revoked_at, deliverable.revoked_by_id = now, user.id
    deliverable.revocation_reason = reason
    request = session.get(ServiceRequest, deliverable.request_id)
    audit.record(session, user, "deliverable.revoke", request, address=address,
                 deliverable=deliverable.public_id, number=deliverable.number, reason=reason)
    return deliverable


def is_the_issued_file(deliverable: Deliverable, data: bytes) -> bool:
    """Whether `data` is byte for byte the signed PDF that was issued."""
    return hashlib.sha256(data).hexdigest() == deliverable.sha256


def signed_pdf(session: Session, storage: Storage, deliverable: Deliverable, user: User | None,
               address: str | None = None) -> bytes:
    """The stored signed PDF, its download written in the audit log (by staff or the
    applicant, `user` None)."""
    request = session.get(ServiceRequest, deliverable.request_id)
    audit.record(session, user, "deliverable.download", request, address=address,
                 deliverable=deliverable.public_id, by="staff" if user else "applicant")
    return storage.read(deliverable.stored_name)


# --- what kiosks learn: revocations and seal keys ----------------------------------------

REVOCATION_PAGE = 500
_CURSOR = re.compile(r"([0-9]{1,19})\.([0-9]{1,18})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidCursor(ValueError):
    """A `since` cursor this server did not give."""


@dataclass(frozen=True)
class Revocations:
    """One page of revocations, the cursor after its last, and whether more follow."""

    items: list[Deliverable]
    cursor: str | None
    more: bool


def _cursor_of(deliverable: Deliverable) -> str:
    assert deliverable.revoked_at is not None
    micros = (deliverable.revoked_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{deliverable.id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise InvalidCursor(cursor)
    try:
        return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except OverflowError:
        raise InvalidCursor(cursor) from None


def revocations_since(session: Session, cursor: str | None, now: datetime,
                      settle: timedelta, limit: int = REVOCATION_PAGE) -> Revocations:
    """The revocations after `cursor` (None: from the first), oldest first, up to `limit`.

    Only revocations made `settle` or longer before `now` are given: a revocation whose
    transaction commits a moment after a later one cannot then fall behind a cursor already
    handed out. A revocation is final, so a page once given never changes. InvalidCursor
    for a cursor this server did not give."""
    query = select(Deliverable).where(Deliverable.revoked_at.is_not(None),
                                      Deliverable.revoked_at <= now - settle)
    if cursor:
        at, last_id = _parse_cursor(cursor)
        query = query.where(or_(Deliverable.revoked_at > at,
                                and_(Deliverable.revoked_at == at, Deliverable.id > last_id)))
    found = list(session.scalars(query.order_by(Deliverable.revoked_at, Deliverable.id)
                                 .limit(limit + 1)))
    page = found[:limit]
    return Revocations(page, _cursor_of(page[-1]) if page else cursor, len(found) > limit)


def revocation_json(deliverable: Deliverable) -> dict[str, object]:
    """What a kiosk keeps of a revocation: no personal data."""
    assert deliverable.revoked_at is not None
    return {"id": deliverable.public_id, "number": deliverable.number,
            "revoked_at": deliverable.revoked_at.isoformat(),
            "reason": deliverable.revocation_reason}


def seal_public_keys(settings: keys.KeySettings) -> list[str]:
    """The seal keys' public keys (PEM) kiosks trust; empty before `keys init`."""
    try:
        return [keys.seal_public_pem(settings)]
    except keys.KeysMissing:
        return []


# --- the holder at a kiosk ----------------------------------------------------------------

def for_the_holder(session: Session, request: ServiceRequest, national_code: str,
                   now: datetime) -> list[Deliverable]:
    """The documents delivered for `request`, once `national_code` is the applicant's (the
    kiosk scanned the receipt's QR too); failures count toward the applicant check's lock.
    The caller commits, also when refused (the failure must count)."""
    try:
        proven = public_tracking.verify_holder(request, national_code, now)
    except public_tracking.CheckLocked:
        raise DeliveryRefused("check_locked", "به دلیل چند تلاش ناموفق، بررسی هویت برای این "
                                              "کد موقتاً قفل است.", 429) from None
    if not proven:
        raise DeliveryRefused("not_the_applicant",
                              "کد ملی با اطلاعات این درخواست یکسان نیست.", 403)
    return of_request(session, request)


def holder_json(deliverable: Deliverable, today: date) -> dict[str, object]:
    """A delivered document as its holder's slip prints it, with the seal's text."""
    return {"id": deliverable.public_id, "title": deliverable.title, "kind": deliverable.kind,
            "number": deliverable.number, "holder": deliverable.holder,
            "masked_national_code": deliverable.masked_national_code,
            "issued_at": deliverable.issued_at.isoformat(),
            "issued_on": deliverable.issued_on.isoformat(),
            "expires_on": deliverable.expires_on.isoformat() if deliverable.expires_on else None,
            "status": state(deliverable, today), "seal_text": deliverable.seal_text,
            "sha256": deliverable.sha256, "size": deliverable.size}
