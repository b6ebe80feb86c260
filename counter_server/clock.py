"""The time the app works at: real UTC time, or a fixed clock that tests and demos set."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import current_app

from counter_server.db import utcnow


def now() -> datetime:
    """`CLOCK` in the app config (a callable returning an aware datetime) or the real time."""
    return now_for(current_app.config)


def now_for(config: Mapping[str, Any]) -> datetime:
    """`now` for the app of `config`, outside any app context."""
    clock = config.get("CLOCK") or utcnow
    return clock()
