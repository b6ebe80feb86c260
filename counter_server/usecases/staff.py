"""Staff accounts: creation, roles, passwords (cost, common ones refused), login checks with
lockout and an audit of failures, disabling, and ending every session of an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from counter_server.db import utcnow
from counter_server.models import Service, ServiceAssignment, ServiceRequest, User
from counter_server.usecases import audit
from shared.text import to_persian_digits

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# scrypt at OWASP's minimum cost: N=2^15, r=8, p=3 is the cheat sheet's equivalent of
# N=2^17, r=8, p=1 with a quarter of the memory (32 MiB a hash). Werkzeug's default is p=1.
PASSWORD_METHOD = "scrypt:32768:8:3"
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
# One message for every failed login, locked account or not, so that it tells nothing about
# which usernames exist.
LOGIN_FAILED = ("نام کاربری یا گذرواژه نادرست است، یا این حساب پس از چند ورود ناموفق "
                "برای چند دقیقه قفل شده است.")


class Role(StrEnum):
    receptionist = "receptionist"
    clerk = "clerk"
    supervisor = "supervisor"
    admin = "admin"
    editor = "editor"


ROLE_LABELS = {
    Role.receptionist: "پذیرش",
    Role.clerk: "کارشناس",
    Role.supervisor: "سرپرست",
    Role.admin: "مدیر سامانه",
    Role.editor: "ویراستار شناسنامه خدمات",
}
# Who edits and publishes the catalog in the browser (/desk/catalog).
CATALOG_EDITORS = frozenset({Role.admin, Role.editor})
# Who works in the office: the lobby, walk-ins, tickets (everyone but the catalog's editors).
OFFICE_STAFF = frozenset(Role) - {Role.editor}


class StaffError(Exception):
    """A staff account command that cannot be carried out: the English text for the command
    line, `message` in Persian for the desk."""

    def __init__(self, text: str, message: str):
        super().__init__(text)
        self.message = message


class LoginFailed(Exception):
    """Wrong username or password, or a locked account; `message` is for the login page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_new_password(password: str) -> None:
    """StaffError for a password too short or among the most common ones."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
                         f"گذرواژه باید دست‌کم {to_persian_digits(MIN_PASSWORD_LENGTH)} نویسه "
                         "داشته باشد.")
    if password.strip().lower() in common_passwords():
        raise StaffError("the password is one of the most common passwords; choose another",
                         "این گذرواژه از پرکاربردترین گذرواژه‌هاست؛ گذرواژهٔ دیگری برگزینید.")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash(method: str) -> str:
    """A hash to compare against when there is no account to check, so that every failed
    login does the same hashing work."""
    return generate_password_hash("not a real password", method=method)


def create_user(session: Session, username: str, full_name: str, role: Role, password: str,
                services: list[str] | None = None) -> User:
    username = username.strip().lower()
    if session.scalar(select(User).where(User.username == username)):
        raise StaffError(f"user {username!r} already exists",
                         f"نام کاربری «{username}» پیش‌تر ثبت شده است.")
    check_new_password(password)
    user = User(username=username, full_name=full_name.strip(), role=Role(role).value,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    assign_services(session, user, services or [])
    return user


def assign_services(session: Session, user: User, slugs: list[str]) -> None:
    known = set(session.scalars(select(Service.slug).where(Service.slug.in_(slugs))))
    unknown = sorted(set(slugs) - known)
    if unknown:
        raise StaffError(f"unknown services: {', '.join(unknown)}",
                         f"این خدمت‌ها در فهرست نیستند: {'، '.join(unknown)}")
    for slug in sorted(known - user.service_slugs):
        user.assignments.append(ServiceAssignment(user_id=user.id, service_slug=slug))
    session.flush()


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise StaffError(f"no user {username!r}", f"کاربری با نام «{username}» نیست.")
    return user


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def authenticate(session: Session, username: str, password: str,
                 now: datetime | None = None, address: str | None = None) -> User:
    """The user with these credentials; LoginFailed otherwise, the failure counted and
    audited. Every failure hashes once and answers the same message, whatever the reason."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    usable = user is not None and user.active and not is_locked(user, now)
    matches = check_password_hash(
        user.password_hash if usable and user else _dummy_hash(PASSWORD_METHOD), password)
    if user is None or not usable or not matches:
        reason = ("unknown" if user is None else "disabled" if not user.active
                  else "locked" if is_locked(user, now) else "password")
        if reason == "password" and user is not None:
            count_failure(user, now)
        audit.record(session, user, "staff.login_failed", address=address,
                     username=username.strip().lower()[:60], reason=reason)
        raise LoginFailed(LOGIN_FAILED)
    assert user is not None
    if user.password_hash.split("$", 1)[0] != PASSWORD_METHOD:
        user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    return user


