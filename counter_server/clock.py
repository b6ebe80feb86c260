"""The time the app works at: real UTC time, or a fixed clock that tests and demos set."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from counter_server.db import utcnow


def now() -> datetime:
    """`CLOCK` in the app config (a callable returning an aware datetime) or the real time."""
    clock = current_app.config.get("CLOCK") or utcnow
    return clock()
