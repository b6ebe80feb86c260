"""SMS to the citizen at each step: written with the event, sent by the worker.

The message and its `sms` job are committed in the same transaction as the event that
caused them — a request's event, or a queue ticket's call (`send_to_ticket`) — so no step
goes unannounced and none is announced twice; the worker hands the
message to the provider (`counter_server.sms`) under the message's id as local id.

States: queued → sent (the provider accepted it; its id kept) → delivered | failed (with the
provider's Persian reason) | cancelled; `held` while the day's budget of parts is spent
(until the next Tehran day). A send first reserves its parts from the day's budget (one
conditional UPDATE of the `sms-parts` allowance, `counter_server.jobs.usage`), so worker lanes
sending at once never go over it together; a send that fails gives its parts back. A retry
of a send first asks the provider, by local id, whether the message went out — a send that
timed out is never sent twice. Delivery receipts are polled by `sms-status` jobs, with
back-off, until the message is delivered or failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from counter_server.jobs import queue as jobs
from counter_server.jobs import usage
from counter_server.jobs.queue import Claimed
from counter_server.jobs.worker import (
    Effect,
    FailureEffect,
    JobContext,
    PermanentFailure,
    Postpone,
    TemporaryFailure,
)
from counter_server.models import (
    MobileConfirmation,
    Notification,
    RequestEvent,
    ServiceRequest,
    Ticket,
)
from counter_server.sms.provider import (
    CANCELLED,
    DELIVERED,
    FAILED,
    SENT,
    Sent,
    SmsError,
    SmsPermanent,
    SmsProvider,
    SmsTimeout,
)
from counter_server.usecases import documents
from shared.jalali import TEHRAN, to_local
from shared.workflow import Action
from shared.sms import parts
from shared.sms_texts import (
    DEFAULT_TEMPLATES,
    QUEUE_TEMPLATES,
    announces,
    check_templates,
    render,
    render_queue,
)

JOB_KIND, STATUS_JOB_KIND = "sms", "sms-status"
BUDGET_TARGET = "sms-parts"  # the daily allowance of parts (`counter_server.jobs.usage`)
QUEUED, HELD = "queued", "held"
ONE_TIME_CODE = "one_time_code"
DELIVERED_EVENT = "delivered"  # a document issued for the request (`usecases/delivery.py`)
# Events whose messages go out even when the day's budget is spent or in quiet hours.
ESSENTIAL_EVENTS = frozenset({ONE_TIME_CODE})
GAVE_UP = "ارسال پیامک پس از چند بار تلاش ممکن نشد"
CODE_UNKNOWN = "سامانه پیامک به‌موقع پاسخ نداد؛ کد دوباره فرستاده نمی‌شود و باید کد تازه خواست"
CODE_STALE = "کد تأیید پیش از ارسال کهنه شد"


@dataclass(frozen=True)
class SmsPolicy:
    daily_budget_parts: int | None = None  # None or 0: no budget
    quiet_hours: tuple[time, time] | None = None  # Tehran; only one-time codes go out then
    receipt_delay: timedelta = timedelta(seconds=30)  # before the first status poll
    receipt_attempts: int = 12


_templates: dict[str, str] = {**DEFAULT_TEMPLATES, **QUEUE_TEMPLATES}


def stop_for(session: Session, request: ServiceRequest, now: datetime) -> int:
    """The applicant wants no more SMS about `request`: none is written from now on, and those
    not yet handed to the provider are cancelled (how many is returned)."""
    request.sms_stopped_at = now
    done = session.execute(
        update(Notification).where(Notification.request_id == request.id,
                                   Notification.status.in_((QUEUED, HELD)))
        .values(status=CANCELLED).execution_options(synchronize_session=False))
    return done.rowcount or 0


def resume_for(request: ServiceRequest) -> None:
    """The applicant wants this request's SMS again (from the next event on)."""
    request.sms_stopped_at = None


def use_templates(overrides: Mapping[str, str] | None) -> None:
    """The deployment's own texts for some events (`MIZ_SMS_TEMPLATES`), checked first."""
    chosen = {**DEFAULT_TEMPLATES, **QUEUE_TEMPLATES, **(overrides or {})}
    check_templates(chosen)
    _templates.clear()
    _templates.update(chosen)


