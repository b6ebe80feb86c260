"""Who is calling the API: a kiosk (by its bearer token), a logged-in member of staff, or
anyone (online desk)."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from counter_server.api.errors import ApiError
from counter_server.context import session
from counter_server.models import Kiosk, User
from counter_server.usecases import kiosks

BEARER = "Bearer "


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len(BEARER):].strip() if header.startswith(BEARER) else None


def current_kiosk() -> Kiosk | None:
    """The kiosk whose token this call carries; 401 for an unknown or revoked token."""
    if "kiosk" not in g:
        token = bearer_token()
        kiosk = kiosks.authenticate(session(), token) if token else None
        if token and kiosk is None:
            raise ApiError(401, "invalid_token", "توکن کیوسک نامعتبر است یا باطل شده است.")
        g.kiosk = kiosk
    kiosk_or_none: Kiosk | None = g.kiosk
    return kiosk_or_none


def is_kiosk_call() -> bool:
    """True for calls with a valid kiosk token (exempt from per-address rate limits)."""
    try:
        return current_kiosk() is not None
    except ApiError:
        return False


def current_staff() -> User | None:
    return current_user if current_user.is_authenticated else None  # type: ignore[return-value]
