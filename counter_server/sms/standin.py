"""A stand-in SMS provider speaking Kavenegar's REST protocol, and under `/gateway` the generic
HTTP protocol (`counter_server.sms.generic`), misbehaving on demand — the same faults for both.

Faults are a JSON object, given at start (`create_standin(faults=…)`) or at run time
(`POST /_faults` adds to them, `DELETE /_faults` clears them, `GET` shows them):

    {"next": [{"fault": "timeout", "count": 1, "went_out": true}],
     "receipts": {"after_polls": 2} | {"after_seconds": 60},
     "hang_seconds": 2}

`next` makes the next `count` sends fail with `fault`: `timeout` (hang `hang_seconds` without
answering; with `went_out` the message was accepted before the hang), `error_5xx` (503),
`no_credit` (418) or `invalid_receptor` (411). A receptor that is not `09` and nine digits is
always refused with 411. A message is accepted with status 1 (queued) and delivered (10) once
asked about `after_polls` times or `after_seconds` after it was sent (at once by default).
`verify/lookup.json` accepts a one-time code for a template named in `"templates"` (default
`["otp"]`; another is refused with 424) and keeps it as the text `"<template>:<token>"`.
`GET /_stats` counts accepted messages and calls; `GET /_messages` lists the accepted ones.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from shared.sms import parts

RECEPTOR = re.compile(r"^09\d{9}$")
FAULT_REPLIES = {"no_credit": (418, "اعتبار حساب شما کافی نیست"),
                 "invalid_receptor": (411, "دریافت کننده نامعتبر است")}


@dataclass
class Message:
    messageid: int
    localid: str
    receptor: str
    text: str
    sent_at: datetime
    polls: int = 0


@dataclass
class StandinState:
    api_key: str
    clock: Callable[[], datetime]
    faults: dict[str, Any] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)

    def next_fault(self) -> dict[str, Any] | None:
        with self.lock:
            pending = self.faults.get("next") or []
            if not pending:
                return None
            fault = dict(pending[0])
            pending[0]["count"] = int(pending[0].get("count", 1)) - 1
            if pending[0]["count"] <= 0:
                pending.pop(0)
            return fault

    def accept(self, localid: str, receptor: str, text: str) -> Message:
        with self.lock:
            message = Message(len(self.messages) + 1_000_001, localid, receptor, text,
                              self.clock())
            self.messages[message.messageid] = message
            return message

    def by_localid(self, localid: str) -> Message | None:
        return next((m for m in self.messages.values() if m.localid == localid), None)

    def status_of(self, message: Message) -> int:
        receipts = self.faults.get("receipts") or {}
        message.polls += 1
        if "after_polls" in receipts and message.polls <= int(receipts["after_polls"]):
            return 1
        if "after_seconds" in receipts and \
                (self.clock() - message.sent_at).total_seconds() < float(receipts["after_seconds"]):
            return 1
        return 10


def _reply(status: int, entries: Any = None, message: str = "تایید شد") -> Response:
    response = jsonify({"return": {"status": status, "message": message}, "entries": entries})
    response.status_code = status
    return response


def _entry(message: Message, status: int) -> dict[str, Any]:
    return {"messageid": message.messageid, "localid": message.localid, "status": status,
            "statustext": "رسیده به گیرنده" if status == 10 else "در صف ارسال",
            "receptor": message.receptor, "cost": 120 * parts(message.text)}


def create_standin(api_key: str = "standin-key", faults: Mapping[str, Any] | None = None,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Flask:
    app = Flask(__name__)
    state = StandinState(api_key, clock, dict(faults or {}))
    app.extensions["miz.sms_standin"] = state
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    def counted(name: str, key: str) -> Response | None:
        with state.lock:
            state.calls[name] = state.calls.get(name, 0) + 1
        return None if key == state.api_key else _reply(403, None, "کلید نامعتبر")

    @app.route("/v1/<key>/sms/send.json", methods=["GET", "POST"])
    def send(key: str) -> Response:
        refused = counted("send", key)
        if refused is not None:
            return refused
        form = request.values
        receptor, text, localid = (form.get("receptor", ""), form.get("message", ""),
                                   form.get("localid", ""))
        if not text:
            return _reply(406, None, "پارامترهای اجباری خالی است")
        fault = state.next_fault()
        if fault is not None:
            return _fault(state, fault, localid, receptor, text)
        if not RECEPTOR.match(receptor):
            return _reply(411, None, "دریافت کننده نامعتبر است")
        return _reply(200, [_entry(state.accept(localid, receptor, text), 1)])

    @app.route("/v1/<key>/verify/lookup.json", methods=["GET", "POST"])
    def lookup(key: str) -> Response:
        """A one-time code through an approved template (`templates`, `otp` by default): the
        text kept is the template's name and the token, so a test can read the code."""
        refused = counted("lookup", key)
        if refused is not None:
            return refused
        form = request.values
        receptor, token, template = (form.get("receptor", ""), form.get("token", ""),
                                     form.get("template", ""))
        if not token or not template:
            return _reply(406, None, "پارامترهای اجباری خالی است")
        if template not in state.faults.get("templates", ["otp"]):
            return _reply(424, None, "الگو یافت نشد")
        fault = state.next_fault()
        text = f"{template}:{token}"
        if fault is not None:
            return _fault(state, fault, "", receptor, text)
        if not RECEPTOR.match(receptor):
            return _reply(411, None, "دریافت کننده نامعتبر است")
        return _reply(200, [_entry(state.accept("", receptor, text), 5)])

    @app.get("/v1/<key>/sms/status.json")
    def status(key: str) -> Response:
        refused = counted("status", key)
        if refused is not None:
            return refused
        message = state.messages.get(int(request.args.get("messageid", "0") or 0))
        if message is None:
            return _reply(200, [{"messageid": request.args.get("messageid"), "status": 100}])
        return _reply(200, [_entry(message, state.status_of(message))])

    @app.get("/v1/<key>/sms/statuslocalmessageid.json")
    def status_by_localid(key: str) -> Response:
        refused = counted("statuslocalmessageid", key)
        if refused is not None:
            return refused
        message = state.by_localid(request.args.get("localid", ""))
        if message is None:
            return _reply(200, [{"localid": request.args.get("localid"), "status": 100}])
        return _reply(200, [_entry(message, state.status_of(message))])

    @app.route("/_faults", methods=["GET", "POST", "DELETE"])
    def faults_endpoint() -> Response:
        with state.lock:
            if request.method == "POST":
                plan = request.get_json(force=True) or {}
                pending = state.faults.setdefault("next", [])
                pending.extend(plan.pop("next", []))
                state.faults.update(plan)
            elif request.method == "DELETE":
                state.faults.clear()
            return jsonify(state.faults)

    @app.get("/_stats")
    def stats() -> Response:
        return jsonify({"accepted": len(state.messages), "calls": dict(state.calls)})

    @app.get("/_messages")
    def messages() -> Response:
        return jsonify([{"messageid": m.messageid, "localid": m.localid, "text": m.text,
                         "receptor": m.receptor} for m in state.messages.values()])

    _generic_routes(app, state)
    return app


