"""Confirming the mobile of an online filing: first the check that it is the national
code's (when the service has one: it proves the number is the citizen's), then a one-time
code by SMS (it proves they hold the phone). Kiosk and counter filings need neither: a person
stands there.

    start(…)    limits, the check, a 5-digit code through the provider's approved template
    confirm(…)  the code typed back (a few wrong tries, then a new code is needed)
    for_filing(…) an online filing's confirmation, and the check to record with it

Limits keep anyone from making Miz text strangers: codes per mobile and per address an hour,
and a wait before a code is sent again. Every start counts, even one the check refuses
(asking the registry who holds a number is itself worth limiting). The code is kept only as
an HMAC under the server's secret; the SMS row holds it until the provider has it. A
confirmed mobile stays good for filing (in the same browser, or by its id through the API)
for `confirmed_for`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_server.agencies.protocol import Bus
from counter_server.db import Database
from counter_server.jobs import queue as jobs
from counter_server.models import MobileConfirmation, Notification, ServiceRequest
from counter_server.usecases import inquiries
from counter_server.usecases.notifications import JOB_KIND, ONE_TIME_CODE, QUEUED
from shared.catalog.schema import ServiceSpec
from shared.sms import parts
from shared.sms_texts import one_time_code_text
from shared.text import to_ascii_digits, to_persian_digits
from shared.validators import InvalidValue, clean_mobile, clean_national_code

CODE_DIGITS = 5
HIDDEN_CODE = "•" * CODE_DIGITS


@dataclass(frozen=True)
class Policy:
    code_lifetime: timedelta = timedelta(minutes=5)
    confirmed_for: timedelta = timedelta(minutes=60)
    resend_after: timedelta = timedelta(seconds=60)
    wrong_tries: int = 5
    per_mobile_hour: int = 5
    per_address_hour: int = 20
    template: str | None = None  # the provider's approved template (MIZ_SMS_OTP_TEMPLATE)
    check_seconds: float = 2.0  # how long the mobile check may take


def policy_from_config(config: Mapping[str, Any]) -> Policy:
    return Policy(
        code_lifetime=timedelta(minutes=float(config["MOBILE_CODE_MINUTES"])),
        confirmed_for=timedelta(minutes=float(config["MOBILE_CONFIRMED_MINUTES"])),
        resend_after=timedelta(seconds=float(config["MOBILE_CODE_RESEND_SECONDS"])),
        wrong_tries=int(config["MOBILE_CODE_TRIES"]),
        per_mobile_hour=int(config["MOBILE_CODES_PER_MOBILE_HOUR"]),
        per_address_hour=int(config["MOBILE_CODES_PER_ADDRESS_HOUR"]),
        template=config.get("SMS_OTP_TEMPLATE") or None,
        check_seconds=float(config["INQUIRY_BEFORE_FILING_SECONDS"]))


class ConfirmationRefused(Exception):
    """Why a code was not sent or not accepted: a stable `code`, a Persian `message`, the HTTP
    `status` and, when it is about one field, which (`national_code`, `mobile`, `code`)."""

    def __init__(self, code: str, message: str, status: int = 422,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.field = code, message, status, field


NOT_CONFIRMED = ConfirmationRefused(
    "mobile_not_confirmed", "برای ثبت آنلاین، نخست شماره همراه خود را با کدی که پیامک "
    "می‌شود تأیید کنید.", 401)


@dataclass(frozen=True)
class Sent:
    """A code on its way: the confirmation's id, the mobile it went to, when it can be
    asked for again and until when it is good."""

    public_id: str
    mobile: str
    resend_at: datetime
    expires_at: datetime


def _digest(secret: str, public_id: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{public_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _clean(national_code: str, mobile: str) -> tuple[str, str]:
    errors: dict[str, InvalidValue] = {}
    try:
        national_code = clean_national_code(national_code)
    except InvalidValue as exc:
        errors["national_code"] = exc
    try:
        mobile = clean_mobile(mobile)
    except InvalidValue as exc:
        errors["mobile"] = exc
    if errors:
        field, error = next(iter(errors.items()))
        raise ConfirmationRefused(error.code, error.message, field=field)
    return national_code, mobile


def _check_limits(session: Session, mobile: str, address: str, now: datetime,
                  policy: Policy) -> None:
    hour_ago = now - timedelta(hours=1)
    latest = session.scalar(select(func.max(MobileConfirmation.created_at)).where(
        MobileConfirmation.mobile == mobile, MobileConfirmation.code_digest != ""))
    if latest is not None and latest + policy.resend_after > now:
        seconds = int((latest + policy.resend_after - now).total_seconds()) + 1
        raise ConfirmationRefused(
            "code_sent_recently", f"کد تأیید همین الان فرستاده شد؛ اگر نرسید، "
            f"{to_persian_digits(seconds)} ثانیه دیگر دوباره بخواهید.", 429)
    by_mobile = session.scalar(select(func.count()).where(
        MobileConfirmation.mobile == mobile, MobileConfirmation.created_at > hour_ago)) or 0
    by_address = session.scalar(select(func.count()).where(
        MobileConfirmation.address == address, MobileConfirmation.created_at > hour_ago)) or 0
    if by_mobile >= policy.per_mobile_hour or by_address >= policy.per_address_hour:
        raise ConfirmationRefused(
            "too_many_codes", "برای این شماره یا از این نشانی در یک ساعت گذشته کد تأیید بسیار "
            "خواسته شده است؛ لطفاً یک ساعت دیگر دوباره بکوشید.", 429)


def start(db: Database, bus: Bus | None, *, service: str, national_code: str, mobile: str,
          address: str, now: datetime, policy: Policy, secret: str) -> Sent:
    """Check the mobile (when `service` has the check) and send a one-time code to it."""
    national_code, mobile = _clean(national_code, mobile)
    with db.transaction() as session:
        _check_limits(session, mobile, address, now, policy)
    check = inquiries.check_mobile(db, bus, service, national_code, mobile,
                                   policy.check_seconds)
    public_id = str(uuid.uuid4())
    row = MobileConfirmation(
        public_id=public_id, national_code=national_code, mobile=mobile, address=address[:45],
        code_digest="", created_at=now, expires_at=now, wrong_attempts=0,
        check=check.as_json() if check is not None else None)
    with db.transaction() as session:
        session.add(row)
        if check is not None and check.refused:
            # Counted for the limits, and nothing sent: the number is not the code's.
            session.flush()
            refused = True
        else:
            refused = False
            code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
            row.code_digest = _digest(secret, public_id, code)
            row.expires_at = now + policy.code_lifetime
            session.flush()
            _send_code(session, row, code, policy)
    if refused:
        raise ConfirmationRefused("mobile_not_owned", inquiries.MOBILE_NOT_YOURS, field="mobile")
    return Sent(public_id, mobile, now + policy.resend_after, now + policy.code_lifetime)


def _send_code(session: Session, row: MobileConfirmation, code: str, policy: Policy) -> None:
    """The code's SMS (its text with the code hidden, for the desk) and the job sending it."""
    text = one_time_code_text(HIDDEN_CODE)
    message = Notification(confirmation_id=row.id, mobile=row.mobile, event=ONE_TIME_CODE,
                           text=text, status=QUEUED, parts=parts(text),
                           template=policy.template, token=code)
    session.add(message)
    session.flush()
    jobs.enqueue(session, JOB_KIND, f"sms:{message.id}", {"notification": message.id},
                 target="sms", max_attempts=3)


