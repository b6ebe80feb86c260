"""Ghasedak (قاصدک) over its REST API (v2), the API key in the `apikey` header:

    POST {base}/v2/sms/send/simple            message, receptor, linenumber, checkid
    POST {base}/v2/sms/status                 id, type (1: Ghasedak's message id, 2: our checkid)
    POST {base}/v2/verification/send/simple   receptor, template, type (1: SMS), param1 (the code)

Replies are `{"result": {"code": 200, "message": "…"}, "items": [...]}`; the sends' items
hold the message id, the status's items `{"id", "status", …}`. Miz's local id is the checkid.
A refusal (a `result.code` other than 200) is permanent, with the code in its reason; message
states other than those below count as still on their way.

Sources: Ghasedak's v2 REST guide (https://ghasedak.io/docs, https://ghasedak.me/docs-old) for
`sms/send/simple` (`checkid`: a number unique per message chosen by the sender, by which the
`status` method later reports on the message) and `sms/status`. One-time codes go
through `verification/send/simple` with a template approved in Ghasedak's panel, `type=1` for a
text message (2 is a voice call) and the code as `param1`; the stored pages did not reach that
section, so its parameters are as Ghasedak's own SDKs and many public clients send them
(`ghasedakapi/ghasedak-python` calls the older `sms/send/verification` with the same fields).
It takes no `checkid`, so a code whose send timed out is not found by `status_by_local_id`
afterwards and a retry sends it again: the one case where a citizen may get a text twice (the
same code).
The message states are those of the v2 status table as commonly documented for Iranian panels
(0 queued, 1 delivered to the phone, 2 not delivered to the phone, 8 reached the operator,
16 did not reach the operator, 27 the receptor is blacklisted); v2's own table was not among
the stored pages, so they are unconfirmed. Beware: ghasedak.me/docs now documents a newer
gateway API (`gateway.ghasedak.me/rest/api/v1`, `WebService/CheckSmsStatus`) whose states
differ (0 none, 1 cancelled, 2 blacklisted, 3 handed to the operator, 4 not delivered,
5 delivered, 6 failed, 7 being checked, 8 unknown); they do not apply to the v2 paths here.
"""

from __future__ import annotations

from typing import Any

import requests

from counter_server.sms.http import call
from counter_server.sms.provider import (
    DELIVERED,
    FAILED,
    SENT,
    Sent,
    SmsPermanent,
    SmsTemporary,
)
from shared.sms import parts

BASE_URL = "https://api.ghasedak.me"
BY_MESSAGE_ID, BY_CHECK_ID = 1, 2
NOT_FOUND = -1

MESSAGE_STATES: dict[int, tuple[str, str | None]] = {
    0: (SENT, None), 8: (SENT, None),
    1: (DELIVERED, None),
    2: (FAILED, "پیام به گیرنده نرسید"),
    16: (FAILED, "پیام به مخابرات نرسید"),
    27: (FAILED, "شماره گیرنده در فهرست سیاه است"),
}


class Ghasedak:
    name = "ghasedak"

    def __init__(self, api_key: str, sender: str = "", base_url: str = BASE_URL,
                 timeout: float = 10.0) -> None:
        self.sender, self.timeout = sender, timeout
        self.root = f"{base_url.rstrip('/')}/v2"
        self.http = requests.Session()
        self.http.headers["apikey"] = api_key

    def send(self, local_id: str, mobile: str, text: str) -> Sent:
        data = {"message": text, "receptor": mobile, "checkid": local_id}
        if self.sender:
            data["linenumber"] = self.sender
        items = self._items("sms/send/simple", data)
        return Sent(str(items[0]), SENT, parts(text))

    def send_code(self, local_id: str, mobile: str, template: str, code: str) -> Sent:
        """`code` through the approved `template` (Ghasedak keeps no local id for it)."""
        items = self._items("verification/send/simple",
                            {"receptor": mobile, "template": template, "type": "1",
                             "param1": code})
        return Sent(str(items[0]), SENT, 1)

    def status(self, provider_id: str) -> Sent:
        found = self._status(provider_id, BY_MESSAGE_ID)
        if found is None:
            raise SmsTemporary("message not known yet")
        return found

    def status_by_local_id(self, local_id: str) -> Sent | None:
        return self._status(local_id, BY_CHECK_ID)

    def close(self) -> None:
        self.http.close()

    def _status(self, key: str, kind: int) -> Sent | None:
        items = self._items("sms/status", {"id": key, "type": str(kind)})
        item = items[0] if items else {}
        code = int(item.get("status", NOT_FOUND))
        if code == NOT_FOUND:
            return None
        state, reason = MESSAGE_STATES.get(code, (SENT, None))
        price = item.get("price")
        return Sent(str(item.get("id", key)), state, 0,
                    int(price) if price is not None else None, reason)

    def _items(self, path: str, data: dict[str, str]) -> list[Any]:
        _, body = call(self.http, "POST", f"{self.root}/{path}", self.timeout, data=data)
        try:
            code = int(body["result"]["code"])
            items = body.get("items") or []
        except (TypeError, KeyError, ValueError) as exc:
            raise SmsTemporary("unreadable reply") from exc
        if code != 200:
            raise SmsPermanent(str(code), f"سامانه پیامک درخواست را نپذیرفت (کد {code})")
        if "send" in path and not items:
            raise SmsTemporary("no message id in the reply")
        return items
