"""Staff accounts: creation, roles, password checks with lockout, service assignments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from counter_server.db import utcnow
from counter_server.models import Service, ServiceAssignment, ServiceRequest, User

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
# A fixed hash to compare against when the user does not exist, so timing reveals nothing.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


class Role(StrEnum):
    receptionist = "receptionist"
    clerk = "clerk"
    supervisor = "supervisor"
    admin = "admin"


ROLE_LABELS = {
    Role.receptionist: "پذیرش",
    Role.clerk: "کارشناس",
    Role.supervisor: "سرپرست",
    Role.admin: "مدیر سامانه",
}


class StaffError(Exception):
    """A staff account command that cannot be carried out."""


class LoginFailed(Exception):
    """Wrong username or password, or a locked account; `message` is for the login page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def create_user(session: Session, username: str, full_name: str, role: Role, password: str,
                services: list[str] | None = None) -> User:
    username = username.strip().lower()
    if session.scalar(select(User).where(User.username == username)):
        raise StaffError(f"user {username!r} already exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = User(username=username, full_name=full_name.strip(), role=Role(role).value,
                password_hash=generate_password_hash(password, method="scrypt"))
    session.add(user)
    session.flush()
    assign_services(session, user, services or [])
    return user


def assign_services(session: Session, user: User, slugs: list[str]) -> None:
    known = set(session.scalars(select(Service.slug).where(Service.slug.in_(slugs))))
    unknown = sorted(set(slugs) - known)
    if unknown:
        raise StaffError(f"unknown services: {', '.join(unknown)}")
    for slug in sorted(known - user.service_slugs):
        user.assignments.append(ServiceAssignment(user_id=user.id, service_slug=slug))
    session.flush()


def authenticate(session: Session, username: str, password: str,
                 now: datetime | None = None) -> User:
    """The user with these credentials; LoginFailed otherwise (and counts the failure)."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        raise LoginFailed("نام کاربری یا گذرواژه نادرست است.")
    if user.locked_until and user.locked_until > now:
        raise LoginFailed("به دلیل چند ورود ناموفق، این حساب تا چند دقیقه قفل است. "
                          "کمی بعد دوباره تلاش کنید.")
    if not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
        raise LoginFailed("نام کاربری یا گذرواژه نادرست است.")
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
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
