"""One HTTP call to a provider, its failures mapped to the errors of `provider`."""

from __future__ import annotations

from typing import Any

import requests

from counter_server.sms.provider import SmsTemporary, SmsTimeout


def call(session: requests.Session, method: str, url: str, timeout: float,
         **kwargs: Any) -> tuple[int, Any]:
    """(HTTP status, JSON body or None); SmsTimeout when no answer came in `timeout` seconds,
    SmsTemporary when there was no connection or the provider had a 5xx."""
    try:
        response = session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        # A connect time-out means nothing was sent; a read time-out may mean it was.
        if isinstance(exc, requests.ConnectTimeout):
            raise SmsTemporary("connect timeout") from exc
        raise SmsTimeout("no answer in time") from exc
    except requests.RequestException as exc:
        raise SmsTemporary(type(exc).__name__) from exc
    if response.status_code >= 500:
        raise SmsTemporary(f"HTTP {response.status_code}")
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None
