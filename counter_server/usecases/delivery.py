"""Electronic delivery: issuing a request's document, signed and sealed, and revoking it.

A clerk issues the document when the request is approved or completed: drawn from the
service's output template in the catalog (the terms the request was filed under; the
current catalog's when those had none), or a PDF made elsewhere and uploaded. Either way
Miz signs the PDF (PAdES, `counter_server/delivery/pdf_signing.py`), seals its facts
(`shared/seals.py`), stores it (`counter_server/storage.py`) and writes the issue in the
audit log. The click's client id makes issuing idempotent: the same id gives back the
document it made. A supervisor revokes a document with a reason; `state` says whether a
document is valid, revoked or expired.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimestampRequestError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_server.delivery import keys
from counter_server.delivery.pdf_signing import is_pdf, sign_pdf
from counter_server.delivery.render import Applicant, from_template, render_pdf
from counter_server.models import Deliverable, ServiceRequest, User
from counter_server.storage import Storage
from counter_server.usecases import audit, catalog_versions, stored_files
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


class DeliveryRefused(Exception):
    """A delivery that cannot be done; `code` is stable, `message` Persian."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Signing:
    """What issuing needs besides the database: the keys, the assets (fonts, logo), and the
    largest PDF an upload may be."""

    keys: keys.KeySettings
    assets: Path
    max_bytes: int


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


def verify_url(public_url: str, deliverable: Deliverable) -> str:
    return f"{public_url.rstrip('/')}/v/{deliverable.public_id}"


def verification(deliverable: Deliverable, today: date) -> dict[str, object]:
    """What anyone may learn of a document by its public id: its state and what its paper
    shows, never the holder's details (`GET /api/v1/verify/<id>`)."""
    return {"status": state(deliverable, today), "kind": deliverable.kind,
            "number": deliverable.number, "issued_at": deliverable.issued_at.isoformat(),
            "expires_at": deliverable.expires_on.isoformat() if deliverable.expires_on else None,
            "sha256": deliverable.sha256}


def tracked(session: Session, request: ServiceRequest, public_url: str) -> list[dict[str, str]]:
    """The documents delivered for `request`, as its tracking shows them."""
    return [{"id": d.public_id, "title": d.title, "issued_at": d.issued_at.isoformat(),
             "verify_url": verify_url(public_url, d)} for d in of_request(session, request)]


def output_of(session: Session, request: ServiceRequest) -> OutputSpec | None:
    """The request's output template: its own terms', else the current catalog's."""
    spec = ServiceSpec.model_validate(request.service)
    if spec.output is not None:
        return spec.output
    current = catalog_versions.current_snapshot(session).service(request.service_slug)
    return current.output if current is not None else None


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
        return given.pdf
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
        raise DeliveryRefused("keys_missing", "کلید امضای اسناد هنوز ساخته نشده است؛ "
                                              "به راهبر سامانه خبر دهید.", 503) from None
    except (PdfError, SigningError):
        raise DeliveryRefused("not_signable", "این PDF را نمی‌توان امضا کرد؛ آن را دوباره "
                                              "به PDF ساده (بدون گذرواژه) ذخیره کنید.") from None
    except TimestampRequestError:
        raise DeliveryRefused("timestamp_unavailable", "سرور مهر زمانی پاسخ نداد؛ چند دقیقه "
                                                       "بعد دوباره صادر کنید.", 503) from None


def issue(session: Session, storage: Storage, signing: Signing, request: ServiceRequest,
          user: User, given: Issue, now: datetime,
          address: str | None = None) -> tuple[Deliverable, bool]:
    """Issue `request`'s document as `user`: (document, created). The caller commits."""
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
        raise DeliveryRefused("keys_missing", "کلید مهر اسناد هنوز ساخته نشده است؛ "
                                              "به راهبر سامانه خبر دهید.", 503) from None
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