def message_for(request: ServiceRequest, event: RequestEvent, public_url: str) -> str | None:
    """The Persian SMS for an event of a request; None for an event no template announces."""
    terms = request.service
    step = next((s["title"] for s in terms["steps"] if s["id"] == event.step), "")
    asked = documents.slot_names(request, list((event.details or {}).get("documents", [])))
    return render(_templates, event.action, service=terms["title"],
                  code=request.tracking_code, step=step, note=event.public_note or "",
                  link=f"{public_url.rstrip('/')}/t/{request.tracking_code}", documents=asked)


def enqueue(session: Session, request: ServiceRequest, event: RequestEvent,
            public_url: str) -> None:
    """The event's SMS and the job that sends it, in the caller's transaction — when the
    service announces the event, and the text is not the one just sent for the request."""
    if request.sms_stopped_at is not None or not announces(
            request.service.get("sms"), event.action, event.step):
        return
    text = message_for(request, event, public_url)
    last = None if event.action == Action.submit else session.scalar(  # submit is the first
        select(Notification.text).where(Notification.request_id == request.id)
        .order_by(Notification.id.desc()).limit(1))
    if text is not None and text != last:
        send_text(session, request, event, event.action, text)


def send_text(session: Session, request: ServiceRequest, event: RequestEvent, kind: str,
              text: str) -> None:
    """An SMS of `text` to the request's applicant about `event` (`kind` names what it is:
    the event's action, or e.g. "survey"), and the job that sends it, in the caller's
    transaction."""
    _queue(session, Notification(request_id=request.id, event_id=event.id,
                                 mobile=request.applicant_mobile, event=kind, text=text,
                                 status=QUEUED, parts=parts(text)))


def announce_delivery(session: Session, request: ServiceRequest, title: str,
                      public_url: str) -> Notification | None:
    """«Your result is ready»: the SMS that `title` was issued for `request`, and the job that
    sends it, in the caller's (the issue's) transaction — unless the applicant stopped the
    request's SMS or its service does not announce `delivered`."""
    if request.sms_stopped_at is not None or not announces(request.service.get("sms"),
                                                           DELIVERED_EVENT):
        return None
    text = render(_templates, DELIVERED_EVENT, service=request.service["title"],
                  code=request.tracking_code, document=title,
                  link=f"{public_url.rstrip('/')}/t/{request.tracking_code}")
    if text is None:
        return None
    return _queue(session, Notification(request_id=request.id, mobile=request.applicant_mobile,
                                        event=DELIVERED_EVENT, text=text, status=QUEUED,
                                        parts=parts(text)))


def queue_text(event: str, *, ticket: str, counter: int = 0, ahead: int = 0) -> str | None:
    """The walk-in queue's SMS for `event` (`shared.sms_texts.QUEUE_TEMPLATES`, or the
    deployment's own); None when no template announces it."""
    return render_queue(_templates, event, ticket=ticket, counter=counter, ahead=ahead)


def send_to_ticket(session: Session, ticket: Ticket, kind: str, text: str) -> Notification:
    """An SMS of `text` to the mobile given with a queue ticket (`kind`: e.g. "queue_called",
    "survey"), and the job that sends it, in the caller's transaction."""
    if not ticket.mobile:
        raise ValueError(f"ticket {ticket.id} has no mobile")
    return _queue(session, Notification(ticket_id=ticket.id, mobile=ticket.mobile, event=kind,
                                        text=text, status=QUEUED, parts=parts(text)))


def _queue(session: Session, message: Notification) -> Notification:
    session.add(message)
    session.flush()
    jobs.enqueue(session, JOB_KIND, f"sms:{message.id}", {"notification": message.id},
                 target="sms", max_attempts=5)
    return message


# The daily budget --------------------------------------------------------------------------

def tehran_day(now: datetime) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of `now`'s day in Tehran."""
    start = datetime.combine(to_local(now).date(), time(0), tzinfo=TEHRAN)
    return start, datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=TEHRAN)


