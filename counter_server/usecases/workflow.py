"""Moving a request through its steps: staff actions, and the documents staff asked for handed
in — by the applicant online, or by a clerk who scans what the applicant brings to the
counter; each checked, stored, announced and (staff's) audited.

An ask for documents names the service's documents it wants (`StaffAction.documents`, kept
in the event's `details["documents"]`) and/or says in its note what is needed; while it
waits, the applicant may hand in only the named documents, and all of them at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from counter_server.models import ServiceRequest, User
from counter_server.storage import Storage
from counter_server.usecases import audit, documents, inquiries, surveys
from counter_server.usecases.service_requests import record_event
from counter_server.usecases.staff import may_work_on
from shared.catalog.schema import ServiceSpec
from shared.workflow import FINAL, Action, Status, TransitionError, next_status


# Actions that move a request on: refused while a blocking inquiry has not said yes.
GATED_BY_INQUIRIES = frozenset({Action.advance, Action.approve, Action.complete})


class ActionRefused(Exception):
    """A staff action that cannot be done; `message` is Persian, `code` is stable."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class StaffAction:
    action: Action
    public_note: str = ""
    internal_note: str = ""
    payment_reference: str = ""
    documents: tuple[str, ...] = ()  # request_documents: the document slots asked for


def check_access(user: User, request: ServiceRequest) -> None:
    if not may_work_on(user, request.service_slug):
        raise ActionRefused("forbidden", "این درخواست به خدمت‌های واگذارشده به شما مربوط نیست.",
                            status=403)


def perform(session: Session, request: ServiceRequest, user: User, act: StaffAction,
            public_url: str = "", address: str | None = None) -> None:
    """Carry out `act` on `request` as `user`. The caller commits."""
    check_access(user, request)
    _check_owner(user, request, act.action)
    before = Status(request.status)
    try:
        after = next_status(act.action, before)
    except TransitionError as exc:
        raise ActionRefused("transition_not_allowed", exc.message) from None
    if act.action in GATED_BY_INQUIRIES:
        problem = inquiries.blocking_problem(session, request)
        if problem:
            raise ActionRefused("inquiry_blocks", problem)
    _apply(request, user, act)
    request.status = after
    if act.action is Action.advance:
        inquiries.schedule(session, request, ServiceSpec.model_validate(request.service),
                           step=request.current_step)
    event = record_event(session, request, act.action, actor="staff", user=user,
                         from_status=before, public_note=act.public_note.strip(),
                         internal_note=act.internal_note.strip(), details=_details(request, act),
                         public_url=public_url,
                         notify=act.action not in (Action.note, Action.claim))
    if act.action is Action.complete:
        surveys.invite_for_request(session, request, user, event, public_url)
    audit.record(session, user, f"request.{act.action}", request, address=address,
                 from_status=before.value, to_status=after.value)


def provide_documents(session: Session, request: ServiceRequest, storage: Storage,
                      uploads: Sequence[documents.Upload], *,
                      max_bytes: int = documents.DEFAULT_MAX_BYTES, public_url: str = "",
                      user: User | None = None, address: str | None = None) -> None:
    """The documents staff asked for are handed in and the request goes back to review: by
    the applicant (`user` None), who must send every document the ask named; or by `user`, a
    clerk who scanned what the applicant brought to the counter (audited) — now, or earlier
    since the ask (then `uploads` may be empty).

    ActionRefused when the request is not waiting for the applicant, no file came, or (the
    applicant) a named document is missing; documents.DocumentRejected for a file that
    cannot be taken. The caller commits.
    """
    if user is not None:
        check_access(user, request)
    before = Status(request.status)
    try:
        after = next_status(Action.documents_provided, before)
    except TransitionError:
        raise ActionRefused("not_waiting_for_documents",
                            "این درخواست اکنون منتظر مدرکی از متقاضی نیست." if user else
                            "این درخواست اکنون منتظر مدرکی از شما نیست.") from None
    if not uploads and (user is None or not _arrived_since_ask(request)):
        raise ActionRefused("no_documents", "پرونده‌ای انتخاب نشده است.")
    for upload in uploads:
        _hand_in(session, storage, request, upload, user, max_bytes, address)
    if user is None:
        _check_all_asked_arrived(request)
    request.status = after
    record_event(session, request, Action.documents_provided,
                 actor="staff" if user else "citizen", user=user, from_status=before,
                 public_url=public_url)
    if user is not None:
        audit.record(session, user, f"request.{Action.documents_provided}", request,
                     address=address, from_status=before.value, to_status=after.value)


def attach_at_counter(session: Session, request: ServiceRequest, storage: Storage,
                      uploads: Sequence[documents.Upload], user: User, *, move_on: bool,
                      max_bytes: int = documents.DEFAULT_MAX_BYTES, public_url: str = "",
                      address: str | None = None) -> None:
    """A clerk attaches documents the applicant brought to the counter, scanned there;
    `move_on` also hands them in as the documents asked for (`provide_documents`), sending
    a waiting request back to review. The caller commits."""
    check_access(user, request)
    if Status(request.status) in FINAL:
        raise ActionRefused("request_closed", "این درخواست بسته شده است و مدرکی به آن پیوست "
                                              "نمی‌شود.")
    if move_on:
        provide_documents(session, request, storage, uploads, max_bytes=max_bytes,
                          public_url=public_url, user=user, address=address)
        return
    if not uploads:
        raise ActionRefused("no_documents", "پرونده‌ای انتخاب نشده است.")
    for upload in uploads:
        _hand_in(session, storage, request, upload, user, max_bytes, address)


