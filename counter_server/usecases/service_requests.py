"""Filing requests: one use case for the API, the online form and the counter.

Every submission carries a client-chosen id. The same id with the same body returns the
original request; with a different body it is refused. Kiosk submissions carry the code the
kiosk already printed and are never refused for their fields: the citizen holds the receipt,
so a request that no longer fits the current catalog is filed and flagged for staff.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from counter_server.db import utcnow
from counter_server.models import RequestEvent, ServiceRequest, User
from counter_server.usecases import catalog_versions, inquiries, notifications
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.kiosks import Caller
from shared import tracking_codes
from shared.catalog.schema import Channel, ServiceSpec
from shared.forms import validate_applicant, validate_form
from shared.workflow import Action, Status


class SubmissionRefused(Exception):
    """A submission that cannot be filed: a stable code, a Persian message, field errors."""

    def __init__(self, code: str, message: str, errors: dict[str, str] | None = None,
                 status: int = 422):
        super().__init__(code)
        self.code, self.message, self.errors, self.status = code, message, errors, status


@dataclass(frozen=True)
class Submission:
    """What a client sends to file a request (see POST /api/v1/requests)."""

    client_id: str
    service: str
    channel: str
    applicant: dict[str, Any]
    fields: dict[str, Any] = field(default_factory=dict)
    tracking_code: str | None = None
    catalog_version: int | None = None
    created_at: datetime | None = None

    def digest(self) -> str:
        body = asdict(self)
        body["created_at"] = self.created_at.isoformat() if self.created_at else None
        canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Filed:
    request: ServiceRequest
    created: bool  # False when this was a replay of an earlier submission


def find_by_code(session: Session, code: str, with_history: bool = False
                 ) -> ServiceRequest | None:
    """The request with this code; `with_history` loads its events, documents and inquiries
    in the same indexed query (what the tracking page shows)."""
    query = select(ServiceRequest).where(ServiceRequest.tracking_code == code)
    if with_history:
        query = query.options(joinedload(ServiceRequest.events),
                              joinedload(ServiceRequest.documents),
                              joinedload(ServiceRequest.inquiries))
    return session.scalars(query).unique().first()


def is_filed(session: Session, client_id: str) -> bool:
    """True when a request was already filed under `client_id` (a replay answers with it)."""
    return session.scalar(select(ServiceRequest.id)
                          .where(ServiceRequest.client_id == client_id)) is not None


def _replay(session: Session, submission: Submission, digest: str) -> Filed | None:
    existing = session.scalar(select(ServiceRequest)
                              .where(ServiceRequest.client_id == submission.client_id))
    if existing is None:
        return None
    if existing.body_digest != digest:
        raise SubmissionRefused("idempotency_key_reused",
                                "این شناسه درخواست پیش‌تر با محتوای دیگری به کار رفته است.")
    return Filed(existing, created=False)


def submit(session: Session, submission: Submission, *, kiosk: Caller | None = None,
           user: User | None = None, public_url: str = "",
           mobile_check: inquiries.MobileCheck | None = None) -> Filed:
    """File `submission` (or return the request it already filed), with its inquiries due
    on filing queued; `mobile_check` is the answer of the check made before an online
    filing, recorded with it. The caller commits."""
    digest = submission.digest()
    replay = _replay(session, submission, digest)
    if replay:
        return replay
    _check_channel(submission, kiosk, user)
    snapshot = catalog_versions.current_snapshot(session)
    if submission.channel == Channel.kiosk:
        version, spec, values, applicant, flags = _kiosk_terms(session, snapshot, submission)
        code = _kiosk_code(session, submission, kiosk)
    else:
        spec, values, applicant = _online_terms(snapshot, submission)
        version, flags, code = snapshot.version, [], _fresh_code(session)
    now = utcnow()
    request = ServiceRequest(
        tracking_code=code, client_id=submission.client_id, body_digest=digest,
        service_slug=spec.slug, catalog_version=version, channel=submission.channel,
        kiosk_id=kiosk.id if kiosk else None, created_by_id=user.id if user else None,
        applicant_name=applicant["name"], applicant_national_code=applicant["national_code"],
        applicant_mobile=applicant["mobile"], fields=values, status=Status.submitted,
        current_step=spec.step_after_filing.id, flags=flags,
        due_date=spec.duration.due_date(now, snapshot.calendar), client_created_at=submission.created_at,
        created_at=now, events=[], documents=[],  # new: known empty, never lazy-loaded
    )
    session.add(request)
    session.flush()
    record_event(session, request, Action.submit, actor=_actor(submission.channel),
                 user=user, from_status=None, public_url=public_url,
                 details={"flags": flags} if flags else {})
    if mobile_check is not None:
        inquiries.record_mobile_check(session, request, mobile_check)
    inquiries.schedule(session, request, spec,
                       existing={mobile_check.wanted.id} if mobile_check else set())
    return Filed(request, created=True)


def _actor(channel: str) -> str:
    return {"kiosk": "kiosk", "counter": "staff"}.get(channel, "citizen")


def _check_channel(submission: Submission, kiosk: Caller | None, user: User | None) -> None:
    if submission.channel == Channel.kiosk and kiosk is None:
        raise SubmissionRefused("kiosk_token_required",
                                "درخواست کیوسک باید با توکن همان کیوسک فرستاده شود.", status=401)
    if submission.channel == Channel.counter and user is None:
        raise SubmissionRefused("staff_login_required",
                                "ثبت درخواست در باجه فقط برای کارکنان ممکن است.", status=401)
    if kiosk is not None and submission.channel != Channel.kiosk:
        raise SubmissionRefused("channel_mismatch", "کیوسک فقط درخواست کیوسکی ثبت می‌کند.")


def _online_terms(snapshot: Snapshot, submission: Submission
                  ) -> tuple[ServiceSpec, dict[str, Any], dict[str, str]]:
    spec = snapshot.service(submission.service)
    if spec is None:
        raise SubmissionRefused("service_not_found", "خدمتی با این شناسه ارائه نمی‌شود.")
    if Channel(submission.channel) not in spec.channels:
        raise SubmissionRefused("channel_not_offered", "این خدمت از این راه ارائه نمی‌شود.")
    values, applicant = validate_fields(spec, submission)
    return spec, values, applicant


def validate_fields(spec: ServiceSpec, submission: Submission
                    ) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned form values and applicant; SubmissionRefused with every field's error."""
    applicant = validate_applicant(submission.applicant)
    form = validate_form(spec.form, submission.fields)
    errors = {f"applicant.{k}": v for k, v in applicant.errors.items()} | {
        f"fields.{k}": v for k, v in form.errors.items()}
    if errors:
        raise SubmissionRefused("validation_failed",
                                "برخی از اطلاعات واردشده درست نیست.", errors=errors)
    return form.values, {k: str(v) for k, v in applicant.values.items()}


