"""Inquiries of a request: scheduled with the change that calls for them, run by the worker,
recorded as evidence, read by clerks and — without personal data — by the citizen.

- `schedule(session, request, spec, step=None)`: in the transaction that files the request
  (step None) or moves it to `step`, an `Inquiry` row and a job for each inquiry due then.
- `handler(bus)`: the worker's handler for `inquiry` jobs: asks the agency, and returns the
  effect (evidence, result) that the worker writes as it settles the attempt.
- `check_mobile_before_filing`: the one inquiry an online filing waits for, briefly.
- `ask_again`, `record_manual`: what a clerk can do with an inquiry that failed.
- `blocking_problem`: why a request cannot go on while a blocking inquiry says no.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from counter_server.agencies.protocol import (
    Bus,
    BusBadSignature,
    BusError,
    BusMalformed,
    BusRefused,
    BusTimeout,
    Exchange,
)
from counter_server.db import Database, utcnow
from counter_server.jobs import queue as jobs
from counter_server.jobs.queue import Claimed
from counter_server.jobs.worker import Effect, JobContext, PermanentFailure, TemporaryFailure
from counter_server.models import CatalogVersion, Inquiry, InquiryExchange, ServiceRequest, User
from counter_server.usecases import audit, catalog_versions, evidence
from shared.catalog.schema import Channel, InquirySpec, ServiceSpec
from shared.forms import validate_applicant
from shared.inquiries import KINDS, InquiryKind, Reading, Verdict

if TYPE_CHECKING:
    from counter_server.usecases.tracking_reads import TrackedRequest

JOB_KIND = "inquiry"
PENDING, DONE, FAILED, MANUAL = "pending", "done", "failed", "manual"
STATUS_LABELS = {PENDING: "در انتظار پاسخ", DONE: "انجام شد", FAILED: "تأیید نشد",
                 MANUAL: "بررسی دستی"}


class InquiryRefused(Exception):
    """A clerk's action on an inquiry that cannot be done: a stable code, a Persian message."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


# --- scheduling -------------------------------------------------------------------------------

def _enqueue(session: Session, inquiry: Inquiry) -> None:
    _enqueue_round(session, inquiry.id, inquiry.request_id, inquiry.inquiry_id, inquiry.kind,
                   inquiry.round)


def _enqueue_round(session: Session, row_id: int, request_id: int, inquiry_id: str, kind: str,
                   round_: int) -> None:
    jobs.enqueue(session, JOB_KIND, f"inquiry:{request_id}:{inquiry_id}:{round_}",
                 {"inquiry": row_id, "round": round_}, target=KINDS[kind].target)


def schedule(session: Session, request: ServiceRequest, spec: ServiceSpec,
             step: str | None = None, existing: set[str] | None = None) -> list[int]:
    """Create, with their jobs and in the caller's transaction, the inquiries due on
    reaching `step` — or, with `step` None, on filing: those of no step and those of the
    step a request stands at once filed. An inquiry already there (`existing`, or read from
    the database when not given) is left as it is."""
    due = {step} if step is not None else {None, request.current_step}
    if not any(wanted.at_step in due for wanted in spec.inquiries):
        return []
    if existing is None:
        existing = set(session.scalars(select(Inquiry.inquiry_id)
                                       .where(Inquiry.request_id == request.id)))
    created = []
    for wanted in spec.inquiries:
        if wanted.at_step not in due or wanted.id in existing:
            continue
        row_id = session.execute(insert(Inquiry).values(
            request_id=request.id, inquiry_id=wanted.id, kind=wanted.kind,
            blocking=wanted.on_failure == "block", status=PENDING, round=1, attempts=0,
            created_at=utcnow()).returning(Inquiry.id)).scalar_one()
        _enqueue_round(session, row_id, request.id, wanted.id, wanted.kind, 1)
        created.append(row_id)
    return created


def inputs_of(request: ServiceRequest, wanted: InquirySpec) -> dict[str, str]:
    """The values an inquiry sends, from the applicant and the form (personal data)."""
    applicant = {"name": request.applicant_name, "mobile": request.applicant_mobile,
                 "national_code": request.applicant_national_code}
    values: dict[str, str] = {}
    for name, source in wanted.inputs.items():
        area, _, key = source.partition(".")
        value = applicant.get(key) if area == "applicant" else request.fields.get(key)
        values[name] = "" if value is None else str(value)
    return values


# --- running ----------------------------------------------------------------------------------