def _find(session: Session, public_id: str | None) -> MobileConfirmation | None:
    if not public_id:
        return None
    return session.scalar(select(MobileConfirmation)
                          .where(MobileConfirmation.public_id == public_id))


def pending(session: Session, public_id: str | None, now: datetime) -> MobileConfirmation | None:
    """The confirmation whose code is awaited (sent, not expired, not yet confirmed)."""
    row = _find(session, public_id)
    if row is None or row.confirmed_at is not None or not row.code_digest \
            or row.expires_at <= now:
        return None
    return row


def confirm(session: Session, public_id: str | None, code: str, now: datetime, policy: Policy,
            secret: str) -> MobileConfirmation:
    """Accept the code typed for confirmation `public_id` (the caller commits: a wrong try
    is counted too)."""
    row = _find(session, public_id)
    if row is None or not row.code_digest:
        raise NOT_CONFIRMED
    if row.confirmed_at is not None:
        return row
    if row.expires_at <= now or row.wrong_attempts >= policy.wrong_tries:
        raise ConfirmationRefused("code_expired", "این کد دیگر اعتبار ندارد؛ کد تازه‌ای "
                                  "بخواهید.", field="code")
    typed = "".join(ch for ch in to_ascii_digits(code) if ch.isdigit())
    if not hmac.compare_digest(row.code_digest, _digest(secret, row.public_id, typed)):
        row.wrong_attempts += 1
        left = policy.wrong_tries - row.wrong_attempts
        message = ("کد درست نیست." + (f" {to_persian_digits(left)} بار دیگر می‌توانید آن را "
                                       "وارد کنید." if left else " کد تازه‌ای بخواهید."))
        raise ConfirmationRefused("code_wrong", message, field="code")
    row.confirmed_at = now
    return row


