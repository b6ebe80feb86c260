"""Staff's second factor: a TOTP authenticator (RFC 6238, 30-second codes of 6 digits) and
one-time recovery codes; who must have one; enrolment, checking a code, an admin's reset."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp
from sqlalchemy.orm import Session

from counter_server.models import User
from counter_server.usecases import audit, staff
from counter_server.usecases.staff import Role
from shared.text import to_ascii_digits

STEP_SECONDS = 30
# A code of the step before or after now is accepted too: phones' clocks drift.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
# Supervisors and admins work on every service, revoke delivered documents and run the
# catalog's commands; editors publish what every citizen reads: they always need a second
# factor.
ALWAYS_REQUIRED = frozenset({Role.supervisor, Role.admin, Role.editor})
WRONG_CODE = "کد نادرست است یا پیش‌تر به کار رفته است."


class SecondFactorError(Exception):
    """A second-factor step that cannot be done; `message` is for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def required_for(user: User, every_role: bool) -> bool:
    """Must `user` have a second factor? `every_role` is the deployment's choice for clerks
    and reception (STAFF_TWO_FACTOR_EVERY_ROLE)."""
    return every_role or user.role in ALWAYS_REQUIRED


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def _step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    here = _step(now)
    for step in range(here - DRIFT_STEPS, here + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _digest(code: str) -> str:
    return hashlib.sha256(_plain(code).encode()).hexdigest()


def _plain(code: str) -> str:
    """A code as typed: any digits (Persian too), spaces and dashes left out, lower case."""
    return "".join(ch for ch in to_ascii_digits(code).lower() if ch.isalnum())


def _new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def enrol(session: Session, user: User, secret: str, code: str, now: datetime,
          address: str | None = None) -> list[str]:
    """Record `secret` once a code from it checks out; the recovery codes, shown only now."""
    step = _matching_step(secret, _plain(code), now)
    if step is None:
        raise SecondFactorError("کد برنامه با این کلید نمی‌خواند؛ کد تازه را وارد کنید.")
    codes = _new_recovery_codes()
    user.totp_secret, user.totp_last_step, user.two_factor_since = secret, step, now
    user.recovery_codes = [_digest(c) for c in codes]
    audit.record(session, user, "staff.two_factor_enrolled", address=address)
    return codes


def verify(session: Session, user: User, code: str, now: datetime,
           address: str | None = None) -> None:
    """Accept a current authenticator code (each once) or an unused recovery code; a wrong one
    counts as a failed login and is audited."""
    if staff.is_locked(user, now) or user.totp_secret is None:
        raise SecondFactorError(staff.LOGIN_FAILED)
    typed = _plain(code)
    step = _matching_step(user.totp_secret, typed, now) if len(typed) == 6 else None
    if step is not None and step > (user.totp_last_step or -1):
        user.totp_last_step = step
        return
    if _digest(typed) in user.recovery_codes:
        user.recovery_codes = [d for d in user.recovery_codes if d != _digest(typed)]
        audit.record(session, user, "staff.recovery_code_used", address=address,
                     left=len(user.recovery_codes))
        return
    staff.count_failure(user, now)
    audit.record(session, user, "staff.login_failed", address=address,
                 username=user.username, reason="second_factor")
    raise SecondFactorError(WRONG_CODE)


def reset(session: Session, admin: User, user: User, address: str | None = None) -> None:
    """An admin clears a colleague's second factor (a lost phone): they enrol again at their
    next login, and every session of theirs ends now."""
    if admin.role != Role.admin:
        raise SecondFactorError("فقط مدیر سامانه عامل دوم همکاران را بازنشانی می‌کند.")
    if admin.id == user.id:
        raise SecondFactorError("عامل دوم خودتان را مدیر دیگری باید بازنشانی کند.")
    user.totp_secret = user.totp_last_step = user.two_factor_since = None
    user.recovery_codes = []
    staff.end_sessions(user)
    audit.record(session, admin, "staff.two_factor_reset", address=address,
                 username=user.username)


def set_known_secret(user: User, secret: str, now: datetime) -> None:
    """Enrol `user` with a secret chosen ahead (the demo's accounts, whose secrets are
    published): no code is asked and no recovery codes are made."""
    user.totp_secret, user.totp_last_step, user.two_factor_since = secret, None, now
    user.recovery_codes = []
