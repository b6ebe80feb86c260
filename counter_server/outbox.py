"""Hands the SMS outbox to the gateway once the transaction that filled it has committed."""

from __future__ import annotations

from flask import current_app

from counter_server.context import session
from counter_server.usecases.notifications import send_pending


def flush() -> int:
    """Send what is pending through the app's gateway; returns how many were sent."""
    sent = send_pending(session(), current_app.extensions["miz.sms"])
    session().commit()
    return sent
