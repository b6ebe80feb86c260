"""Satisfaction survey answers, idempotent by the client's id, and the one-time invitations
(an SMS link to `/s/<token>`) sent when a request is completed or a walk-in visit is served
(a ticket finished, when the person gave a mobile).

Every answer is joined to what it is about — the invitation's request, or the request or
ticket a kiosk names — and carries the service, office, counter, clerk and channel the
reports group by.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from statistics import fmean

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from counter_server.db import utcnow
from counter_server.models import (
    Kiosk,
    RequestEvent,
    ServiceRequest,
    SurveyAnswer,
    SurveyInvitation,
    Ticket,
    User,
)
from counter_server.usecases import notifications
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.kiosks import Caller
from shared import tracking_codes

INVITATION_LIFETIME = timedelta(days=14)


class SurveyRefused(Exception):
    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Answers:
    client_id: str
    answers: dict[str, int]
    service: str | None = None
    tracking_code: str | None = None
    ticket_id: str | None = None
    comment: str | None = None
    created_at: datetime | None = None

    def digest(self) -> str:
        body = asdict(self) | {"created_at": self.created_at.isoformat()
                               if self.created_at else None}
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()


@dataclass
class Subject:
    """What an answer is about, as the reports group it."""

    service: str | None = None
    request_id: int | None = None
    ticket_ref_id: int | None = None
    office: str | None = None
    counter_id: int | None = None
    clerk_id: int | None = None
    channel: str | None = None


# --- invitations ---------------------------------------------------------------------------

def invite_for_request(session: Session, request: ServiceRequest, clerk: User | None,
                       event: RequestEvent, public_url: str,
                       now: datetime | None = None) -> SurveyInvitation:
    """A one-time survey link for a completed request and the SMS that carries it, in the
    caller's transaction."""
    moment = now or utcnow()
    subject = _request_subject(session, request)
    invitation = SurveyInvitation(
        token=secrets.token_urlsafe(24), request_id=request.id,
        service_slug=request.service_slug, office_slug=subject.office,
        clerk_id=clerk.id if clerk else request.assigned_to_id, channel=request.channel,
        created_at=moment, expires_at=moment + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    notifications.send_text(session, request, event, "survey",
                            invitation_message(request.service["title"], invitation,
                                               public_url))
    return invitation


def invite_for_visit(session: Session, ticket: Ticket, clerk: User | None, service_title: str,
                     public_url: str, now: datetime) -> SurveyInvitation | None:
    """A one-time survey link for a served walk-in visit and the SMS that carries it, in the
    caller's transaction; joined to the ticket's office, counter, clerk and service. None
    when the ticket has no mobile or was invited already (one answer per visit)."""
    if not ticket.mobile or session.scalar(select(SurveyInvitation.id).where(
            SurveyInvitation.ticket_id == ticket.id)) is not None:
        return None
    invitation = SurveyInvitation(
        token=secrets.token_urlsafe(24), ticket_id=ticket.id,
        service_slug=ticket.service_slug, office_slug=ticket.office_slug,
        counter_id=ticket.counter_id, clerk_id=clerk.id if clerk else ticket.called_by_id,
        channel="counter",
        created_at=now, expires_at=now + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    notifications.send_to_ticket(session, ticket, "survey",
                                 invitation_message(service_title, invitation, public_url))
    return invitation


def invitation_link(invitation: SurveyInvitation, public_url: str) -> str:
    return f"{public_url.rstrip('/')}/s/{invitation.token}"


def invitation_message(service_title: str, invitation: SurveyInvitation,
                       public_url: str) -> str:
    """The short Persian SMS; the link stands on its own line so RTL text cannot break it."""
    return (f"از اینکه خدمت «{service_title}» را از ما گرفتید سپاسگزاریم.\n"
            f"لطفاً در نظرسنجی کوتاه ما شرکت کنید:\n{invitation_link(invitation, public_url)}")


def open_invitation(session: Session, token: str, now: datetime) -> SurveyInvitation:
    """The invitation of `token` that may still be answered; SurveyRefused (404 unknown,
    410 expired, 409 answered) otherwise."""
    invitation = (session.scalar(select(SurveyInvitation).where(SurveyInvitation.token == token))
                  if 0 < len(token) <= 64 else None)
    if invitation is None:
        raise SurveyRefused("survey_not_found", "این پیوند نظرسنجی معتبر نیست.", 404)
    if invitation.answered_at is not None:
        raise SurveyRefused("survey_already_answered",
                            "به این نظرسنجی پیش‌تر پاسخ داده شده است؛ هر پیوند یک بار "
                            "پاسخ می‌گیرد. از همراهی شما سپاسگزاریم.", 409)
    if invitation.expires_at <= now:
        raise SurveyRefused("survey_expired",
                            "مهلت پاسخ به این نظرسنجی به پایان رسیده است.", 410)
    return invitation


# --- answers -------------------------------------------------------------------------------

def record(session: Session, snapshot: Snapshot, given: Answers,
           kiosk: Caller | None = None, *, survey_token: str | None = None,
           now: datetime | None = None) -> tuple[SurveyAnswer, bool]:
    """Store the answers once; (row, created). A replayed client id returns the first row.

    With `survey_token` the answer is the invitation's one answer (SurveyRefused when it is
    unknown, expired or answered already)."""
    existing = session.scalar(select(SurveyAnswer)
                              .where(SurveyAnswer.client_id == given.client_id))
    if existing is not None:
        if existing.body_digest != given.digest():
            raise SurveyRefused("idempotency_key_reused",
                                "این شناسه پیش‌تر برای پاسخ دیگری به کار رفته است.")
        return existing, False
    _check(snapshot, given)
    moment = now or utcnow()
    invitation = _claim(session, survey_token, moment) if survey_token else None
    subject = (_invitation_subject(invitation) if invitation
               else _kiosk_subject(session, given, kiosk))
    row = SurveyAnswer(
        client_id=given.client_id, body_digest=given.digest(),
        kiosk_id=kiosk.id if kiosk else None, service_slug=subject.service or given.service,
        tracking_code=_code(given.tracking_code), ticket_id=given.ticket_id,
        answers=given.answers, comment=(given.comment or "").strip() or None,
        created_at=given.created_at, received_at=moment,
        invitation_id=invitation.id if invitation else None, request_id=subject.request_id,
        ticket_ref_id=subject.ticket_ref_id, office_slug=subject.office,
        counter_id=subject.counter_id, clerk_id=subject.clerk_id, channel=subject.channel,
        score=round(fmean(given.answers.values()), 2))
    session.add(row)
    session.flush()
    return row, True


def _claim(session: Session, token: str, now: datetime) -> SurveyInvitation:
    """Mark the invitation answered; only one answer wins, also under concurrent posts."""
    invitation = open_invitation(session, token, now)
    claimed = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.answered_at.is_(None))
        .values(answered_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise SurveyRefused("survey_already_answered",
                            "به این نظرسنجی پیش‌تر پاسخ داده شده است.", 409)
    session.refresh(invitation)
    return invitation


def _code(code: str | None) -> str | None:
    return tracking_codes.normalize(code) if code else None


def _invitation_subject(invitation: SurveyInvitation) -> Subject:
    return Subject(service=invitation.service_slug, request_id=invitation.request_id,
                   ticket_ref_id=invitation.ticket_id, office=invitation.office_slug,
                   counter_id=invitation.counter_id, clerk_id=invitation.clerk_id,
                   channel=invitation.channel)


def _request_subject(session: Session, request: ServiceRequest) -> Subject:
    office = session.get(Kiosk, request.kiosk_id).office_slug if request.kiosk_id else None
    return Subject(service=request.service_slug, request_id=request.id, office=office,
                   clerk_id=request.assigned_to_id, channel=request.channel)


def _kiosk_subject(session: Session, given: Answers, kiosk: Caller | None) -> Subject:
    """A kiosk's answer joined to the request (by tracking code) or ticket (by public id)
    it names, the same way an invitation's answer is. The channel is the one the service
    was asked through: the request's, the counter for a ticket, else the kiosk itself."""
    subject = Subject(service=given.service, office=kiosk.office_slug if kiosk else None,
                      channel="kiosk" if kiosk else None)
    code = _code(given.tracking_code)
    request = (session.scalar(select(ServiceRequest).where(ServiceRequest.tracking_code == code))
               if code else None)
    if request is not None:
        found = _request_subject(session, request)
        found.office = found.office or subject.office
        subject = found
    ticket = (session.scalar(select(Ticket).where(Ticket.public_id == given.ticket_id))
              if given.ticket_id else None)
    if ticket is not None:
        subject.ticket_ref_id, subject.office = ticket.id, ticket.office_slug
        subject.counter_id = ticket.counter_id
        subject.clerk_id = subject.clerk_id or ticket.called_by_id
        subject.service = subject.service or ticket.service_slug
        subject.channel = request.channel if request is not None else "counter"
    return subject


def _check(snapshot: Snapshot, given: Answers) -> None:
    """Answers are kept even when the catalog changed since they were given (a kiosk may send
    them late); they must answer something, and a tracking code must be well formed."""
    if not given.answers:
        raise SurveyRefused("no_answers", "هیچ پرسشی پاسخ داده نشده است.")
    if given.tracking_code:
        try:
            tracking_codes.normalize(given.tracking_code)
        except tracking_codes.InvalidCode as exc:
            raise SurveyRefused(exc.code, exc.message) from None