def confirmed(session: Session, public_id: str | None, now: datetime,
              policy: Policy) -> MobileConfirmation | None:
    """The confirmation `public_id` if its mobile was confirmed and is still good for filing."""
    row = _find(session, public_id)
    if row is None or row.confirmed_at is None or row.confirmed_at + policy.confirmed_for <= now:
        return None
    return row


def confirmed_for_applicant(session: Session, public_id: str | None, request: ServiceRequest,
                            now: datetime, policy: Policy) -> bool:
    """Whether confirmation `public_id` proved, recently, the hold of `request`'s applicant's
    mobile (a delivered document's download, when its service asks for a code)."""
    row = confirmed(session, public_id, now, policy)
    return row is not None and (row.national_code, row.mobile) == (
        request.applicant_national_code, request.applicant_mobile)


def for_filing(db: Database, bus: Bus | None, *, public_id: str | None, client_id: str,
               spec: ServiceSpec, applicant: Mapping[str, Any], now: datetime,
               policy: Policy) -> inquiries.MobileCheck | None:
    """For an online filing: refuse it unless its mobile was confirmed (the replay of a filed
    request passes: it is answered as before), and give the mobile check to record with it —
    the one made when the code was asked for, or one asked now when the service wants it
    and none was made then."""
    with db.session() as session:
        if session.scalar(select(ServiceRequest.id)
                          .where(ServiceRequest.client_id == client_id)) is not None:
            return None
        row = confirmed(session, public_id, now, policy)
        if row is None:
            raise NOT_CONFIRMED
        national_code, mobile, kept = row.national_code, row.mobile, row.check
    if not _same_person(applicant, national_code, mobile):
        raise ConfirmationRefused(
            "mobile_confirmation_mismatch", "کد ملی یا شماره همراه با آنچه تأیید کرده‌اید "
            "یکی نیست.", field="mobile")
    check = inquiries.MobileCheck.from_json(kept, spec) if kept else None
    if check is None and inquiries.mobile_check_of(spec) is not None:
        check = inquiries.check_mobile(db, bus, spec.slug, national_code, mobile,
                                       policy.check_seconds)
    return check


def _same_person(applicant: Mapping[str, Any], national_code: str, mobile: str) -> bool:
    try:
        return _clean(str(applicant.get("national_code", "")),
                      str(applicant.get("mobile", ""))) == (national_code, mobile)
    except ConfirmationRefused:
        return False


def masked(mobile: str) -> str:
    """«۰۹۱۲***۴۵۶۷»: enough for the citizen to see where the code went (not dots, which
    read as the Persian zero «۰»)."""
    return to_persian_digits(mobile[:4] + "***" + mobile[-4:])

