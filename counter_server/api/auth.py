"""Who is calling the API: a kiosk (by its bearer token), a logged-in member of staff (their
session cookie, with the session's CSRF token in the X-CSRFToken header), or anyone (online
desk)."""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from counter_server.api.errors import ApiError
from counter_server import quotas
from counter_server.context import database, kiosk_tokens
from counter_server.models import User
from counter_server.usecases import kiosks

BEARER = "Bearer "
CSRF_HEADER = "X-CSRFToken"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[len(BEARER):].strip() if header.startswith(BEARER) else None


def current_kiosk() -> kiosks.Caller | None:
    """The kiosk whose token this call carries; 401 for an unknown or revoked token."""
    if "kiosk" not in g:
        token = bearer_token()
        kiosk = kiosk_tokens().authenticate(database(), token) if token else None
        if token and kiosk is None:
            raise ApiError(401, "invalid_token", "توکن کیوسک نامعتبر است یا باطل شده است.")
        g.kiosk = kiosk
    kiosk_or_none: kiosks.Caller | None = g.kiosk
    return kiosk_or_none


def is_kiosk_call() -> bool:
    """True for calls with a valid kiosk token (exempt from per-address rate limits)."""
    try:
        return current_kiosk() is not None
    except ApiError:
        return False


def current_staff() -> User | None:
    """The member of staff whose session cookie this call carries; 403 when the cookie comes
    without the session's CSRF token in the X-CSRFToken header (another site's page can make
    a browser send the cookie, never the header)."""
    if not current_user.is_authenticated:
        return None
    try:
        validate_csrf(request.headers.get(CSRF_HEADER))
    except (ValidationError, CSRFError):
        raise ApiError(403, "csrf_header_required",
                       "درخواست کارکنان بدون سرآیند X-CSRFToken نشست پذیرفته نمی‌شود."
                       ) from None
    return current_user  # type: ignore[return-value]



def spend_kiosk_quota() -> None:
    """Count this call against its kiosk's own limit (`KIOSK_RATE_LIMIT`, keyed by the kiosk,
    not by the address: kiosks are exempt from the per-address limits); 429 past it."""
    if not is_kiosk_call():
        return
    kiosk: kiosks.Caller = g.kiosk
    if not quotas.spend(current_app.config["KIOSK_RATE_LIMIT"], "kiosk", str(kiosk.id)):
        raise ApiError(429, "kiosk_rate_limited",
                       "این کیوسک در این دقیقه درخواست بسیار فرستاده است؛ کمی بعد دوباره بفرستید.")