OUTCOMES: tuple[tuple[type[BusError], str], ...] = (
    (BusTimeout, "timeout"), (BusMalformed, "malformed"), (BusBadSignature, "bad_signature"),
    (BusRefused, "refused"))


def _outcome(error: BusError) -> str:
    return next((name for kind, name in OUTCOMES if isinstance(error, kind)), "unavailable")


def _entry(inquiry_id: int, round_: int, attempt: int, exchange: Exchange, outcome: str,
           note: str | None = None) -> evidence.Entry:
    return evidence.Entry(
        inquiry_id=inquiry_id, round=round_, attempt=attempt, outcome=outcome,
        target=exchange.target, sent_at=exchange.sent_at, received_at=exchange.received_at,
        message_id=exchange.message_id, reply_id=exchange.reply_id,
        http_status=exchange.http_status, request_body=exchange.request_body,
        reply_body=exchange.reply_body, signature=exchange.signature,
        signature_key=exchange.signature_key, signature_valid=exchange.signature_valid,
        note=note)


@dataclass(frozen=True)
class _Asking:
    """An attempt's inquiry, read before the call (nothing is held during it)."""

    inquiry_id: int
    request_id: int
    round: int
    kind: InquiryKind
    inputs: dict[str, str]
    message_id: str


_WANTED: dict[tuple[int, str, str], InquirySpec] = {}


def _wanted(session: Session, version: int, slug: str, inquiry_id: str) -> InquirySpec:
    """The catalog entry of an inquiry, as version `version` published it (kept: versions
    never change)."""
    key = (version, slug, inquiry_id)
    if key not in _WANTED:
        terms = session.get(CatalogVersion, version).service_terms(slug)  # type: ignore[union-attr]
        entry = next(i for i in terms["inquiries"] if i["id"] == inquiry_id)
        _WANTED[key] = InquirySpec.model_validate(entry)
    return _WANTED[key]


def _asking(context: JobContext, job: Claimed) -> _Asking | None:
    with context.db.session() as session:
        found = session.execute(
            select(Inquiry.id, Inquiry.round, Inquiry.kind, Inquiry.inquiry_id,
                   ServiceRequest.id, ServiceRequest.catalog_version, ServiceRequest.service_slug,
                   ServiceRequest.applicant_name, ServiceRequest.applicant_mobile,
                   ServiceRequest.applicant_national_code, ServiceRequest.fields)
            .join(ServiceRequest, ServiceRequest.id == Inquiry.request_id)
            .where(Inquiry.id == job.payload["inquiry"])).first()
        if found is None or found[1] != job.payload["round"]:
            return None  # asked again since: this round is over
        (inquiry_id, round_, kind, catalog_id, request_id, version, slug, name, mobile,
         national_code, fields) = found
        wanted = _wanted(session, version, slug, catalog_id)
    applicant = ServiceRequest(applicant_name=name, applicant_mobile=mobile,
                               applicant_national_code=national_code, fields=fields)
    return _Asking(inquiry_id, request_id, round_, KINDS[kind], inputs_of(applicant, wanted),
                   str(uuid.uuid5(uuid.NAMESPACE_URL, f"miz:{job.key}")))


NO_BUS = "no government service bus is configured (MIZ_INQUIRY_URL)"


def handler(bus: Bus | None):  # type: ignore[no-untyped-def]
    """The worker's handler of `inquiry` jobs, asking through `bus` (with none configured,
    jobs wait and retry, and nobody's circuit opens)."""

    def run(job: Claimed, context: JobContext) -> Effect | None:
        asking = _asking(context, job)
        if asking is None:
            return None
        if bus is None:
            raise TemporaryFailure(NO_BUS, blames_target=False)
        timeout = max(0.1, (context.deadline - context.now).total_seconds())
        try:
            exchange = bus.ask(asking.kind, asking.inputs, asking.message_id, timeout)
        except BusError as error:
            raise _failure(asking, job, error) from None
        return lambda session: _answered(session, asking, job.attempt, exchange)
    return run


