"""The bus protocol in types: what an adapter is asked, what it hands back, how it fails.

Every adapter implements `Bus.ask`. It returns an `Exchange` — the evidence of one call: what
was sent and received, byte for byte, when, the signature and the validated result — or
raises a `BusError` that carries the same evidence of the failed call, and says whether a
later attempt may succeed (`temporary`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from shared.inquiries import InquiryKind, Reading, Reply

MESSAGE_ID_HEADER = "X-Message-Id"
SIGNATURE_HEADER = "X-Signature"
SIGNATURE_KEY_HEADER = "X-Signature-Key"


def inquiry_path(kind: str) -> str:
    """Where a kind is asked, below the bus's base URL."""
    return f"/inquiries/{kind}"


def request_body(message_id: str, inputs: Mapping[str, str]) -> bytes:
    """The request's JSON body: compact UTF-8 with sorted keys (the same inputs, the same
    bytes)."""
    document = {"message_id": message_id, "inputs": dict(inputs)}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode("utf-8")


@dataclass(frozen=True)
class Exchange:
    """One call to the bus, as evidence.

    `received_at` is when the exchange ended: the reply's last byte, or the moment the
    adapter gave up. `reply_body` is exactly what came back (empty when nothing did);
    `signature_valid` is None when the reply was not signed (or not checked), `result` and
    `reading` are set only for a reply that was verified and matches its kind's schema.
    """

    message_id: str
    kind: str  # the kind's slug
    target: str  # the outside system (its circuit, its quota)
    url: str
    sent_at: datetime  # aware, UTC
    received_at: datetime  # aware, UTC
    request_body: bytes
    reply_body: bytes = b""
    http_status: int | None = None
    reply_id: str | None = None
    signature: str | None = None
    signature_key: str | None = None
    signature_valid: bool | None = None
    result: Reply | None = None
    reading: Reading | None = None

    @property
    def elapsed(self) -> timedelta:
        return self.received_at - self.sent_at


class BusError(Exception):
    """A call that brought no usable answer; `exchange` is its evidence, `temporary` says
    whether asking again later may succeed. The message names no personal data."""

    def __init__(self, exchange: Exchange, temporary: bool, message: str) -> None:
        super().__init__(message)
        self.exchange, self.temporary = exchange, temporary


class BusTimeout(BusError):
    """No (complete) reply within the call's time limit."""

    def __init__(self, exchange: Exchange, message: str) -> None:
        super().__init__(exchange, True, message)


class BusUnavailable(BusError):
    """The bus or agency could not answer now: 5xx, 429, connection refused or dropped.
    `retry_after` is the seconds the bus asked to wait (Retry-After), when it said."""

    def __init__(self, exchange: Exchange, message: str,
                 retry_after: float | None = None) -> None:
        super().__init__(exchange, True, message)
        self.retry_after = retry_after


class BusMalformed(BusError):
    """A reply that is not JSON, not the protocol's envelope, not about the message asked,
    or whose result does not match its kind's schema."""

    def __init__(self, exchange: Exchange, message: str) -> None:
        super().__init__(exchange, True, message)


class BusBadSignature(BusError):
    """A reply whose signature names an unknown key, does not verify, or is missing when
    signatures are required."""

    def __init__(self, exchange: Exchange, message: str) -> None:
        super().__init__(exchange, True, message)


class BusRefused(BusError):
    """A permanent refusal: the agency rejected the inputs (400), the bus rejected Miz's
    credential (401/403), or the request cannot be right (404, 409, other 4xx).

    `code` is the bus's error code (`invalid_input`, `not_found`, `unauthorized`, …) and
    `reason` its own sentence, kept out of the message because an agency may quote inputs.
    """

    def __init__(self, exchange: Exchange, message: str, code: str,
                 reason: str | None = None) -> None:
        super().__init__(exchange, False, message)
        self.code, self.reason = code, reason


@runtime_checkable
class Bus(Protocol):
    """What Miz asks other agencies through."""

    def ask(self, kind: InquiryKind, inputs: Mapping[str, str], message_id: str,
            timeout: float | None = None) -> Exchange:
        """Ask `kind` with `inputs` (only the kind's own inputs are sent) as message
        `message_id`, within `timeout` seconds (None: the adapter's limit for the kind).
        Returns the exchange with its validated result; raises a BusError otherwise, and
        ValueError before sending anything when an input the kind needs is missing."""
        ...
