"""The agencies' stand-in: one small HTTP service that answers every inquiry kind of
`shared.inquiries` the way the government service bus would — from a demo data set
(`assets/agencies/citizens.yaml`), signing every reply, idempotent by message — and that
misbehaves on demand.

Faults are switched per kind or for `all` kinds, at start (`create_standin(faults=…)`, the
CLI's `--fault`) and at run time (`POST /_faults`; `GET` shows them, `DELETE` returns to the
faults given at start). A fault plan is a JSON object:

    {"all": {"latency_ms": 20},                    base latency (default: per agency)
     "mobile_owner": {"error_5xx": 0.2, "slow_ms": 500},
     "next": [{"fault": "timeout", "count": 2, "kind": "identity"}],
     "seed": 7, "hang_seconds": 30}

Rates (0–1, drawn from an RNG seeded by `seed`, checked in this order): `timeout` (hang for
`hang_seconds`, then answer), `error_5xx` (503), `rate_limited` (429, Retry-After: 1),
`malformed` (the body cut in half), `wrong_schema` (JSON whose result has the wrong types),
`bad_signature` (signed by another key under the stand-in's key id). Delays: `latency_ms`
(±25 % jitter) and `slow_ms` (extra). `next` makes the next `count` calls (of `kind`, or of
any kind) fail with `fault` for certain; a POST's `next` entries add to those pending.

A 429 or 503 comes before the agency looked; a malformed, wrong-schema or badly signed reply
is spoiled on the way out: the reply kept for the message stays the genuine one, which is
what asking again returns. `GET /_stats` counts calls, fresh answers, replays, refusals and
faults per kind (`DELETE /_stats` zeroes them); `GET /keys` publishes the public key.
"""

from __future__ import annotations

import hmac
import json
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, Response, request

from counter_server.agencies.demo_data import (
    ANSWERS,
    DEMO_DATA,
    DemoData,
    Refusal,
    load_demo_data,
    read_request,
)
from counter_server.agencies.faults import FaultPlan
from counter_server.agencies.protocol import (
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_KEY_HEADER,
)
from counter_server.agencies.signing import Signer
from shared.inquiries import KINDS, InquiryKind
from shared.jalali import jalali_string, local_now


@dataclass(frozen=True)
class Outcome:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Kept:
    """A reply kept for its message: asked again, it is sent again byte for byte."""

    kind: str
    inputs: dict[str, str]
    body: bytes
    signature: str


STAT_NAMES = ("calls", "answered", "replayed", "refused", "faults")


