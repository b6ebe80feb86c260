"""Counted limits that no route decorator can key: online filings per address and per mobile,
and every API call of a kiosk by its token.

They are counted in the rate limiter's store (`MIZ_RATELIMIT_STORAGE_URI`), which production
keeps in Redis (`security.check_production` refuses the in-memory store there), so every
server process counts against the same numbers. A limit is written as flask-limiter writes
them ("10 per day", "30 per hour").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from limits import parse

from counter_server.extensions import limiter


def track_limit() -> str:
    """Lookups by tracking code (and of a delivered document) per address, as configured
    (`TRACK_RATE_LIMIT`); flask-limiter calls it on each request."""
    return str(current_app.config["TRACK_RATE_LIMIT"])


def allows(limit: str, scope: str, key: str) -> bool:
    """True while `key` has room left under `limit` (nothing is counted)."""
    return bool(limiter.limiter.test(parse(limit), scope, key))


def spend(limit: str, scope: str, key: str) -> bool:
    """Count one more for `key` under `limit`; False when there was no room left."""
    return bool(limiter.limiter.hit(parse(limit), scope, key))


FILINGS_REFUSED = ("از این نشانی یا برای این شماره همراه در زمان کوتاهی درخواست‌های بسیاری ثبت "
                   "شده است؛ لطفاً چند ساعت دیگر دوباره بکوشید.")


def _filing_limits(config: Mapping[str, Any], address: str,
                   mobile: str) -> list[tuple[str, str, str]]:
    return [(config["FILINGS_PER_ADDRESS"], "filings-by-address", address),
            (config["FILINGS_PER_MOBILE"], "filings-by-mobile", mobile)]


def may_file(config: Mapping[str, Any], address: str, mobile: str) -> bool:
    """True while an online filing from `address` for `mobile` is within both limits."""
    return all(allows(*limit) for limit in _filing_limits(config, address, mobile))


def count_filing(config: Mapping[str, Any], address: str, mobile: str) -> None:
    """Count a new online filing (a replay is not counted: it files nothing)."""
    for limit in _filing_limits(config, address, mobile):
        spend(*limit)