def _fault(state: StandinState, fault: dict[str, Any], localid: str, receptor: str,
           text: str) -> Response:
    kind = fault.get("fault")
    if kind == "timeout":
        if fault.get("went_out"):
            state.accept(localid, receptor, text)
        state.closing.wait(float(state.faults.get("hang_seconds", 2.0)))
        return _reply(504, None, "timeout")
    if kind == "error_5xx":
        return Response("Service Unavailable", status=503)
    code, message = FAULT_REPLIES[str(kind)]
    return _reply(code, None, message)


# The generic HTTP protocol (`counter_server.sms.generic`), under GENERIC_PREFIX -----------------

GENERIC_PREFIX = "/gateway"
GENERIC_REFUSALS = {"no_credit": (402, "no_credit"), "invalid_receptor": (422, "invalid_number")}


def _generic_routes(app: Flask, state: StandinState) -> None:
    """The generic protocol's routes, with the faults of `next` and `receipts` (a refusal is
    answered the generic way: `no_credit` 402, `invalid_receptor` 422 `invalid_number`); calls
    are counted under the same names as Kavenegar's (`send`, `status`, `statuslocalmessageid`)
    and `send_code`. `"delay_seconds"` in the faults makes every send answer that much later (so
    tests can hold several sends in flight at once)."""

    def refused(name: str) -> Response | None:
        with state.lock:
            state.calls[name] = state.calls.get(name, 0) + 1
        if request.headers.get("Authorization") == f"Bearer {state.api_key}":
            return None
        return _generic_error(401, "unauthorized")

    def accept(name: str, localid: str, receptor: str, text: str) -> Response:
        refusal = refused(name)
        if refusal is not None:
            return refusal
        if not localid or not text:
            return _generic_error(400, "bad_request")
        if state.by_localid(localid) is not None:
            return _generic_error(409, "duplicate")
        fault = state.next_fault()
        if fault is not None:
            return _generic_fault(state, fault, localid, receptor, text)
        if not RECEPTOR.match(receptor):
            return _generic_error(422, "invalid_number")
        state.closing.wait(float(state.faults.get("delay_seconds", 0)))
        response = jsonify(_generic_message(state.accept(localid, receptor, text), "queued"))
        response.status_code = 201
        return response

    @app.post(f"{GENERIC_PREFIX}/messages")
    def generic_send() -> Response:
        body = request.get_json(silent=True) or {}
        return accept("send", str(body.get("local_id") or ""), str(body.get("to") or ""),
                      str(body.get("text") or ""))

    @app.post(f"{GENERIC_PREFIX}/codes")
    def generic_send_code() -> Response:
        body = request.get_json(silent=True) or {}
        if not body.get("template"):
            return _generic_error(422, "unknown_template")
        text = f"{body['template']}: {body.get('code') or ''}" if body.get("code") else ""
        return accept("send_code", str(body.get("local_id") or ""), str(body.get("to") or ""),
                      text)

    @app.get(f"{GENERIC_PREFIX}/messages/<message_id>")
    def generic_status(message_id: str) -> Response:
        refusal = refused("status")
        if refusal is not None:
            return refusal
        message = state.messages.get(int(message_id)) if message_id.isdigit() else None
        return _generic_found(state, message)

    @app.get(f"{GENERIC_PREFIX}/messages")
    def generic_status_by_localid() -> Response:
        refusal = refused("statuslocalmessageid")
        if refusal is not None:
            return refusal
        return _generic_found(state, state.by_localid(request.args.get("local_id", "")))


def _generic_message(message: Message, status: str) -> dict[str, Any]:
    return {"id": str(message.messageid), "local_id": message.localid, "status": status,
            "parts": parts(message.text), "cost_rials": 120 * parts(message.text)}


def _generic_found(state: StandinState, message: Message | None) -> Response:
    if message is None:
        return _generic_error(404, "not_found")
    status = "delivered" if state.status_of(message) == 10 else "queued"
    return jsonify(_generic_message(message, status))


def _generic_error(status: int, error: str) -> Response:
    response = jsonify({"error": error, "message": error.replace("_", " ")})
    response.status_code = status
    return response


def _generic_fault(state: StandinState, fault: dict[str, Any], localid: str, receptor: str,
                   text: str) -> Response:
    kind = str(fault.get("fault"))
    if kind in GENERIC_REFUSALS:
        return _generic_error(*GENERIC_REFUSALS[kind])
    return _fault(state, fault, localid, receptor, text)  # a time-out or a 5xx, as Kavenegar's