def quiet_until(now: datetime, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours that hold `now` end (Tehran time), or None outside them."""
    if quiet is None:
        return None
    starts, ends = quiet
    local = to_local(now)
    inside = (starts <= local.time() or local.time() < ends) if starts > ends \
        else starts <= local.time() < ends
    if not inside:
        return None
    day = local.date() if local.time() < ends else local.date() + timedelta(days=1)
    return datetime.combine(day, ends, tzinfo=TEHRAN)


def parts_sent_on(session: Session, now: datetime) -> int:
    """The parts handed to the provider on `now`'s Tehran day."""
    start, end = tehran_day(now)
    return int(session.scalar(select(func.coalesce(func.sum(Notification.parts), 0))
                              .where(Notification.sent_at >= start,
                                     Notification.sent_at < end)) or 0)


def parts_spent_on(session: Session, now: datetime) -> int:
    """The parts taken from `now`'s Tehran day's budget: sent, or being sent."""
    taken = usage.allowance_used(session, BUDGET_TARGET, to_local(now).date())
    return parts_sent_on(session, now) if taken is None else taken


def budget_spent(session: Session, now: datetime, budget: int | None, more: int = 0) -> bool:
    """Whether sending `more` parts would go over the day's `budget`."""
    return bool(budget) and parts_spent_on(session, now) + max(more, 1) > int(budget or 0)


def reserve_parts(session: Session, now: datetime, budget: int | None, count: int,
                  essential: bool = False) -> bool:
    """Take `count` parts from `now`'s Tehran day's budget, atomically; False (nothing taken)
    when they would go over it. An essential message's parts are always taken (and counted)."""
    day = to_local(now).date()
    opening = 0 if usage.allowance_used(session, BUDGET_TARGET, day) is not None \
        else parts_sent_on(session, now)  # the day's first: messages sent before the budget
    limit = None if essential or not budget else int(budget)
    return usage.take_allowance(session, BUDGET_TARGET, day, max(count, 1), limit, opening)


def give_back_parts(session: Session, now: datetime, count: int) -> None:
    """Return the parts reserved at `now` for a send that did not go out."""
    usage.give_back_allowance(session, BUDGET_TARGET, to_local(now).date(), max(count, 1))


# The worker's handlers ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Outgoing:
    id: int
    mobile: str
    text: str
    parts: int
    essential: bool
    tried_before: bool
    code: str | None = None  # a one-time code, sent through the provider's `template`
    template: str = ""


def handler(provider: SmsProvider, policy: SmsPolicy | None = None) -> Callable[..., Effect | None]:
    """The worker's handler of `sms` jobs: hand the message to `provider` once."""
    policy = policy or SmsPolicy()

    def run(job: Claimed, context: JobContext) -> Effect | None:
        with context.db.session() as session:
            message = session.get(Notification, job.payload["notification"])
            if message is None or message.status not in (QUEUED, HELD):
                return None
            if message.event == ONE_TIME_CODE and _code_is_stale(session, message,
                                                                 context.now):
                return lambda session: _set(session, job.payload["notification"],
                                            status=CANCELLED, reason=CODE_STALE, token=None)
            out = _Outgoing(message.id, message.mobile, message.text, message.parts,
                            message.event in ESSENTIAL_EVENTS, message.attempts > 0,
                            message.token if message.event == ONE_TIME_CODE else None,
                            message.template or "")
        morning = None if out.essential else quiet_until(context.now, policy.quiet_hours)
        if morning is not None:
            raise Postpone(morning, "quiet hours", lambda session: _set(session, out.id,
                                                                         status=HELD))
        with context.db.transaction() as session:  # committed before the send: seen by all
            reserved = reserve_parts(session, context.now, policy.daily_budget_parts,
                                     out.parts, out.essential)
        if not reserved:
            raise Postpone(tehran_day(context.now)[1], "daily SMS budget is spent",
                           lambda session: _set(session, out.id, status=HELD))
        sent = _hand_over(provider, job, out, context.now)
        return lambda session: _record(session, job, out, sent, provider.name, context.now,
                                       policy)
    return run


def _code_is_stale(session: Session, message: Notification, now: datetime) -> bool:
    """Whether the one-time code of `message` is spent or past its time (or already sent)."""
    confirmation = session.get(MobileConfirmation, message.confirmation_id) \
        if message.confirmation_id else None
    return message.token is None or confirmation is None or confirmation.expires_at <= now \
        or confirmation.confirmed_at is not None


def _hand_over(provider: SmsProvider, job: Claimed, out: _Outgoing, now: datetime) -> Sent:
    """Send, unless an earlier attempt may have sent it and the provider has it; a failure
    gives the parts reserved at `now` back."""
    local_id = str(out.id)
    if out.code is not None:
        return _hand_over_code(provider, job, out, now)
    try:
        found = provider.status_by_local_id(local_id) \
            if job.attempt > 1 or out.tried_before else None
        return found or provider.send(local_id, out.mobile, out.text)
    except SmsPermanent as exc:
        raise PermanentFailure(str(exc), _failure(job, out, now, exc.persian_reason)) from exc
    except SmsError as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}",
                               _failure(job, out, now, GAVE_UP)) from exc