def count_failure(user: User, now: datetime) -> None:
    """One more failed try (a password or a second factor); the fifth locks the account."""
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.failed_logins, user.locked_until = 0, now + LOCKOUT


def end_sessions(user: User) -> None:
    """Every session of `user` stops working at its next request."""
    user.session_version += 1


def set_password(session: Session, username: str, password: str,
                 by: User | None = None) -> User:
    """A new password (checked like a new account's); ends every session, lifts a lockout.
    `by` is the admin who set it (None: the command line); audited."""
    user = find_user(session, username)
    check_new_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    end_sessions(user)
    audit.record(session, by, "staff.password_reset", username=user.username)
    return user


def set_active(session: Session, username: str, active: bool,
               by: User | None = None) -> User:
    """Disable (ending every session) or enable an account; audited."""
    user = find_user(session, username)
    if by is not None and by.id == user.id and not active:
        raise StaffError("you cannot disable your own account",
                         "حساب خودتان را نمی‌توانید غیرفعال کنید.")
    user.active = active
    if not active:
        end_sessions(user)
    audit.record(session, by, "staff.enabled" if active else "staff.disabled",
                 username=user.username)
    return user


def set_role(session: Session, username: str, role: str, by: User | None = None) -> User:
    """Give an account another role; its sessions end, so the new role applies at once."""
    user = find_user(session, username)
    try:
        new_role = Role(role)
    except ValueError:
        raise StaffError(f"unknown role {role!r}", "نقش انتخاب‌شده شناخته نیست.") from None
    if by is not None and by.id == user.id and new_role != Role.admin:
        raise StaffError("you cannot take the admin role from yourself",
                         "نقش مدیر سامانه را از خودتان نمی‌توانید بگیرید.")
    if user.role != new_role.value:
        audit.record(session, by, "staff.role_changed", username=user.username,
                     old=user.role, new=new_role.value)
        user.role = new_role.value
        end_sessions(user)
    return user


def set_services(session: Session, username: str, slugs: list[str],
                 by: User | None = None) -> User:
    """Exactly these services for the account (a clerk works on their requests); audited."""
    user = find_user(session, username)
    keep = set(slugs)
    assign_services(session, user, sorted(keep))
    user.assignments = [a for a in user.assignments if a.service_slug in keep]
    session.flush()
    audit.record(session, by, "staff.services_changed", username=user.username,
                 services=sorted(keep))
    return user


def end_sessions_of(session: Session, username: str, by: User | None = None) -> User:
    """An admin ends every open session of an account (a lost or shared computer)."""
    user = find_user(session, username)
    end_sessions(user)
    audit.record(session, by, "staff.sessions_ended", username=user.username)
    return user


@dataclass(frozen=True)
class ServiceScope:
    """The services whose requests a member of staff may see and work on."""

    every: bool
    slugs: frozenset[str] = frozenset()

    def __contains__(self, service_slug: object) -> bool:
        return self.every or service_slug in self.slugs

    def requests(self) -> ColumnElement[bool]:
        """The same rule as a condition on requests, for queries."""
        return true() if self.every else ServiceRequest.service_slug.in_(sorted(self.slugs))


def services_visible_to(user: User) -> ServiceScope:
    """Supervisors and admins work on every service; clerks on theirs; receptionists on none."""
    if user.role in (Role.supervisor, Role.admin):
        return ServiceScope(every=True)
    if user.role == Role.clerk:
        return ServiceScope(every=False, slugs=frozenset(user.service_slugs))
    return ServiceScope(every=False)


def may_work_on(user: User, service_slug: str) -> bool:
    return service_slug in services_visible_to(user)