def _failure(asking: _Asking, job: Claimed, error: BusError) -> TemporaryFailure:
    outcome = _outcome(error)

    def effect(session: Session, gave_up: bool) -> None:
        inquiry = session.get(Inquiry, asking.inquiry_id)
        assert inquiry is not None
        evidence.append(session, asking.request_id,
                        _entry(inquiry.id, asking.round, job.attempt, error.exchange, outcome,
                               note=str(error)))
        inquiry.attempts, inquiry.asked_at = inquiry.attempts + 1, error.exchange.sent_at
        if gave_up and inquiry.round == asking.round:
            inquiry.status = MANUAL
            inquiry.summary = f"{asking.kind.title}: {_why_not_done(asking.kind, error)}"
    failure_type = TemporaryFailure if error.temporary else PermanentFailure
    # The agency said the inputs are wrong or unknown: nothing wrong with the agency.
    blames = not (isinstance(error, BusRefused) and error.code in ("invalid_input", "not_found"))
    return failure_type(f"{outcome}: {error}", effect, blames_target=blames)


def _why_not_done(kind: InquiryKind, error: BusError) -> str:
    """Why an inquiry could not be done, in a few Persian words (no personal data)."""
    if isinstance(error, BusRefused):
        return {"not_found": f"در سامانه {kind.agency} یافت نشد",
                "invalid_input": f"{kind.agency} اطلاعات فرستاده‌شده را نپذیرفت",
                "unauthorized": f"دسترسی میز خدمت به {kind.agency} پذیرفته نشد"}.get(
                    error.code, f"{kind.agency} درخواست را نپذیرفت")
    return "پاسخی دریافت نشد"


def _answered(session: Session, asking: _Asking, attempt: int, exchange: Exchange) -> None:
    assert exchange.reading is not None
    evidence.append(session, asking.request_id,
                    _entry(asking.inquiry_id, asking.round, attempt, exchange, "answered"))
    passed = exchange.reading.verdict is Verdict.passed
    decided = session.execute(
        update(Inquiry).where(Inquiry.id == asking.inquiry_id, Inquiry.round == asking.round)
        .values(status=DONE if passed else FAILED, summary=exchange.reading.summary,
                asked_at=exchange.sent_at, answered_at=exchange.received_at,
                attempts=Inquiry.attempts + 1)
        .execution_options(synchronize_session=False))
    if decided.rowcount == 0:  # asked again meanwhile: the newer round decides
        session.execute(update(Inquiry).where(Inquiry.id == asking.inquiry_id)
                        .values(attempts=Inquiry.attempts + 1)
                        .execution_options(synchronize_session=False))


# --- before filing ----------------------------------------------------------------------------

@dataclass(frozen=True)
class MobileCheck:
    """The answer to the check that a mobile is the national code's, made before an online
    filing (when the mobile is confirmed, or as the form is filed), to record once filed.

    `entry` is the exchange's evidence (its inquiry id set when recorded); `reading` is None
    when no usable answer came — the inquiry is then flagged and asked again in the background.
    It travels as JSON (`as_json`, `from_json`) in a mobile confirmation until the filing.
    """

    wanted: InquirySpec
    entry: evidence.Entry
    reading: Reading | None

    @property
    def refused(self) -> bool:
        return self.reading is not None and self.reading.verdict is Verdict.refused

    def as_json(self) -> dict[str, Any]:
        entry = dataclasses.asdict(self.entry)
        for name in ("request_body", "reply_body"):
            entry[name] = base64.b64encode(entry[name]).decode() if entry[name] else None
        for name in ("sent_at", "received_at"):
            entry[name] = entry[name].isoformat() if entry[name] else None
        reading = None if self.reading is None else {"verdict": self.reading.verdict.value,
                                                     "summary": self.reading.summary}
        return {"wanted": self.wanted.id, "entry": entry, "reading": reading}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], spec: ServiceSpec) -> MobileCheck | None:
        """The check kept in `data`, if `spec` still wants it (None otherwise)."""
        wanted = next((i for i in spec.inquiries if i.id == data.get("wanted")
                       and i.kind == "mobile_owner"), None)
        if wanted is None:
            return None
        entry = dict(data["entry"])
        for name in ("request_body", "reply_body"):
            entry[name] = base64.b64decode(entry[name]) if entry[name] else None
        for name in ("sent_at", "received_at"):
            entry[name] = datetime.fromisoformat(entry[name]) if entry[name] else None
        reading = data.get("reading")
        return cls(wanted, evidence.Entry(**entry), None if reading is None else
                   Reading(Verdict(reading["verdict"]), str(reading["summary"])))


MOBILE_NOT_YOURS = ("این شماره همراه به نام دارنده این کد ملی ثبت نشده است. شماره‌ای را "
                    "وارد کنید که به نام خودتان است، یا با کارت ملی به دفتر بیایید.")


