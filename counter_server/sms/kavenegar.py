"""Kavenegar (کاوه‌نگار) over its REST API.

    POST {base}/v1/{api_key}/sms/send.json      receptor, sender, message, localid
    GET  {base}/v1/{api_key}/sms/status.json?messageid=…
    GET  {base}/v1/{api_key}/sms/statuslocalmessageid.json?localid=…
    POST {base}/v1/{api_key}/verify/lookup.json  receptor, token, template (one-time codes)

Every reply is `{"return": {"status": 200, "message": "…"}, "entries": [...]}`; a `return`
status other than 200 is an error (e.g. 418 no credit, 411 invalid receptor). An entry's
`status` is the message's: 1 queued, 2 scheduled, 4/5 handed to the operator, 6 failed,
10 delivered, 11 not delivered, 13 cancelled, 14 blocked by the receptor, 100 no such message.
`verify/lookup` takes no local id: a code whose send timed out is not sent again (see
`usecases.mobile_confirmation`) — the citizen asks for a new code instead.
"""

from __future__ import annotations

from typing import Any

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

BASE_URL = "https://api.kavenegar.com"
NOT_FOUND = 100

# `return.status` codes a retry cannot fix, with the reason shown to supervisors.
PERMANENT: dict[int, str] = {
    400: "پارامترهای درخواست ناقص است",
    401: "حساب کاربری سامانه پیامک غیرفعال شده است",
    403: "کلید دسترسی سامانه پیامک معتبر نیست",
    404: "متد درخواست‌شده در سامانه پیامک نیست",
    405: "روش فراخوانی سامانه پیامک نادرست است",
    406: "پارامترهای اجباری خالی فرستاده شده است",
    407: "دسترسی به این اطلاعات در سامانه پیامک ممکن نیست",
    411: "شماره گیرنده نامعتبر است",
    412: "شماره فرستنده نامعتبر است",
    413: "متن پیام خالی یا بیش از اندازه بلند است",
    414: "حجم درخواست بیش از اندازه است",
    416: "نشانی IP سرور برای سامانه پیامک مجاز نیست",
    418: "اعتبار حساب سامانه پیامک کافی نیست",
    424: "الگوی پیامک کد تأیید در سامانه پیامک تعریف نشده است",
    422: "متن پیام نویسه نامناسب دارد",
    501: "حساب آزمایشی فقط به شماره صاحب حساب پیامک می‌فرستد",
}

MESSAGE_STATES: dict[int, tuple[str, str | None]] = {
    1: (SENT, None), 2: (SENT, None), 4: (SENT, None), 5: (SENT, None),
    6: (FAILED, "خطا در ارسال پیام"),
    10: (DELIVERED, None),
    11: (FAILED, "پیام به گیرنده نرسید"),
    13: (CANCELLED, "پیام لغو شد"),
    14: (FAILED, "گیرنده دریافت پیامک را مسدود کرده است"),
}


class Kavenegar:
    name = "kavenegar"

    def __init__(self, api_key: str, sender: str = "", base_url: str = BASE_URL,
                 timeout: float = 10.0) -> None:
        self.sender, self.timeout = sender, timeout
        self.root = f"{base_url.rstrip('/')}/v1/{api_key}"
        self.http = requests.Session()

    def send(self, local_id: str, mobile: str, text: str) -> Sent:
        data = {"receptor": mobile, "message": text, "localid": local_id}
        if self.sender:
            data["sender"] = self.sender
        entry = self._entries("POST", "sms/send.json", data=data)[0]
        return self._sent(entry, parts(text))

    def send_code(self, local_id: str, mobile: str, template: str, code: str) -> Sent:
        data = {"receptor": mobile, "token": code, "template": template}
        entry = self._entries("POST", "verify/lookup.json", data=data)[0]
        return self._sent(entry, 1)

    def status(self, provider_id: str) -> Sent:
        entry = self._entries("GET", "sms/status.json", params={"messageid": provider_id})[0]
        return self._sent(entry, 0)

    def status_by_local_id(self, local_id: str) -> Sent | None:
        entry = self._entries("GET", "sms/statuslocalmessageid.json",
                              params={"localid": local_id})[0]
        if int(entry.get("status", NOT_FOUND)) == NOT_FOUND:
            return None
        return self._sent(entry, 0)

    def close(self) -> None:
        self.http.close()

    def _entries(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        _, body = call(self.http, method, f"{self.root}/{path}", self.timeout, **kwargs)
        try:
            code = int(body["return"]["status"])
            entries = body.get("entries") or []
        except (TypeError, KeyError, ValueError) as exc:
            raise SmsTemporary("unreadable reply") from exc
        if code in PERMANENT:
            raise SmsPermanent(str(code), PERMANENT[code])
        if code != 200 or not entries:
            raise SmsTemporary(f"return status {code}")
        return entries

    @staticmethod
    def _sent(entry: dict[str, Any], cost_parts: int) -> Sent:
        state, reason = MESSAGE_STATES.get(int(entry.get("status", 0)), (SENT, None))
        cost = entry.get("cost")
        return Sent(str(entry["messageid"]), state, cost_parts,
                    int(cost) if cost is not None else None, reason)
