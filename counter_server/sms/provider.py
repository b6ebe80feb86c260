"""The interface every SMS provider implements, and its errors.

`send` hands one message over under Miz's own `local_id` (the Notification's id, the same on
every retry); `status` asks after a message by the provider's id; `status_by_local_id` asks
whether a message with `local_id` exists at all — `None` when it does not — which is how a
send that timed out is settled without sending twice. `send_code` sends a one-time code
through the provider's approved template (`MIZ_SMS_OTP_TEMPLATE`; Kavenegar's `verify/lookup`),
the way Iranian operators let codes through fast and at any hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SENT, DELIVERED, FAILED, CANCELLED = "sent", "delivered", "failed", "cancelled"
FINAL = frozenset({DELIVERED, FAILED, CANCELLED})


@dataclass(frozen=True)
class Sent:
    """A message as the provider knows it: its id, its state (one of SENT, DELIVERED, FAILED,
    CANCELLED), the parts it was billed as, its cost in rials if told, and the reason (Persian)
    of a failure."""

    provider_id: str
    status: str
    cost_parts: int
    cost_rials: int | None = None
    reason: str | None = None


class SmsError(Exception):
    """A call to the provider did not work."""


class SmsTemporary(SmsError):
    """A failure a later attempt may not meet (a 5xx, no connection, an unreadable reply)."""


class SmsTimeout(SmsTemporary):
    """No answer in time: the message may or may not have gone out."""


class SmsPermanent(SmsError):
    """The provider refused the message for good (no credit, an invalid number, …)."""

    def __init__(self, reason_code: str, persian_reason: str) -> None:
        super().__init__(f"{reason_code}: {persian_reason}")
        self.reason_code, self.persian_reason = reason_code, persian_reason


class SmsProvider(Protocol):
    name: str

    def send(self, local_id: str, mobile: str, text: str) -> Sent: ...

    def send_code(self, local_id: str, mobile: str, template: str, code: str) -> Sent: ...

    def status(self, provider_id: str) -> Sent: ...

    def status_by_local_id(self, local_id: str) -> Sent | None: ...