def _hand_in(session: Session, storage: Storage, request: ServiceRequest,
             upload: documents.Upload, user: User | None, max_bytes: int,
             address: str | None) -> None:
    """Attach one file from the applicant, or from `user` at the counter (audited)."""
    if user is None:
        documents.attach(session, storage, request, upload, "citizen", max_bytes=max_bytes)
        return
    document, created = documents.attach(session, storage, request, upload, "staff",
                                         max_bytes=max_bytes, user_id=user.id)
    if created:
        audit.record(session, user, "document.attached_at_counter", request, address=address,
                     document=document.id, slot=document.slot, sha256=document.sha256)


def _arrived_since_ask(request: ServiceRequest) -> set[str]:
    """The slots of the documents added since staff last asked for some."""
    ask = documents.last_ask(request)
    since = request.events[request.events.index(ask) + 1:] if ask is not None else []
    return {(e.details or {}).get("slot") for e in since if e.action == "document_added"}


def _check_all_asked_arrived(request: ServiceRequest) -> None:
    """ActionRefused naming the documents the ask named that have not come since."""
    asked = documents.asked_slots(request)
    if not asked:
        return
    arrived = _arrived_since_ask(request)
    missing = [slot for slot in asked if slot not in arrived]
    if missing:
        names = "، ".join(f"«{name}»" for name in documents.slot_names(request, missing))
        raise ActionRefused("documents_missing",
                            f"این مدارک خواسته‌شده هنوز نرسیده است: {names}؛ "
                            "همه مدارک خواسته‌شده را با هم بفرستید.")


def _check_owner(user: User, request: ServiceRequest, action: Action) -> None:
    if action in (Action.claim, Action.note) or request.assigned_to_id in (None, user.id):
        return
    if user.role not in ("supervisor", "admin"):
        raise ActionRefused("claimed_by_another", "این درخواست را همکار دیگری برداشته است.",
                            status=403)


def _details(request: ServiceRequest, act: StaffAction) -> dict[str, object]:
    """What the event keeps beyond its notes: the payment's reference, the documents asked
    for (in the service's order)."""
    details: dict[str, object] = {}
    if act.payment_reference:
        details["payment_reference"] = act.payment_reference
    if act.action is Action.request_documents and act.documents:
        details["documents"] = [d["id"] for d in request.service.get("documents", [])
                                if d["id"] in act.documents]
    return details


def _check_ask(request: ServiceRequest, act: StaffAction, public_note: str) -> None:
    """An ask names documents of the service (each once) or says in its note what the
    applicant must send or correct."""
    slots = [d["id"] for d in request.service.get("documents", [])]
    unknown = [slot for slot in act.documents if slot not in slots]
    if unknown:
        raise ActionRefused("unknown_document", "مدرک انتخاب‌شده در فهرست مدارک این خدمت نیست.")
    if len(set(act.documents)) != len(act.documents):
        raise ActionRefused("document_repeated", "هر مدرک را یک بار انتخاب کنید.")
    if not act.documents and not public_note:
        raise ActionRefused("note_required", "مدرک‌های لازم را انتخاب کنید یا بنویسید متقاضی "
                                             "چه چیزی را باید بفرستد یا اصلاح کند.")


def _apply(request: ServiceRequest, user: User, act: StaffAction) -> None:
    """The action's own effect, beyond the status change; refuses what makes no sense."""
    public_note = act.public_note.strip()
    if act.action is Action.claim:
        request.assigned_to_id = user.id
    elif act.action is Action.request_documents:
        _check_ask(request, act, public_note)
    elif act.action is Action.advance:
        following = ServiceSpec.model_validate(request.service).step_after(request.current_step)
        if following is None:
            raise ActionRefused("no_next_step", "این آخرین مرحله است؛ درخواست را تأیید یا رد کنید.")
        request.current_step = following.id
    elif act.action is Action.record_payment:
        if request.service["fees"].get("free"):
            raise ActionRefused("service_is_free", "این خدمت رایگان است و پرداختی ندارد.")
        if not act.payment_reference.strip():
            raise ActionRefused("payment_reference_required", "شماره پیگیری پرداخت را وارد کنید.")
        request.payment_reference = act.payment_reference.strip()[:100]
    elif act.action is Action.approve:
        if not request.service["fees"].get("free") and not request.payment_reference:
            raise ActionRefused("payment_missing", "پیش از تأیید، پرداخت هزینه خدمت را ثبت کنید.")
        request.decision_reason = public_note or None
        request.current_step = request.service["steps"][-1]["id"]
    elif act.action is Action.reject:
        if not public_note:
            raise ActionRefused("reason_required", "دلیل رد درخواست را برای متقاضی بنویسید.")
        request.decision_reason = public_note
    elif act.action is Action.note and not (public_note or act.internal_note.strip()):
        raise ActionRefused("note_required", "متن یادداشت خالی است.")
