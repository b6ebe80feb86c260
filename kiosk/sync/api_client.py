"""The kiosk's one HTTP client for the counter server (`ApiClient`): its bearer token, one
pool of kept-alive connections, timeouts from `KioskPolicy`, network failures as
`Unreachable`, and every answer as a `Reply` with the kiosk's clock around it (the sync
measures the clock offset from it). The sync, the use cases that call while a citizen waits
(a ticket, a tracking look-up) and the CLI's reprint all go through it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote
from urllib.request import getproxies

import requests
from urllib3 import encode_multipart_formdata

from kiosk.config import KioskConfig
from kiosk.local.store import utcnow
from kiosk.sync.policy import KioskPolicy

REQUESTS_PATH = "/api/v1/requests"
FILINGS_PATH = "/api/v1/filings"
TICKETS_PATH = "/api/v1/tickets"
LEASES_PATH = "/api/v1/tickets/leases"
SURVEYS_PATH = "/api/v1/surveys"
CATALOG_PATH = "/api/v1/catalog"
TRACK_PATH = "/api/v1/track"
HEARTBEAT_PATH = "/api/v1/kiosks/heartbeat"
REVOCATIONS_PATH = "/api/v1/revocations"
HEALTH_PATH = "/healthz"
TRANSIENT_STATUSES = frozenset({401, 408, 425, 429})
MISSING_ENDPOINT_CODES = frozenset({None, "not_found", "method_not_allowed"})


class Unreachable(Exception):
    """The server could not be reached or did not answer in time."""


@dataclass(frozen=True)
class Reply:
    """An HTTP answer with the kiosk's clock around it."""

    status: int
    content: bytes
    headers: Mapping[str, str]
    sent_at: datetime
    received_at: datetime

    @property
    def data(self) -> Any:
        """The JSON body, or None when there is none or it is not JSON."""
        try:
            return json.loads(self.content) if self.content else None
        except ValueError:
            return None

    @property
    def error_code(self) -> str | None:
        body = self.data
        code = body.get("code") if isinstance(body, dict) else None
        return code if isinstance(code, str) else None

    @property
    def error_text(self) -> str:
        """"HTTP 422 code: message" for staff (the server's messages carry no personal data)."""
        body = self.data
        message = body.get("message") if isinstance(body, dict) else None
        parts = [f"HTTP {self.status}", self.error_code or "", message or ""]
        return " ".join(p for p in parts if p).strip()

    @property
    def server_date(self) -> datetime | None:
        """The server's clock from its `Date` header (to the second)."""
        value = self.headers.get("Date")
        try:
            return parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            return None

    @property
    def midpoint(self) -> datetime:
        return self.sent_at + (self.received_at - self.sent_at) / 2


def _pooled_session(connections: int) -> requests.Session:
    """A session keeping enough connections alive for the pushes sent side by side.

    The environment's proxy and CA settings are read once here, not on every call (requests
    would scan the whole environment per request otherwise)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = {k: v for k, v in getproxies().items() if k in ("http", "https", "no")}
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
        "CURL_CA_BUNDLE") or True
    adapter = requests.adapters.HTTPAdapter(pool_connections=1,
                                            pool_maxsize=max(10, connections))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ApiClient:
    """The kiosk's calls to the server, with its bearer token; network errors become
    `Unreachable`, and every answer notes the last contact."""

    def __init__(self, config: KioskConfig, session: requests.Session | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 policy: KioskPolicy | None = None) -> None:
        self.config, self.clock = config, clock
        self.policy = policy or KioskPolicy()
        self.session = session or _pooled_session(self.policy.concurrency)
        self.session.headers["Authorization"] = f"Bearer {config.token}"
        self.session.headers["Accept"] = "application/json"
        self.last_contact: datetime | None = None
        self._boundary = uuid.uuid4().hex

    def _timeout(self, timeout: float | None) -> float | tuple[float, float]:
        if timeout is not None:
            return timeout
        return self.policy.connect_timeout, self.policy.read_timeout

    def call(self, method: str, path: str, *, timeout: float | None = None,
             **kwargs: Any) -> Reply:
        """One request; a Reply for any HTTP answer, Unreachable when there is none."""
        sent = self.clock()
        try:
            response = self.session.request(method, f"{self.config.server_url}{path}",
                                            timeout=self._timeout(timeout), **kwargs)
        except requests.RequestException as exc:
            raise Unreachable(f"{method} {path}: {type(exc).__name__}") from exc
        reply = Reply(status=response.status_code, content=response.content,
                      headers=dict(response.headers), sent_at=sent, received_at=self.clock())
        if reply.status < 500:
            self.last_contact = reply.received_at
        return reply

    def get(self, path: str, *, headers: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Reply:
        return self.call("GET", path, headers=dict(headers or {}), timeout=timeout)

    def post_json(self, path: str, body: Mapping[str, Any], *,
                  timeout: float | None = None) -> Reply:
        return self.call("POST", path, json=body, timeout=timeout)

    def post_file(self, path: str, fields: Mapping[str, str], filename: str, data: bytes,
                  media_type: str, *, timeout: float | None = None) -> Reply:
        """A multipart POST with the form `fields` and the file as `file`.

        The multipart boundary is drawn once per client, not per call: a server parsing
        multipart (werkzeug) compiles a pattern for each new boundary, which is a good share
        of the work for a 200 KB scan. 32 random hex digits still never occur in a scan.
        """
        return self.post_parts(path, [*fields.items(), ("file", (filename, data, media_type))],
                               timeout=timeout)

    def post_parts(self, path: str, parts: Sequence[tuple[str, Any]], *,
                   timeout: float | None = None) -> Reply:
        """A multipart POST of `parts`: (name, text) or (name, (filename, bytes, type))."""
        body, content_type = encode_multipart_formdata(list(parts), boundary=self._boundary)
        return self.call("POST", path, data=body, headers={"Content-Type": content_type},
                         timeout=timeout)

    def track(self, code: str, *, timeout: float | None = None) -> Reply:
        """`GET /api/v1/track/<code>`: a request's public state (404: no such request)."""
        return self.get(f"{TRACK_PATH}/{quote(code, safe='')}", timeout=timeout)


def is_transient(reply: Reply) -> bool:
    """An answer after which the same record may well succeed later."""
    return reply.status >= 500 or reply.status in TRANSIENT_STATUSES


def endpoint_missing(reply: Reply) -> bool:
    """The server does not know this endpoint (an older server), as opposed to a refusal."""
    return reply.status in (404, 405) and reply.error_code in MISSING_ENDPOINT_CODES


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO string, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