def _hand_over_code(provider: SmsProvider, job: Claimed, out: _Outgoing, now: datetime) -> Sent:
    """Send a one-time code through the provider's template. Templates take no local id, so a
    send that timed out cannot be asked after: it is never sent again (the citizen asks for a
    new code, which the wait between codes allows within a minute)."""
    assert out.code is not None
    try:
        return provider.send_code(str(out.id), out.mobile, out.template, out.code)
    except SmsPermanent as exc:
        raise PermanentFailure(str(exc), _failure(job, out, now, exc.persian_reason)) from exc
    except SmsTimeout as exc:
        raise PermanentFailure(f"SmsTimeout: {exc}", _failure(job, out, now, CODE_UNKNOWN)) \
            from exc
    except SmsError as exc:
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}",
                               _failure(job, out, now, GAVE_UP)) from exc


def status_handler(provider: SmsProvider) -> Callable[..., Effect | None]:
    """The worker's handler of `sms-status` jobs: ask after a sent message until it is
    delivered or failed (a message still on its way is a retry with back-off)."""

    def run(job: Claimed, context: JobContext) -> Effect | None:
        with context.db.session() as session:
            message = session.get(Notification, job.payload["notification"])
            if message is None or message.status != SENT or not message.provider_id:
                return None
            message_id, provider_id = message.id, message.provider_id
        try:
            report = provider.status(provider_id)
        except SmsPermanent as exc:
            raise PermanentFailure(str(exc)) from exc
        except SmsError as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        if report.status == SENT:
            raise TemporaryFailure("not delivered yet", blames_target=False)
        return lambda session: _settled(session, message_id, report, context.now)
    return run


# Effects -----------------------------------------------------------------------------------

def _set(session: Session, message_id: int, **values: object) -> Notification | None:
    message = session.get(Notification, message_id)
    if message is not None:
        for name, value in values.items():
            setattr(message, name, value)
    return message


def _record(session: Session, job: Claimed, out: _Outgoing, sent: Sent, provider: str,
            now: datetime, policy: SmsPolicy) -> None:
    message = _set(session, out.id, status=sent.status, provider=provider, token=None,
                   provider_id=sent.provider_id, parts=sent.cost_parts or out.parts,
                   cost_rials=sent.cost_rials, reason=sent.reason, sent_at=now,
                   attempts=job.attempt,
                   delivered_at=now if sent.status == DELIVERED else None)
    if message is not None and sent.status == SENT:
        jobs.enqueue(session, STATUS_JOB_KIND, f"sms-status:{out.id}",
                     {"notification": out.id}, target="sms", run_at=now + policy.receipt_delay,
                     max_attempts=policy.receipt_attempts)


def _settled(session: Session, message_id: int, report: Sent, now: datetime) -> None:
    values: dict[str, object] = {"status": report.status, "reason": report.reason}
    if report.status == DELIVERED:
        values["delivered_at"] = now
    if report.cost_rials is not None:
        values["cost_rials"] = report.cost_rials
    _set(session, message_id, **values)


def _failure(job: Claimed, out: _Outgoing, now: datetime, reason: str) -> FailureEffect:
    def effect(session: Session, gave_up: bool) -> None:
        give_back_parts(session, now, out.parts)
        values: dict[str, object] = {"attempts": job.attempt}
        if gave_up:
            values.update(status=FAILED, reason=reason, token=None)
        _set(session, out.id, **values)
    return effect
