"""A generic HTTP provider (`MIZ_SMS_PROVIDER=http`): an agency's own SMS gateway, speaking a
small JSON protocol under `MIZ_SMS_BASE_URL` (no default: the agency's address is required).

Every call carries `Authorization: Bearer <MIZ_SMS_API_KEY>`; bodies are JSON (UTF-8).

    POST {base}/messages   {"local_id": "17", "to": "09121234567", "text": "…", "sender": "…"}
    POST {base}/codes      {"local_id": "18", "to": "09121234567", "template": "…", "code": "4821"}
    GET  {base}/messages/{id}              a message by the gateway's id
    GET  {base}/messages?local_id={local}  a message by Miz's local id

`sender` is `MIZ_SMS_SENDER` and is left out when empty. `codes` sends a one-time code through
the gateway's approved template named `template` (`MIZ_SMS_OTP_TEMPLATE`) — the gateway writes
the text. `local_id` is Miz's id of the message, the same on every retry: the gateway keeps it
and refuses a second message with a local id it already has (409, `{"error": "duplicate"}`),
so nothing goes out twice; Miz then asks after the message by its local id.

A message, in the answer to a send (200 or 201) and to a look-up (200), is

    {"id": "9f2c", "local_id": "17", "status": "queued", "parts": 1, "cost_rials": 120,
     "reason": null}

`status` is `queued` or `sent` (on its way), `delivered`, `failed` (with `reason`, one of the
refusal codes below or `not_delivered`) or `cancelled`; `parts`, `cost_rials` and `reason` may
be left out. A look-up of a message the gateway does not have answers 404.

A refusal is a 4xx with `{"error": "<code>", "message": "…"}`; it is permanent — the message is
failed with the Persian reason of `REFUSALS`, never retried. The codes (and the HTTP status a
gateway should use) are `bad_request` (400), `unauthorized` (401), `no_credit` (402),
`invalid_number`, `invalid_sender`, `invalid_text`, `unknown_template`, `blocked` (422). Any
other 4xx is permanent too, with its HTTP status in the reason, except 408 and 429, which —
like a 5xx, no connection, no answer in time or an unreadable body — are temporary and retried
(`counter_server.sms.http.call` maps the transport failures, as for every provider).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from counter_server.sms.http import call
from counter_server.sms.provider import (
    CANCELLED,
    DELIVERED,
    FAILED,
    SENT,
    Sent,
    SmsPermanent,
    SmsTemporary,
)
from shared.sms import parts

# The gateway's refusal codes, with the reason shown to supervisors.
REFUSALS: dict[str, str] = {
    "bad_request": "درخواست به سامانه پیامک ناقص است",
    "unauthorized": "کلید دسترسی سامانه پیامک معتبر نیست",
    "no_credit": "اعتبار حساب سامانه پیامک کافی نیست",
    "invalid_number": "شماره گیرنده نامعتبر است",
    "invalid_sender": "شماره فرستنده نامعتبر است",
    "invalid_text": "متن پیام خالی یا بیش از اندازه بلند است",
    "unknown_template": "الگوی پیامک در سامانه پیامک تعریف نشده است",
    "blocked": "گیرنده دریافت پیامک را مسدود کرده است",
}
NOT_DELIVERED = "پیام به گیرنده نرسید"
STATES = {"queued": SENT, "sent": SENT, "delivered": DELIVERED, "failed": FAILED,
          "cancelled": CANCELLED}
TEMPORARY_4XX = frozenset({408, 429})
DUPLICATE, NOT_FOUND = 409, 404


class GenericHttp:
    name = "http"

    def __init__(self, api_key: str, sender: str = "", base_url: str = "",
                 timeout: float = 10.0) -> None:
        if not base_url:
            raise ValueError("the http SMS provider needs MIZ_SMS_BASE_URL (the gateway's address)")
        self.sender, self.timeout = sender, timeout
        self.root = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {api_key}"

    def send(self, local_id: str, mobile: str, text: str) -> Sent:
        body = {"local_id": local_id, "to": mobile, "text": text}
        if self.sender:
            body["sender"] = self.sender
        return self._post("messages", body, parts(text))

    def send_code(self, local_id: str, mobile: str, template: str, code: str) -> Sent:
        body = {"local_id": local_id, "to": mobile, "template": template, "code": code}
        return self._post("codes", body, 1)

    def status(self, provider_id: str) -> Sent:
        found = self._look_up(f"messages/{quote(provider_id, safe='')}", None)
        if found is None:
            raise SmsTemporary("message not known yet")
        return found

    def status_by_local_id(self, local_id: str) -> Sent | None:
        return self._look_up("messages", {"local_id": local_id})

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict[str, str], cost_parts: int) -> Sent:
        code, reply = call(self.http, "POST", f"{self.root}/{path}", self.timeout, json=body)
        if code == DUPLICATE and _error(reply) == "duplicate":
            found = self.status_by_local_id(body["local_id"])
            if found is None:
                raise SmsTemporary("the gateway has the local id but cannot find its message")
            return found
        return _message(code, reply, cost_parts)

    def _look_up(self, path: str, params: dict[str, str] | None) -> Sent | None:
        code, reply = call(self.http, "GET", f"{self.root}/{path}", self.timeout, params=params)
        return None if code == NOT_FOUND else _message(code, reply, 0)


def _error(reply: Any) -> str:
    return str(reply.get("error") or "") if isinstance(reply, dict) else ""


def _message(code: int, reply: Any, cost_parts: int) -> Sent:
    """The message in a 2xx answer; a refusal or a temporary failure otherwise."""
    if not 200 <= code < 300:
        raise _refusal(code, reply)
    try:
        state = STATES[str(reply["status"])]
        provider_id = str(reply["id"])
        billed = int(reply.get("parts") or cost_parts)
        cost = reply.get("cost_rials")
        cost_rials = int(cost) if cost is not None else None
    except (TypeError, KeyError, ValueError) as exc:
        raise SmsTemporary("unreadable reply") from exc
    reason = REFUSALS.get(str(reply.get("reason")), NOT_DELIVERED) if state == FAILED else None
    return Sent(provider_id, state, billed, cost_rials, reason)


def _refusal(code: int, reply: Any) -> SmsPermanent | SmsTemporary:
    error = _error(reply)
    if code in TEMPORARY_4XX or not 400 <= code < 500:
        return SmsTemporary(f"HTTP {code}")
    if error in REFUSALS:
        return SmsPermanent(error, REFUSALS[error])
    return SmsPermanent(f"http-{code}", f"سامانه پیامک درخواست را نپذیرفت (کد {code})")