class Standin:
    """The stand-in's state and its one operation, `inquire`."""

    def __init__(self, data: DemoData, signer: Signer, token: str, plan: FaultPlan, *,
                 initial: Mapping[str, Any], today: Callable[[], str],
                 max_replies: int = 200_000) -> None:
        missing = set(KINDS) - set(ANSWERS)
        if missing:
            raise ValueError(f"the stand-in cannot answer {', '.join(sorted(missing))}")
        self.data, self.signer, self.plan = data, signer, plan
        self.initial, self.today, self.max_replies = dict(initial), today, max_replies
        self._credential = f"Bearer {token}".encode()
        self._impostor = Signer(Ed25519PrivateKey.generate(), signer.key_id)
        self._lock = threading.Lock()
        self._replies: OrderedDict[str, Kept] = OrderedDict()
        self.stats: dict[str, Counter[str]] = {name: Counter() for name in STAT_NAMES}
        self.closing = threading.Event()  # set at shutdown: hanging calls give up

    def authorized(self, header: str | None) -> bool:
        return hmac.compare_digest((header or "").encode(), self._credential)

    def reset_faults(self) -> None:
        self.plan = FaultPlan(self.initial)

    def count(self, stat: str, name: str) -> None:
        with self._lock:
            self.stats[stat][name] += 1

    def stats_snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {name: dict(counts) for name, counts in self.stats.items()}

    def reset_stats(self) -> None:
        with self._lock:
            for counts in self.stats.values():
                counts.clear()

    def inquire(self, slug: str, body: bytes, header_id: str | None) -> Outcome:
        kind = KINDS.get(slug)
        if kind is None:
            return error(404, "unknown_kind", "چنین استعلامی وجود ندارد.")
        self.count("calls", slug)
        try:
            message_id, inputs = read_request(kind, body, header_id)
            fault = self._fault(kind)
            if fault in ("rate_limited", "error_5xx", "closing"):
                return self._unavailable(fault)
            return self._spoiled(self._reply(kind, message_id, inputs), fault)
        except Refusal as refusal:
            self.count("refused", slug)
            return error(refusal.status, refusal.code, refusal.message)

    def _fault(self, kind: InquiryKind) -> str | None:
        """Draw this call's fault and spend its time: latency, slowness, a hang."""
        fault = self.plan.draw(kind.slug)
        if fault:
            self.count("faults", fault)
        self.closing.wait(self.plan.delay(kind))
        if fault == "timeout":
            self.closing.wait(self.plan.hang_seconds)
        return "closing" if self.closing.is_set() else fault

    @staticmethod
    def _unavailable(fault: str) -> Outcome:
        if fault == "rate_limited":
            outcome = error(429, "rate_limited", "تعداد درخواست‌ها بیش از سهمیه است.")
            outcome.headers["Retry-After"] = "1"
            return outcome
        return error(503, "unavailable", "سامانه استعلام موقتاً در دسترس نیست.")

    def _reply(self, kind: InquiryKind, message_id: str, inputs: dict[str, str]) -> Kept:
        with self._lock:
            kept = self._replies.get(message_id)
            if kept is not None:
                if (kept.kind, kept.inputs) != (kind.slug, inputs):
                    raise Refusal(409, "message_reused",
                                  "این شناسه پیام پیش‌تر برای استعلام دیگری به کار رفته است.")
                self._replies.move_to_end(message_id)
                self.stats["replayed"][kind.slug] += 1
                return kept
            result = ANSWERS[kind.slug](self.data, inputs, self.today())
            body = _json({"message_id": message_id, "reply_id": str(uuid.uuid4()),
                          "kind": kind.slug, "answered_at": datetime.now(UTC).isoformat(),
                          "result": result})
            kept = Kept(kind.slug, inputs, body, self.signer.sign(body))
            self._replies[message_id] = kept
            if len(self._replies) > self.max_replies:
                self._replies.popitem(last=False)
            self.stats["answered"][kind.slug] += 1
            return kept

    def _spoiled(self, kept: Kept, fault: str | None) -> Outcome:
        """The reply as sent: the kept one, or spoiled by `fault` on the way out."""
        body, signature = kept.body, kept.signature
        if fault == "malformed":
            body = body[: len(body) // 2]
            signature = self.signer.sign(body)
        elif fault == "wrong_schema":
            document = json.loads(body)
            document["result"] = {name: "نامعلوم" for name in document["result"]}
            body = _json(document)
            signature = self.signer.sign(body)
        elif fault == "bad_signature":
            signature = self._impostor.sign(body)
        return Outcome(200, body, {SIGNATURE_HEADER: signature,
                                   SIGNATURE_KEY_HEADER: self.signer.key_id})


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error(status: int, code: str, message: str) -> Outcome:
    return Outcome(status, _json({"error": code, "message": message}), {})


def _today() -> str:
    return jalali_string(local_now().date())


def create_standin(data_path: str | Path = DEMO_DATA,
                   key: Signer | Ed25519PrivateKey | None = None,
                   faults: Mapping[str, Any] | None = None, *, token: str,
                   today: Callable[[], str] = _today, max_replies: int = 200_000) -> Flask:
    """The stand-in as a Flask app; its state is `app.extensions["miz.standin"]`.

    `key` signs the replies (generated when None), `token` is the bearer credential asked of
    every call, `faults` the plan at start (and after `DELETE /_faults`), `today` the Jalali
    date licences expire against."""
    if not token:
        raise ValueError("the stand-in needs a credential to check")
    signer = key if isinstance(key, Signer) else Signer(key or Ed25519PrivateKey.generate())
    initial = dict(faults or {})
    state = Standin(load_demo_data(data_path), signer, token, FaultPlan(initial),
                    initial=initial, today=today, max_replies=max_replies)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["miz.standin"] = state
    _routes(app, state)
    return app


def _respond(outcome: Outcome) -> Response:
    response = Response(outcome.body, outcome.status,
                        content_type="application/json; charset=utf-8")
    response.headers.update(outcome.headers)
    if outcome.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _routes(app: Flask, state: Standin) -> None:
    unauthorized = error(401, "unauthorized", "اعتبارنامه فراخوان پذیرفته نشد.")

    @app.before_request
    def _check_credential() -> Response | None:
        if request.path == "/keys" or state.authorized(request.headers.get("Authorization")):
            return None
        return _respond(unauthorized)

    @app.post("/inquiries/<slug>")
    def inquire(slug: str) -> Response:
        message_id = request.headers.get(MESSAGE_ID_HEADER)
        return _respond(state.inquire(slug, request.get_data(), message_id))

    @app.get("/keys")
    def keys() -> Response:
        return _respond(Outcome(200, _json({"keys": state.signer.published()}), {}))

    @app.route("/_faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        if request.method == "POST":
            try:
                state.plan.update(json.loads(request.get_data() or b"{}"))
            except ValueError as exc:
                return _respond(error(400, "invalid_faults", str(exc)))
        elif request.method == "DELETE":
            state.reset_faults()
        return _respond(Outcome(200, _json(state.plan.snapshot()), {}))

    @app.route("/_stats", methods=["GET", "DELETE"])
    def stats() -> Response:
        if request.method == "DELETE":
            state.reset_stats()
        return _respond(Outcome(200, _json(state.stats_snapshot()), {}))