def mobile_check_of(spec: ServiceSpec | None) -> InquirySpec | None:
    """The check on filing that the mobile is the national code's, if `spec` declares one."""
    return next((i for i in spec.inquiries if i.kind == "mobile_owner" and i.at_step is None),
                None) if spec else None


def check_mobile(db: Database, bus: Bus | None, service: str, national_code: str,
                 mobile: str, timeout: float) -> MobileCheck | None:
    """Ask, within `timeout`, whether `mobile` belongs to `national_code` (both valid), for a
    service that checks it. None when there is nothing to ask (no bus configured, no catalog,
    no such check). Runs outside any transaction: nothing is locked while the bus answers."""
    if bus is None:
        return None
    with db.session() as session:
        try:
            spec = catalog_versions.current_snapshot(session).service(service)
        except catalog_versions.NoCatalog:
            return None
    wanted = mobile_check_of(spec)
    if wanted is None:
        return None
    probe = ServiceRequest(applicant_name="", applicant_mobile=mobile,
                           applicant_national_code=national_code, fields={})
    message_id = str(uuid.uuid4())
    try:
        exchange = bus.ask(KINDS[wanted.kind], inputs_of(probe, wanted), message_id, timeout)
    except BusError as error:
        return MobileCheck(wanted, _entry(0, 1, 1, error.exchange, _outcome(error),
                                          note=str(error)), None)
    return MobileCheck(wanted, _entry(0, 1, 1, exchange, "answered"), exchange.reading)


def check_before_filing(db: Database, bus: Bus | None, service: str, channel: str,
                        applicant: Mapping[str, Any], timeout: float) -> MobileCheck | None:
    """For an online filing: `check_mobile` for its applicant (None for another channel, or
    an applicant the filing will refuse)."""
    if channel != Channel.online:
        return None
    checked = validate_applicant(applicant)
    if checked.errors:
        return None
    person = checked.values
    return check_mobile(db, bus, service, str(person["national_code"]), str(person["mobile"]),
                        timeout)


def record_mobile_check(session: Session, request: ServiceRequest, check: MobileCheck) -> None:
    """In the filing transaction: the check's evidence, and its inquiry done — or, when the
    bus did not answer in time, flagged for a manual check and asked again in the background."""
    inquiry = Inquiry(request_id=request.id, inquiry_id=check.wanted.id,
                      kind=check.wanted.kind, blocking=check.wanted.on_failure == "block",
                      status=PENDING, attempts=1)
    session.add(inquiry)
    session.flush()
    kind = KINDS[inquiry.kind]
    evidence.append(session, request.id, dataclasses.replace(check.entry, inquiry_id=inquiry.id))
    inquiry.asked_at = check.entry.sent_at
    if check.reading is not None:
        passed = check.reading.verdict is Verdict.passed
        inquiry.status = DONE if passed else FAILED
        inquiry.summary = check.reading.summary
        inquiry.answered_at = check.entry.received_at
        return
    inquiry.status = MANUAL
    inquiry.summary = f"{kind.title}: در زمان ثبت پاسخی نیامد؛ دوباره پرسیده می‌شود"
    inquiry.round = 2
    _enqueue(session, inquiry)


# --- clerks -----------------------------------------------------------------------------------

def of_request(session: Session, request: ServiceRequest) -> list[Inquiry]:
    return list(session.scalars(select(Inquiry).where(Inquiry.request_id == request.id)
                                .order_by(Inquiry.id)))


def _one(session: Session, request: ServiceRequest, inquiry_id: str) -> Inquiry:
    inquiry = session.scalar(select(Inquiry).where(Inquiry.request_id == request.id,
                                                   Inquiry.inquiry_id == inquiry_id))
    if inquiry is None:
        raise InquiryRefused("inquiry_not_found", "این استعلام برای این درخواست نیست.", 404)
    return inquiry


def ask_again(session: Session, request: ServiceRequest, inquiry_id: str, user: User) -> None:
    """A new round of an inquiry that failed or could not be done (audited)."""
    inquiry = _one(session, request, inquiry_id)
    if inquiry.status == PENDING:
        raise InquiryRefused("inquiry_pending", "این استعلام هنوز در انتظار پاسخ است.")
    inquiry.round += 1
    inquiry.status, inquiry.summary, inquiry.manual_reason = PENDING, None, None
    inquiry.decided_by_id = None
    _enqueue(session, inquiry)
    audit.record(session, user, "inquiry_asked_again", request, inquiry=inquiry_id)