def _kiosk_terms(session: Session, snapshot: Snapshot, submission: Submission
                 ) -> tuple[int, ServiceSpec, dict[str, Any], dict[str, str], list[str]]:
    """Validate against the catalog the kiosk used; flag, never refuse, what no longer fits.

    Returns the catalog version whose terms apply, the service, values, applicant, flags.
    """
    flags: list[str] = []
    filled_against = _snapshot_of(session, submission.catalog_version, snapshot)
    if filled_against.service(submission.service) is None:
        filled_against = snapshot
    spec = filled_against.service(submission.service)
    if spec is None:
        raise SubmissionRefused("service_not_found", "خدمتی با این شناسه در فهرست خدمات نیست.")
    current = snapshot.service(submission.service)
    if current is None:
        flags.append("service_withdrawn")
    elif filled_against.version != snapshot.version and not validate_form(
            current.form, submission.fields).ok:
        flags.append("form_changed")
    applicant = validate_applicant(submission.applicant)
    form = validate_form(spec.form, submission.fields, allow_unknown=True)
    if not applicant.ok or not form.ok:
        flags.append("invalid_fields")
    values = form.values if form.ok else dict(submission.fields)
    person = {key: str(applicant.values.get(key, submission.applicant.get(key, "")))[:100]
              for key in ("name", "national_code", "mobile")}
    return filled_against.version, spec, values, person, flags


def _snapshot_of(session: Session, version: int | None, current: Snapshot) -> Snapshot:
    """The snapshot of `version` (the current one when it is that, unknown or not given)."""
    if version is None or version == current.version:
        return current
    row = catalog_versions.version_row(session, version)
    return Snapshot.from_row(row) if row else current


def _kiosk_code(session: Session, submission: Submission, kiosk: Caller | None) -> str:
    if not submission.tracking_code:
        raise SubmissionRefused("tracking_code_required", tracking_codes.MESSAGE_REQUIRED,
                                errors={"tracking_code": tracking_codes.MESSAGE_REQUIRED})
    try:
        code = tracking_codes.normalize(submission.tracking_code)
    except tracking_codes.InvalidCode as exc:
        raise SubmissionRefused(exc.code, exc.message,
                                errors={"tracking_code": exc.message}) from None
    if kiosk is None or tracking_codes.issuer_of(code) != kiosk.id:
        raise SubmissionRefused("tracking_code_issuer_mismatch",
                                "کد رهگیری از سری کدهای این کیوسک نیست.")
    if find_by_code(session, code) is not None:
        raise SubmissionRefused("tracking_code_taken",
                                "این کد رهگیری پیش‌تر برای درخواست دیگری ثبت شده است.",
                                status=409)
    return code


def _fresh_code(session: Session) -> str:
    """A code of the server's own series (issuer 00) that no request has yet."""
    while True:
        code = tracking_codes.new_code(0)
        if find_by_code(session, code) is None:
            return code


def record_event(session: Session, request: ServiceRequest, action: Action | str, *,
                 actor: str, user: User | None, from_status: str | None,
                 public_note: str | None = None, internal_note: str | None = None,
                 details: dict[str, Any] | None = None, public_url: str = "",
                 notify: bool = True) -> RequestEvent:
    """Store what happened and, in the same transaction, the SMS that announces it."""
    event = RequestEvent(action=str(action), actor=actor, user_id=user.id if user else None,
                         from_status=from_status, to_status=request.status,
                         step=request.current_step, public_note=public_note or None,
                         internal_note=internal_note or None, details=details or {})
    request.events.append(event)
    session.flush()
    if notify:
        notifications.enqueue(session, request, event, public_url)
    return event
