"""Kiosks as devices: registration, their secret tokens (stored hashed), revocation."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_server.db import Database, utcnow
from counter_server.models import Kiosk, Office

MAX_ISSUER = 99


class KioskError(Exception):
    """A kiosk command that cannot be carried out: the English text for the command line,
    `message` in Persian for the desk."""

    def __init__(self, text: str, message: str):
        super().__init__(text)
        self.message = message


@dataclass(frozen=True)
class Registration:
    kiosk: Kiosk
    token: str


def hash_token(token: str) -> str:
    """Tokens are 256-bit random strings, so a plain SHA-256 is a safe one-way store."""
    return hashlib.sha256(token.encode()).hexdigest()


def register_kiosk(session: Session, name: str, office: str | None = None) -> Registration:
    """Register a kiosk under the next issuer number (never reusing a revoked kiosk's)."""
    name = name.strip()
    if not name:
        raise KioskError("a kiosk needs a name", "نام کیوسک را بنویسید.")
    if office is not None and session.get(Office, office) is None:
        raise KioskError(f"no office {office!r} (import a catalog with offices.yaml first)",
                         "چنین شعبه‌ای در شناسنامه نیست.")
    if session.scalar(select(Kiosk).where(Kiosk.name == name)):
        raise KioskError(f"a kiosk named {name!r} already exists",
                         f"کیوسکی با نام «{name}» پیش‌تر ثبت شده است.")
    issuer = (session.scalar(select(func.max(Kiosk.id))) or 0) + 1
    if issuer > MAX_ISSUER:
        raise KioskError(f"all {MAX_ISSUER} kiosk issuer numbers are taken",
                         "همهٔ شماره‌های صادرکنندهٔ کیوسک به کار رفته‌اند.")
    token = secrets.token_urlsafe(32)
    kiosk = Kiosk(id=issuer, name=name, token_hash=hash_token(token), office_slug=office)
    session.add(kiosk)
    session.flush()
    return Registration(kiosk, token)


def renew_token(session: Session, kiosk: Kiosk) -> str:
    """A new secret token for `kiosk` (shown once); the old one stops working at once."""
    token = secrets.token_urlsafe(32)
    kiosk.token_hash = hash_token(token)
    session.flush()
    return token


def authenticate(session: Session, token: str) -> Kiosk | None:
    """The active kiosk this token belongs to, or None (unknown or revoked)."""
    if not token:
        return None
    kiosk = session.scalar(select(Kiosk).where(Kiosk.token_hash == hash_token(token)))
    if kiosk is None or kiosk.revoked_at is not None:
        return None
    return kiosk


@dataclass(frozen=True)
class Caller:
    """What a request needs of the kiosk that calls: who it is and where it stands."""

    id: int
    name: str
    office_slug: str | None


class TokenCache:
    """The active kiosks by token hash, as this process last read them. An entry is read
    again once it is `max_age` seconds old, so a revoked or renewed token stops working
    within that; an unknown token is asked every time (a new kiosk works at once)."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic):
        self.max_age, self._clock = max_age, clock
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def authenticate(self, database: Database, token: str) -> Caller | None:
        """The kiosk of `token`, or None; read in a short session of its own when due (not
        the request's, which on SQLite would take the write lock for a POST)."""
        if not token:
            return None
        key, clock = hash_token(token), self._clock()
        entry = self._entries.get(key)
        if entry is not None and clock - entry[1] < self.max_age:
            return entry[0]
        with database.session() as reads:
            kiosk = authenticate(reads, token)
        with self._lock:
            if kiosk is None:
                self._entries.pop(key, None)
                return None
            caller = Caller(kiosk.id, kiosk.name, kiosk.office_slug)
            self._entries[key] = (caller, clock)
        return caller

    def forget(self, kiosk_id: int) -> None:
        """Drop the kiosk's entries: its revocation or new token counts in this process at
        once (other processes see it within `max_age`)."""
        with self._lock:
            for key in [k for k, (caller, _) in self._entries.items() if caller.id == kiosk_id]:
                del self._entries[key]


def find(session: Session, id_or_name: str) -> Kiosk:
    query = select(Kiosk).where(Kiosk.name == id_or_name)
    if id_or_name.isdigit():
        query = select(Kiosk).where(Kiosk.id == int(id_or_name))
    kiosk = session.scalar(query)
    if kiosk is None:
        raise KioskError(f"no kiosk {id_or_name!r}", "چنین کیوسکی ثبت نشده است.")
    return kiosk


def revoke(session: Session, id_or_name: str) -> Kiosk:
    kiosk = find(session, id_or_name)
    if kiosk.revoked_at is None:
        kiosk.revoked_at = utcnow()
    return kiosk


def all_kiosks(session: Session) -> list[Kiosk]:
    return list(session.scalars(select(Kiosk).order_by(Kiosk.id)))