def record_manual(session: Session, request: ServiceRequest, inquiry_id: str, *, holds: bool,
                  reason: str, user: User, now: datetime | None = None) -> None:
    """A clerk's own result for an inquiry, with the reason (audited, and in the evidence)."""
    reason = reason.strip()
    if not reason:
        raise InquiryRefused("reason_required", "بنویسید نتیجه را چگونه بررسی کردید.")
    inquiry = _one(session, request, inquiry_id)
    now = now or utcnow()
    kind = KINDS[inquiry.kind]
    inquiry.status = DONE if holds else FAILED
    inquiry.summary = f"{kind.title}: {'تأیید شد' if holds else 'تأیید نشد'} (بررسی دستی)"
    inquiry.manual_reason, inquiry.decided_by_id, inquiry.answered_at = reason[:1000], user.id, now
    record = json.dumps({"holds": holds, "reason": reason, "by": user.username},
                        ensure_ascii=False).encode()
    evidence.append(session, request.id, evidence.Entry(
        inquiry_id=inquiry.id, round=inquiry.round, attempt=0, outcome="manual",
        target=kind.target, sent_at=now, received_at=now, reply_body=record,
        note=reason[:1000], details={"user_id": user.id}))
    audit.record(session, user, "inquiry_manual_result", request, inquiry=inquiry_id,
                 holds=holds)


def blocking_problem(session: Session, request: ServiceRequest) -> str | None:
    """Why the request cannot move on (a blocking inquiry unanswered or saying no), or None."""
    for inquiry in of_request(session, request):
        if not inquiry.blocking or inquiry.status == DONE:
            continue
        title = KINDS[inquiry.kind].title
        if inquiry.status == FAILED:
            return f"استعلام «{title}» تأیید نشد؛ تا نتیجه دستی ثبت نشود نمی‌توان ادامه داد."
        return f"استعلام «{title}» هنوز نتیجه ندارد؛ منتظر پاسخ بمانید یا نتیجه را دستی ثبت کنید."
    return None


# --- what the citizen sees --------------------------------------------------------------------

CITIZEN_ADVICE = {
    "mobile_owner": MOBILE_NOT_YOURS,
    "identity": "اطلاعات هویتی شما با ثبت احوال نمی‌خواند؛ با کارت ملی به دفتر بیایید.",
}
GENERIC_ADVICE = "برای این استعلام با مدارک مربوط به دفتر بیایید یا با شماره دفتر تماس بگیرید."


def public_states(request: ServiceRequest | TrackedRequest) -> list[dict[str, Any]]:
    """Each inquiry's state for the tracking page and API: never the data itself."""
    states = []
    for inquiry in request.inquiries:
        kind = KINDS[inquiry.kind]
        advice = None
        if inquiry.status == FAILED and inquiry.blocking:
            advice = CITIZEN_ADVICE.get(kind.slug, GENERIC_ADVICE)
        states.append({"kind": kind.slug, "title": f"استعلام از {kind.agency}",
                       "status": inquiry.status, "status_label": STATUS_LABELS[inquiry.status],
                       "advice": advice})
    return states


# --- the desk ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeskInquiry:
    """One inquiry as a clerk sees it: its state, what to check by hand, its evidence."""

    inquiry: Inquiry
    kind: InquiryKind
    status_label: str
    at_step_title: str | None
    exchanges: list[InquiryExchange]

    @property
    def needs_a_clerk(self) -> bool:
        return self.inquiry.status in (FAILED, MANUAL)


def for_desk(session: Session, request: ServiceRequest) -> list[DeskInquiry]:
    spec = ServiceSpec.model_validate(request.service)
    wanted = {i.id: i for i in spec.inquiries}
    steps = {s.id: s.title for s in spec.steps}
    exchanges: dict[int, list[InquiryExchange]] = {}
    for row in session.scalars(select(InquiryExchange)
                               .where(InquiryExchange.request_id == request.id)
                               .order_by(InquiryExchange.seq)):
        exchanges.setdefault(row.inquiry_id, []).append(row)
    found = []
    for inquiry in of_request(session, request):
        step = wanted[inquiry.inquiry_id].at_step if inquiry.inquiry_id in wanted else None
        found.append(DeskInquiry(inquiry, KINDS[inquiry.kind], STATUS_LABELS[inquiry.status],
                                 steps.get(step) if step else None,
                                 exchanges.get(inquiry.id, [])))
    return found
