"""Moving a request through its steps: staff actions, and the applicant handing in the
documents staff asked for; each checked, stored and announced."""

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
from shared.workflow import Action, Status, TransitionError, next_status


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
                         internal_note=act.internal_note.strip(), details=_details(act),
                         public_url=public_url,
                         notify=act.action not in (Action.note, Action.claim))
    if act.action is Action.complete:
        surveys.invite_for_request(session, request, user, event, public_url)
    audit.record(session, user, f"request.{act.action}", request, address=address,
                 from_status=before.value, to_status=after.value)


def provide_documents(session: Session, request: ServiceRequest, storage: Storage,
                      uploads: Sequence[documents.Upload], *,
                      max_bytes: int = documents.DEFAULT_MAX_BYTES, public_url: str = "") -> None:
    """The applicant hands in the documents staff asked for and the request goes back to review.

    ActionRefused when the request is not waiting for the applicant or no file came;
    documents.DocumentRejected for a file that cannot be taken. The caller commits.
    """
    before = Status(request.status)
    try:
        after = next_status(Action.documents_provided, before)
    except TransitionError:
        raise ActionRefused("not_waiting_for_documents",
                            "این درخواست اکنون منتظر مدرکی از شما نیست.") from None
    if not uploads:
        raise ActionRefused("no_documents", "پرونده‌ای انتخاب نشده است.")
    for upload in uploads:
        documents.attach(session, storage, request, upload, "citizen", max_bytes=max_bytes)
    request.status = after
    record_event(session, request, Action.documents_provided, actor="citizen", user=None,
                 from_status=before, public_url=public_url)


def _check_owner(user: User, request: ServiceRequest, action: Action) -> None:
    if action in (Action.claim, Action.note) or request.assigned_to_id in (None, user.id):
        return
    if user.role not in ("supervisor", "admin"):
        raise ActionRefused("claimed_by_another", "این درخواست را همکار دیگری برداشته است.",
                            status=403)


def _details(act: StaffAction) -> dict[str, str]:
    return {"payment_reference": act.payment_reference} if act.payment_reference else {}


def _apply(request: ServiceRequest, user: User, act: StaffAction) -> None:
    """The action's own effect, beyond the status change; refuses what makes no sense."""
    public_note = act.public_note.strip()
    if act.action is Action.claim:
        request.assigned_to_id = user.id
    elif act.action is Action.request_documents and not public_note:
        raise ActionRefused("note_required", "بنویسید متقاضی چه مدرکی را باید بفرستد یا اصلاح کند.")
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
