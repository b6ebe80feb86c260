"""`HttpBus`: Miz's adapter to a government service bus that speaks the protocol of
`shared.inquiries` over HTTPS.

One adapter holds one pooled `requests.Session`; it is shared by a worker's threads, several
calls in flight at once. Every reply is checked in this order: its status (mapped to the
errors of `protocol`), its signature over the exact bytes received, its envelope (JSON, about
the message and kind asked) and its result against the kind's schema. Logs name the kind,
the message id and the status — never inputs, results or the agency's messages.

A bus with another envelope, path scheme or signature header is one subclass away: override
`endpoint`, `headers`, `encode_request`, `signature_of` or `read_envelope`.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import requests
from pydantic import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError, ReadTimeoutError

from counter_server.agencies.protocol import (
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_KEY_HEADER,
    Bus,
    BusBadSignature,
    BusError,
    BusMalformed,
    BusRefused,
    BusTimeout,
    BusUnavailable,
    Exchange,
    inquiry_path,
    request_body,
)
from counter_server.agencies.signing import PublicKeys, SignatureProblem, load_public_keys, verify
from shared.inquiries import InquiryKind, Reply

log = logging.getLogger(__name__)

CREDENTIAL_HINT = "check MIZ_INQUIRY_TOKEN and the client certificate (MIZ_INQUIRY_CERT/KEY)"


@dataclass(frozen=True)
class BusSettings:
    """How to reach the bus; `BusSettings.from_config` reads them from `MIZ_INQUIRY_*`."""

    url: str  # base URL; kinds are asked at {url}/inquiries/{kind}
    token: str | None = None  # bearer credential
    cert: str | None = None  # client TLS certificate (PEM); with `key` unless it holds both
    key: str | None = None
    ca: str | None = None  # CA bundle that signs the bus's certificate (default: system's)
    timeout: float = 10.0  # seconds per call, in all
    connect_timeout: float = 3.0
    timeouts: Mapping[str, float] = field(default_factory=dict)  # per kind slug or target
    keys: PublicKeys = field(default_factory=dict)  # key id → agency's Ed25519 public key
    require_signature: bool | None = None  # None: required when keys are given
    pool_size: int = 32  # connections kept open to the bus
    max_reply_bytes: int = 1 << 20

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BusSettings:
        """Settings from the app's configuration (`MIZ_INQUIRY_URL` is `INQUIRY_URL` there);
        ValueError when the URL is missing."""
        url = config.get("INQUIRY_URL")
        if not url:
            raise ValueError("MIZ_INQUIRY_URL is not set: no bus to ask")
        keys_path = config.get("INQUIRY_KEYS")
        require = config.get("INQUIRY_REQUIRE_SIGNATURE")
        return cls(
            url=str(url), token=_text(config.get("INQUIRY_TOKEN")),
            cert=_text(config.get("INQUIRY_CERT")), key=_text(config.get("INQUIRY_KEY")),
            ca=_text(config.get("INQUIRY_CA")),
            timeout=float(config.get("INQUIRY_TIMEOUT", cls.timeout)),
            connect_timeout=float(config.get("INQUIRY_CONNECT_TIMEOUT", cls.connect_timeout)),
            timeouts={str(k): float(v) for k, v in (config.get("INQUIRY_TIMEOUTS") or {}).items()},
            keys=load_public_keys(keys_path) if keys_path else {},
            require_signature=None if require is None else bool(require),
            pool_size=int(config.get("INQUIRY_POOL_SIZE", cls.pool_size)),
        )

    @property
    def signatures_required(self) -> bool:
        return bool(self.keys) if self.require_signature is None else self.require_signature


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class HttpBus:
    """The protocol over HTTP(S): bearer credential, optional client certificate, signed
    replies checked against the agencies' public keys."""

    def __init__(self, settings: BusSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or self._session(settings)

    @staticmethod
    def _session(settings: BusSettings) -> requests.Session:
        session = requests.Session()
        pool = HTTPAdapter(pool_connections=4, pool_maxsize=settings.pool_size, max_retries=0)
        session.mount("https://", pool)
        session.mount("http://", pool)
        if settings.cert:
            session.cert = (settings.cert, settings.key) if settings.key else settings.cert
        session.verify = settings.ca or True
        session.trust_env = False  # no proxies or .netrc credentials picked up by chance
        return session

    def close(self) -> None:
        self.session.close()

    # --- the call ------------------------------------------------------------------------

    def ask(self, kind: InquiryKind, inputs: Mapping[str, str], message_id: str,
            timeout: float | None = None) -> Exchange:
        limit = self.time_limit(kind, timeout)
        body = self.encode_request(kind, self.select_inputs(kind, inputs), message_id)
        now = datetime.now(UTC)
        sent = Exchange(message_id=message_id, kind=kind.slug, target=kind.target,
                        url=self.endpoint(kind), sent_at=now, received_at=now,
                        request_body=body)
        try:
            exchange = self._settle(kind, self._exchange(kind, sent, limit))
        except BusError as exc:
            log.warning("inquiry %s %s failed (%s): %s", kind.slug, message_id,
                        type(exc).__name__, exc)
            raise
        log.debug("inquiry %s %s answered in %.0f ms", kind.slug, message_id,
                 exchange.elapsed.total_seconds() * 1000)
        return exchange

    def time_limit(self, kind: InquiryKind, timeout: float | None) -> float:
        """The call's limit: `timeout`, else the kind's or its target's, else the default."""
        if timeout is not None:
            return timeout
        limits = self.settings.timeouts
        return float(limits.get(kind.slug, limits.get(kind.target, self.settings.timeout)))

    def select_inputs(self, kind: InquiryKind, inputs: Mapping[str, str]) -> dict[str, str]:
        """The kind's own inputs and nothing else (an agency gets only what it needs)."""
        missing = [name for name in kind.inputs if not inputs.get(name)]
        if missing:
            raise ValueError(f"{kind.slug} needs the inputs {', '.join(missing)}")
        return {name: str(inputs[name]) for name in kind.inputs}

    def endpoint(self, kind: InquiryKind) -> str:
        return self.settings.url.rstrip("/") + inquiry_path(kind.slug)

    def headers(self, kind: InquiryKind, message_id: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Accept": "application/json", "Accept-Encoding": "identity",
                   MESSAGE_ID_HEADER: message_id}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        return headers

    def encode_request(self, kind: InquiryKind, inputs: Mapping[str, str],
                       message_id: str) -> bytes:
        return request_body(message_id, inputs)

    def _exchange(self, kind: InquiryKind, sent: Exchange,
                  limit: float) -> tuple[Exchange, Mapping[str, str]]:
        """Send, and read the whole reply within `limit` seconds."""
        deadline = time.monotonic() + limit
        slug = kind.slug
        try:
            response = self.session.post(
                sent.url, data=sent.request_body, headers=self.headers(kind, sent.message_id),
                timeout=(min(self.settings.connect_timeout, limit), limit), stream=True,
                allow_redirects=False)
        except requests.Timeout:
            raise BusTimeout(_ended(sent), f"{slug}: no reply within {limit:g} s") from None
        except requests.RequestException as exc:
            raise BusUnavailable(_ended(sent), f"{slug}: cannot reach the bus "
                                               f"({type(exc).__name__})") from None
        with response:
            got = replace(sent, http_status=response.status_code)
            body = self._read(response, got, deadline, limit)
        return replace(got, reply_body=body, received_at=datetime.now(UTC)), response.headers

    def _read(self, response: requests.Response, got: Exchange, deadline: float,
              limit: float) -> bytes:
        """The reply's bytes as they came (no content decoding), read by the deadline."""
        chunks: list[bytes] = []
        size = 0
        late = f"{got.kind}: reply not complete within {limit:g} s"
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BusTimeout(_ended(got, chunks), late)
                _limit_socket(response, remaining)
                chunk = response.raw.read1(16384, decode_content=False)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
                size += len(chunk)
                if size > self.settings.max_reply_bytes:
                    raise BusMalformed(_ended(got, chunks), f"{got.kind}: reply larger "
                                       f"than {self.settings.max_reply_bytes} bytes")
        except (ReadTimeoutError, TimeoutError):
            raise BusTimeout(_ended(got, chunks), late) from None
        except (HTTPError, OSError):
            raise BusUnavailable(_ended(got, chunks), f"{got.kind}: connection lost while "
                                                      f"reading the reply") from None

    # --- the reply -----------------------------------------------------------------------

    def _settle(self, kind: InquiryKind,
                received: tuple[Exchange, Mapping[str, str]]) -> Exchange:
        exchange, headers = received
        signature, key = self.signature_of(headers)
        exchange = replace(exchange, signature=signature, signature_key=key)
        if exchange.http_status != 200:
            raise self.failure(exchange, headers)
        exchange = self._verified(exchange)
        reply_id, data = self._envelope(kind, exchange)
        result = self._result(kind, exchange, data)
        return replace(exchange, reply_id=reply_id, result=result, reading=kind.read(result))

    def signature_of(self, headers: Mapping[str, str]) -> tuple[str | None, str | None]:
        """The reply's signature (base64) and key id, as the bus sends them."""
        return headers.get(SIGNATURE_HEADER), headers.get(SIGNATURE_KEY_HEADER)

    def _verified(self, exchange: Exchange) -> Exchange:
        if exchange.signature is None:
            if self.settings.signatures_required:
                raise BusBadSignature(replace(exchange, signature_valid=False),
                                      f"{exchange.kind}: the reply is not signed")
            return exchange
        try:
            verify(self.settings.keys, exchange.signature_key, exchange.signature,
                   exchange.reply_body)
        except SignatureProblem as exc:
            raise BusBadSignature(replace(exchange, signature_valid=False),
                                  f"{exchange.kind}: {exc}") from None
        return replace(exchange, signature_valid=True)

    def _envelope(self, kind: InquiryKind, exchange: Exchange) -> tuple[str, Any]:
        try:
            document = json.loads(exchange.reply_body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BusMalformed(exchange, f"{kind.slug}: the reply is not JSON") from None
        try:
            return self.read_envelope(kind, exchange.message_id, document)
        except ValueError as exc:
            raise BusMalformed(exchange, f"{kind.slug}: {exc}") from None

    def read_envelope(self, kind: InquiryKind, message_id: str, document: Any) -> tuple[str, Any]:
        """(reply id, result) of a decoded reply; ValueError when it is not the protocol's
        envelope or answers another message or kind (a replayed reply)."""
        if not isinstance(document, dict):
            raise ValueError("the reply is not a JSON object")
        if document.get("message_id") != message_id:
            raise ValueError("the reply answers another message")
        if document.get("kind") != kind.slug:
            raise ValueError("the reply answers another kind")
        reply_id = document.get("reply_id")
        if not isinstance(reply_id, str) or not reply_id:
            raise ValueError("the reply has no reply_id")
        if "result" not in document:
            raise ValueError("the reply has no result")
        return reply_id, document["result"]

    def _result(self, kind: InquiryKind, exchange: Exchange, data: Any) -> Reply:
        try:
            return kind.parse(data)
        except ValueError:
            # kind.parse's message quotes the values; say only which fields are wrong.
            raise BusMalformed(exchange, f"{kind.slug}: the result does not match its "
                                         f"schema ({_schema_problems(kind, data)})") from None

    def failure(self, exchange: Exchange, headers: Mapping[str, str]) -> BusError:
        """The error a non-200 reply stands for."""
        status, slug = exchange.http_status or 0, exchange.kind
        code, reason = _error_of(exchange.reply_body)
        if status in (401, 403):
            return BusRefused(exchange, f"{slug}: the bus refused Miz's credential "
                                        f"(HTTP {status}); {CREDENTIAL_HINT}",
                              code or "unauthorized", reason)
        if status == 408:
            return BusTimeout(exchange, f"{slug}: the bus timed out (HTTP 408)")
        if status == 429 or status >= 500:
            return BusUnavailable(exchange, f"{slug}: the bus cannot answer now (HTTP {status})",
                                  _retry_after(headers))
        if status == 404:
            return BusRefused(exchange, f"{slug}: the bus has no such inquiry (HTTP 404); "
                                        f"check MIZ_INQUIRY_URL", code or "not_found", reason)
        if 300 <= status < 500:
            return BusRefused(exchange, f"{slug}: refused ({code or 'no error code'}, "
                                        f"HTTP {status})", code or f"http_{status}", reason)
        return BusMalformed(exchange, f"{slug}: unexpected HTTP status {status}")


def _ended(exchange: Exchange, chunks: list[bytes] | None = None) -> Exchange:
    return replace(exchange, received_at=datetime.now(UTC), reply_body=b"".join(chunks or []))


def _limit_socket(response: requests.Response, seconds: float) -> None:
    """Let the next read wait at most `seconds` (the call's time left)."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _error_of(body: bytes) -> tuple[str | None, str | None]:
    """(error code, message) of an error reply, when it is the protocol's JSON."""
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, None
    if not isinstance(document, dict):
        return None, None
    code, message = document.get("error"), document.get("message")
    return (code if isinstance(code, str) else None,
            message if isinstance(message, str) else None)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: left to the caller's own back-off


def _schema_problems(kind: InquiryKind, data: Any) -> str:
    """Which fields of `data` break the kind's schema, without their values."""
    try:
        kind.result.model_validate(data)
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(str(part) for part in error['loc']) or 'result'}: "
                         f"{error['type']}" for error in exc.errors(include_input=False))
    return "invalid"


def bus_from_config(config: Mapping[str, Any]) -> Bus:
    """The bus the server asks: `MIZ_INQUIRY_ADAPTER` ("module:Class", default `HttpBus`)
    built with the `MIZ_INQUIRY_*` settings; ValueError when MIZ_INQUIRY_URL is not set."""
    settings = BusSettings.from_config(config)
    return _adapter_class(config.get("INQUIRY_ADAPTER"))(settings)


def _adapter_class(name: str | None) -> type[HttpBus]:
    if not name:
        return HttpBus
    module, _, attribute = str(name).partition(":")
    adapter = getattr(importlib.import_module(module), attribute or "Bus", None)
    if not (isinstance(adapter, type) and issubclass(adapter, HttpBus)):
        raise ValueError(f"MIZ_INQUIRY_ADAPTER {name!r} is not a subclass of HttpBus")
    return adapter
