"""The agencies' stand-in and Miz's HTTP adapter, over real HTTP: every kind answered from
the demo data set, refusals, each fault as its error with the exchange's evidence, signatures,
idempotency, time limits, concurrency, configuration and the command line."""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1
from cryptography.hazmat.primitives.asymmetric.ec import generate_private_key as ec_key
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from counter_server import create_app
from counter_server.agencies import (
    Bus,
    BusBadSignature,
    BusError,
    BusMalformed,
    BusRefused,
    BusTimeout,
    BusSettings,
    BusUnavailable,
    Exchange,
    HttpBus,
    bus_from_config,
)
from counter_server.agencies.demo_data import DEMO_DATA, load_demo_data
from counter_server.agencies.faults import parse_fault_option
from counter_server.agencies.signing import Signer, load_public_keys, public_pem
from shared.inquiries import KINDS, Verdict
from shared.validators import is_valid_national_code
from tests.agency_standin import TOKEN, StandinServer
from tests.agency_standin import agency_standin_fixture  # noqa: F401 (agency_standin)

ZAHRA, REZA, NEGAR, AMIR = "0499370899", "1270022288", "0067749828", "1290211388"
SARA, MOHAMMAD, LEILA, HASAN = "4311243251", "0010350829", "0084575948", "1280456711"
ALI, MAHDI, UNREGISTERED = "1291122338", "1273004515", "1287654320"
PASSED, REFUSED = Verdict.passed, Verdict.refused
IDENTITY_SUMMARY = "احراز هویت (کد ملی و تاریخ تولد): "
MOBILE_SUMMARY = "تطابق شماره همراه با کد ملی: "
LICENCE_SUMMARY = "اعتبار مجوز کسب‌وکار و تطابق دارنده: "

# (kind, inputs, verdict, summary, fields of the result)
CASES: list[tuple[str, dict[str, str], Verdict, str, dict[str, Any]]] = [
    ("identity", {"national_code": ZAHRA, "birth_date": "1369-04-21"}, PASSED,
     IDENTITY_SUMMARY + "تأیید شد", {"first_name": "زهرا", "last_name": "احمدی"}),
    ("identity", {"national_code": ZAHRA, "birth_date": "1369-04-22"}, REFUSED,
     IDENTITY_SUMMARY + "تأیید نشد", {"found": True, "first_name": None}),
    ("identity", {"national_code": UNREGISTERED, "birth_date": "1369-04-21"}, REFUSED,
     "احراز هویت: کد ملی در ثبت احوال یافت نشد", {"found": False}),
    ("identity", {"national_code": HASAN, "birth_date": "1320-10-01"}, REFUSED,
     "احراز هویت: فرد در قید حیات نیست", {"alive": False}),
    ("mobile_owner", {"national_code": ZAHRA, "mobile": "09121234567"}, PASSED,
     MOBILE_SUMMARY + "تأیید شد", {}),
    ("mobile_owner", {"national_code": AMIR, "mobile": "09133456781"}, PASSED,
     MOBILE_SUMMARY + "تأیید شد", {}),
    ("mobile_owner", {"national_code": NEGAR, "mobile": "09351234567"}, REFUSED,
     MOBILE_SUMMARY + "تأیید نشد", {"matches": False}),
    ("postal_address", {"postal_code": "8174673111"}, PASSED, "نشانی کد پستی: دریافت شد",
     {"address": "اصفهان، خیابان چهارباغ عباسی، کوچه شهید رجایی، پلاک ۱۴، واحد ۳"}),
    ("postal_address", {"postal_code": "8199999991"}, REFUSED,
     "نشانی کد پستی: کد پستی یافت نشد", {"address": None}),
    ("criminal_record", {"national_code": ZAHRA}, PASSED, "عدم سوءپیشینه کیفری: تأیید شد", {}),
    ("criminal_record", {"national_code": LEILA}, REFUSED,
     "عدم سوءپیشینه کیفری: سابقه دارد", {}),
    ("military_service", {"national_code": AMIR}, PASSED, "وضعیت نظام وظیفه: پایان خدمت", {}),
    ("military_service", {"national_code": ZAHRA}, PASSED, "وضعیت نظام وظیفه: مشمول نیست", {}),
    ("military_service", {"national_code": MOHAMMAD}, PASSED, "وضعیت نظام وظیفه: معاف", {}),
    ("military_service", {"national_code": REZA}, REFUSED, "وضعیت نظام وظیفه: غایب", {}),
    ("military_service", {"national_code": ALI}, REFUSED, "وضعیت نظام وظیفه: معافیت تحصیلی",
     {}),
    ("military_service", {"national_code": MAHDI}, REFUSED, "وضعیت نظام وظیفه: در حال خدمت",
     {}),
    ("tax_clearance", {"national_code": ZAHRA}, PASSED, "مفاصاحساب مالیاتی: بدهی ندارد", {}),
    ("tax_clearance", {"national_code": MOHAMMAD}, REFUSED, "مفاصاحساب مالیاتی: بدهی دارد",
     {"debt_rials": 185_000_000}),
    ("business_licence", {"licence_number": "TA-1403-04518", "national_code": AMIR}, PASSED,
     LICENCE_SUMMARY + "تأیید شد", {"expires": "1407-06-31"}),
    ("business_licence", {"licence_number": "TA-1403-04518", "national_code": ZAHRA}, REFUSED,
     LICENCE_SUMMARY + "تأیید نشد", {"valid": True, "holder_matches": False}),
    ("business_licence", {"licence_number": "HC-1401-11873", "national_code": SARA}, REFUSED,
     LICENCE_SUMMARY + "تأیید نشد", {"valid": False, "holder_matches": True}),
    ("business_licence", {"licence_number": "TA-1402-00917", "national_code": MOHAMMAD},
     REFUSED, LICENCE_SUMMARY + "تأیید نشد", {"valid": False}),
    ("business_licence", {"licence_number": "XX-1400-00001", "national_code": AMIR}, REFUSED,
     LICENCE_SUMMARY + "تأیید نشد", {"valid": False, "expires": None}),
]
PERSONAL = [ZAHRA, LEILA, "09121234567", "زهرا", "احمدی", "1369-04-21"]


def new_id() -> str:
    return str(uuid.uuid4())


def ask_ok(bus: HttpBus, slug: str = "criminal_record", national_code: str = ZAHRA,
           message_id: str | None = None) -> Exchange:
    return bus.ask(KINDS[slug], {"national_code": national_code}, message_id or new_id())


def assert_times(exchange: Exchange) -> None:
    assert exchange.sent_at.tzinfo is UTC and exchange.received_at.tzinfo is UTC
    assert exchange.sent_at <= exchange.received_at


# --- answers ---------------------------------------------------------------------------------


def test_every_kind_has_cases() -> None:
    assert {case[0] for case in CASES} == set(KINDS)


@pytest.mark.parametrize(("slug", "inputs", "verdict", "summary", "fields"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_kind_answers_from_the_data_set(agency_standin: StandinServer, slug: str,
                                             inputs: dict[str, str], verdict: Verdict,
                                             summary: str, fields: dict[str, Any]) -> None:
    kind, message_id = KINDS[slug], new_id()
    exchange = agency_standin.bus().ask(kind, inputs, message_id)

    assert exchange.reading is not None and exchange.result is not None
    assert (exchange.reading.verdict, exchange.reading.summary) == (verdict, summary)
    assert {name: getattr(exchange.result, name) for name in fields} == fields
    assert (exchange.message_id, exchange.kind, exchange.target) == (message_id, slug,
                                                                     kind.target)
    assert exchange.url == f"{agency_standin.url}/inquiries/{slug}"
    assert json.loads(exchange.request_body) == {"message_id": message_id, "inputs": inputs}
    reply = json.loads(exchange.reply_body)
    assert (reply["message_id"], reply["kind"], reply["reply_id"]) == (message_id, slug,
                                                                        exchange.reply_id)
    assert kind.parse(reply["result"]) == exchange.result
    assert exchange.http_status == 200 and exchange.signature_valid is True
    assert exchange.signature_key == agency_standin.signer.key_id
    assert_times(exchange)


def test_only_the_kinds_inputs_are_sent(agency_standin: StandinServer) -> None:
    exchange = agency_standin.bus().ask(
        KINDS["mobile_owner"], {"national_code": ZAHRA, "mobile": "09121234567",
                                "name": "زهرا احمدی", "birth_date": "1369-04-21"}, new_id())
    assert json.loads(exchange.request_body)["inputs"] == {"national_code": ZAHRA,
                                                           "mobile": "09121234567"}


def test_a_missing_input_is_caught_before_sending(agency_standin: StandinServer) -> None:
    with pytest.raises(ValueError, match="identity needs the inputs birth_date"):
        agency_standin.bus().ask(KINDS["identity"], {"national_code": ZAHRA}, new_id())
    assert agency_standin.stats()["calls"] == {}


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "inputs", "code"), [
    ("criminal_record", {"national_code": "0499370898"}, "invalid_input"),  # check digit
    ("criminal_record", {"national_code": "۰۴۹۹۳۷۰۸۹۹"}, "invalid_input"),  # not canonical
    ("identity", {"national_code": ZAHRA, "birth_date": "1369-13-01"}, "invalid_input"),
    ("mobile_owner", {"national_code": ZAHRA, "mobile": "03112345678"}, "invalid_input"),
    ("tax_clearance", {"national_code": UNREGISTERED}, "not_found"),
    ("military_service", {"national_code": UNREGISTERED}, "not_found"),
])
def test_the_agencys_refusal_is_permanent(agency_standin: StandinServer, slug: str,
                                          inputs: dict[str, str], code: str) -> None:
    with pytest.raises(BusRefused) as caught:
        agency_standin.bus().ask(KINDS[slug], inputs, new_id())
    refused = caught.value
    assert refused.temporary is False and refused.code == code and refused.reason
    assert refused.exchange.http_status == 400
    assert json.loads(refused.exchange.reply_body)["error"] == code
    assert not any(value in str(refused) for value in inputs.values())
    assert agency_standin.stats()["refused"] == {slug: 1}


def test_a_wrong_credential_is_refused_permanently(agency_standin: StandinServer) -> None:
    with pytest.raises(BusRefused) as caught:
        ask_ok(agency_standin.bus(token="not-the-credential"))
    assert caught.value.temporary is False and caught.value.code == "unauthorized"
    assert caught.value.exchange.http_status == 401
    assert "MIZ_INQUIRY_TOKEN" in str(caught.value)
    with pytest.raises(BusRefused):
        ask_ok(agency_standin.bus(token=None))
    assert requests.get(agency_standin.url + "/_faults", timeout=5).status_code == 401
    assert requests.get(agency_standin.url + "/_stats", timeout=5).status_code == 401
    assert agency_standin.stats()["calls"] == {}


def test_a_wrong_base_url_is_refused_permanently(agency_standin: StandinServer) -> None:
    with pytest.raises(BusRefused, match="MIZ_INQUIRY_URL") as caught:
        ask_ok(agency_standin.bus(url=agency_standin.url + "/v2"))
    assert caught.value.exchange.http_status == 404


# --- faults ------------------------------------------------------------------------------

FAULTS = [("error_5xx", BusUnavailable, 503), ("rate_limited", BusUnavailable, 429),
          ("malformed", BusMalformed, 200), ("wrong_schema", BusMalformed, 200),
          ("bad_signature", BusBadSignature, 200), ("timeout", BusTimeout, None)]


@pytest.mark.parametrize(("fault", "error", "status"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_raises_its_error_with_the_evidence(
        agency_standin: StandinServer, fault: str, error: type[BusError],
        status: int | None) -> None:
    agency_standin.set_faults({"next": [{"fault": fault, "kind": "criminal_record"}]})
    bus, message_id = agency_standin.bus(timeout=0.3), new_id()
    with pytest.raises(error) as caught:
        ask_ok(bus, message_id=message_id)

    failed = caught.value
    evidence = failed.exchange
    assert failed.temporary is True
    assert (evidence.message_id, evidence.kind, evidence.target) == (message_id,
                                                                     "criminal_record",
                                                                     "judiciary")
    assert json.loads(evidence.request_body) == {"message_id": message_id,
                                                 "inputs": {"national_code": ZAHRA}}
    assert evidence.http_status == status
    assert evidence.result is None and evidence.reading is None
    assert_times(evidence)
    if status is None:
        assert evidence.reply_body == b"" and evidence.signature is None
    elif status == 200:
        assert evidence.reply_body and evidence.signature_key == agency_standin.signer.key_id
    else:
        assert json.loads(evidence.reply_body)["error"] in ("unavailable", "rate_limited")
    expected_valid = {"malformed": True, "wrong_schema": True, "bad_signature": False}
    assert evidence.signature_valid is expected_valid.get(fault)
    if fault == "rate_limited":
        assert isinstance(failed, BusUnavailable) and failed.retry_after == 1.0
    if fault == "wrong_schema":
        assert "clean" in str(failed)

    again = ask_ok(bus, message_id=message_id)  # the fault was for one call only
    assert again.reading is not None and again.reading.verdict is PASSED
    stats = agency_standin.stats()
    assert stats["faults"] == {fault: 1} and stats["answered"] == {"criminal_record": 1}


def test_the_next_calls_fail_only_for_their_kind(agency_standin: StandinServer) -> None:
    plan = agency_standin.set_faults({"next": [{"fault": "error_5xx", "count": 2,
                                                "kind": "tax_clearance"}]})
    assert plan["next"] == [{"fault": "error_5xx", "count": 2, "kind": "tax_clearance"}]
    bus = agency_standin.bus()
    ask_ok(bus, "military_service")
    for _ in range(2):
        with pytest.raises(BusUnavailable):
            ask_ok(bus, "tax_clearance")
    ask_ok(bus, "tax_clearance")
    assert agency_standin.stats()["calls"] == {"military_service": 1, "tax_clearance": 3}
    assert agency_standin.admin("GET", "/_faults").json()["next"] == []


def test_fault_rates_follow_the_seed(agency_standin: StandinServer) -> None:
    bus = agency_standin.bus()

    def run() -> list[str]:
        agency_standin.reset_faults()
        agency_standin.set_faults({"all": {"error_5xx": 0.3, "rate_limited": 0.2}, "seed": 11})
        outcomes = []
        for _ in range(20):
            try:
                ask_ok(bus)
                outcomes.append("ok")
            except BusUnavailable as exc:
                outcomes.append(str(exc.exchange.http_status))
        return outcomes

    first = run()
    assert first == run()
    assert {"ok", "503", "429"} <= set(first)


def test_the_faults_endpoint(agency_standin: StandinServer) -> None:
    wrong = agency_standin.admin("POST", "/_faults", {"identity": {"explode": 1}})
    assert wrong.status_code == 400 and "unknown fault 'explode'" in wrong.json()["message"]
    for plan in ({"nowhere": {"timeout": 1}}, {"all": {"error_5xx": 2}},
                 {"next": [{"fault": "timeout", "count": 0}]}, {"next": {"fault": "timeout"}}):
        assert agency_standin.admin("POST", "/_faults", plan).status_code == 400
    plan = agency_standin.set_faults({"identity": {"slow_ms": 500}, "all": {"timeout": 0.1}})
    assert plan["identity"] == {"slow_ms": 500} and plan["all"]["timeout"] == 0.1
    assert agency_standin.reset_faults() == {"all": {"latency_ms": 0}, "next": [],
                                             "hang_seconds": 2.0}


def test_connection_refused_is_temporary(agency_standin: StandinServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(BusUnavailable) as caught:
        ask_ok(agency_standin.bus(url=nobody))
    assert caught.value.temporary and caught.value.exchange.http_status is None
    assert caught.value.exchange.reply_body == b""


# --- signatures --------------------------------------------------------------------------


def test_a_reply_signed_by_another_key_fails(agency_standin: StandinServer) -> None:
    other = Signer.generate()
    with pytest.raises(BusBadSignature, match="does not verify") as caught:
        ask_ok(agency_standin.bus(keys={agency_standin.signer.key_id: other.public}))
    assert caught.value.exchange.signature_valid is False
    with pytest.raises(BusBadSignature, match="unknown key"):
        ask_ok(agency_standin.bus(keys={other.key_id: other.public}))
    with pytest.raises(BusBadSignature, match="unknown key"):
        ask_ok(agency_standin.bus(keys={}, require_signature=True))


def _flip(status: str, headers: list[tuple[str, str]],
          body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    return status, headers, body.replace(b'"clean":false', b'"clean":true ')


def _unsign(status: str, headers: list[tuple[str, str]],
            body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    return status, [(k, v) for k, v in headers if not k.startswith("X-Signature")], body


def test_a_tampered_reply_fails_verification() -> None:
    with StandinServer(rewrite=_flip) as tampering:
        with pytest.raises(BusBadSignature) as caught:
            ask_ok(tampering.bus(), national_code=LEILA)
    evidence = caught.value.exchange
    assert b'"clean":true ' in evidence.reply_body  # what came back is kept as it came
    assert evidence.signature_valid is False and evidence.result is None


def test_an_unsigned_reply_fails_when_signatures_are_required() -> None:
    with StandinServer(rewrite=_unsign) as stripping:
        with pytest.raises(BusBadSignature, match="not signed"):
            ask_ok(stripping.bus())
        unchecked = ask_ok(stripping.bus(keys={}))  # no keys given: signatures not required
        assert unchecked.signature is None and unchecked.signature_valid is None
        assert unchecked.reading is not None


def test_a_replayed_reply_is_not_an_answer() -> None:
    captured: dict[str, Any] = {}

    def replay(status: str, headers: list[tuple[str, str]],
               body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        if not captured:
            captured.update(headers=headers, body=body)
        return status, captured["headers"], captured["body"]

    with StandinServer(rewrite=replay) as replaying:
        bus = replaying.bus()
        ask_ok(bus)
        with pytest.raises(BusMalformed, match="answers another message") as caught:
            ask_ok(bus)
    assert caught.value.exchange.signature_valid is True  # genuine, but not this answer


# --- idempotency -------------------------------------------------------------------------


def test_the_same_message_gets_the_same_reply(agency_standin: StandinServer) -> None:
    bus, message_id = agency_standin.bus(), new_id()
    first = ask_ok(bus, message_id=message_id)
    second = ask_ok(bus, message_id=message_id)
    other = ask_ok(bus)
    assert second.reply_body == first.reply_body and second.reply_id == first.reply_id
    assert second.signature == first.signature
    assert other.reply_id != first.reply_id
    stats = agency_standin.stats()
    assert stats["calls"] == {"criminal_record": 3}
    assert stats["answered"] == {"criminal_record": 2}
    assert stats["replayed"] == {"criminal_record": 1}

    with pytest.raises(BusRefused) as caught:  # the same id for another question
        ask_ok(bus, national_code=LEILA, message_id=message_id)
    assert caught.value.code == "message_reused" and caught.value.exchange.http_status == 409
    assert agency_standin.admin("DELETE", "/_stats").json()["calls"] == {}


# --- time limits -------------------------------------------------------------------------


def test_time_limits_are_honoured(agency_standin: StandinServer) -> None:
    agency_standin.set_faults({"identity": {"slow_ms": 3000}})
    kind, inputs = KINDS["identity"], {"national_code": ZAHRA, "birth_date": "1369-04-21"}
    with pytest.raises(BusTimeout) as caught:
        agency_standin.bus(timeout=0.2).ask(kind, inputs, new_id())
    assert caught.value.exchange.http_status is None and caught.value.temporary

    per_kind = agency_standin.bus(timeout=5.0, timeouts={"identity": 0.2})
    with pytest.raises(BusTimeout):
        per_kind.ask(kind, inputs, new_id())
    assert ask_ok(per_kind).reading is not None  # other kinds keep the default
    with pytest.raises(BusTimeout):
        agency_standin.bus(timeout=5.0).ask(kind, inputs, new_id(), timeout=0.2)


class _Trickle(socketserver.BaseRequestHandler):
    """Sends a 200's headers at once, then its body a byte every 50 ms."""

    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 400\r\n\r\n")
        for _ in range(400):
            try:
                self.request.sendall(b" ")
            except OSError:
                return
            time.sleep(0.05)


def test_the_time_limit_covers_the_whole_reply() -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bus = HttpBus(BusSettings(url=f"http://127.0.0.1:{server.server_address[1]}",
                                  timeout=0.4))
        with pytest.raises(BusTimeout, match="not complete") as caught:
            ask_ok(bus)
        assert caught.value.exchange.http_status == 200
        assert 0 < len(caught.value.exchange.reply_body) < 400
        bus.close()
    finally:
        server.shutdown()
        server.server_close()


# --- load ----------------------------------------------------------------------------------


def test_many_concurrent_calls_all_succeed(agency_standin: StandinServer) -> None:
    agency_standin.set_faults({"all": {"latency_ms": 5}})
    bus = agency_standin.bus()
    cases = [case for case in CASES if case[0] != "business_licence"] * 8

    def ask(case: tuple) -> tuple[Verdict, Verdict]:
        slug, inputs, verdict = case[:3]
        exchange = bus.ask(KINDS[slug], inputs, new_id())
        assert exchange.reading is not None
        return exchange.reading.verdict, verdict

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(ask, cases))
    assert len(outcomes) == len(cases) > 150
    assert all(got == expected for got, expected in outcomes)
    stats = agency_standin.stats()
    assert sum(stats["calls"].values()) == sum(stats["answered"].values()) == len(cases)


class _KeepAlive(BaseHTTPRequestHandler):
    """A bus that keeps connections open (HTTP/1.1) and answers unsigned; notes the
    client's port of every call."""

    protocol_version = "HTTP/1.1"
    ports: list[int] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.ports.append(self.client_address[1])
        body = json.dumps({"message_id": asked["message_id"], "reply_id": new_id(),
                           "kind": "criminal_record", "result": {"clean": True}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_connections_to_the_bus_are_reused() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        bus = HttpBus(BusSettings(url=f"http://127.0.0.1:{server.server_address[1]}"))
        for _ in range(4):
            assert ask_ok(bus).signature_valid is None  # no keys given, none required
        bus.close()
    finally:
        server.shutdown()
        server.server_close()
    assert len(_KeepAlive.ports) == 4 and len(set(_KeepAlive.ports)) == 1


# --- configuration -------------------------------------------------------------------------


class TracingBus(HttpBus):
    """A subclass named by MIZ_INQUIRY_ADAPTER (a real bus's adapter would be one)."""

    def headers(self, kind: Any, message_id: str) -> dict[str, str]:
        return {**super().headers(kind, message_id), "X-Trace": "miz"}


def test_bus_from_config(agency_standin: StandinServer, tmp_path: Path) -> None:
    published = requests.get(agency_standin.url + "/keys", timeout=5).json()
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(published))
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    for name, pem in published["keys"].items():
        (keys_dir / f"{name}.pem").write_text(pem)
    for keys in (keys_file, keys_dir):
        bus = bus_from_config({"INQUIRY_URL": agency_standin.url, "INQUIRY_TOKEN": TOKEN,
                               "INQUIRY_KEYS": str(keys), "INQUIRY_TIMEOUTS": {"identity": 1}})
        assert isinstance(bus, HttpBus) and isinstance(bus, Bus)
        assert ask_ok(bus).signature_valid is True
        bus.close()

    traced = bus_from_config({"INQUIRY_URL": agency_standin.url, "INQUIRY_TOKEN": TOKEN,
                              "INQUIRY_KEYS": str(keys_file),
                              "INQUIRY_ADAPTER": f"{__name__}:TracingBus"})
    assert type(traced) is TracingBus and ask_ok(traced).signature_valid is True
    with pytest.raises(ValueError, match="MIZ_INQUIRY_URL"):
        bus_from_config({})
    with pytest.raises(ValueError, match="not a subclass of HttpBus"):
        bus_from_config({"INQUIRY_URL": agency_standin.url, "INQUIRY_ADAPTER": "json:JSONDecoder"})


def test_the_server_reads_the_bus_from_its_environment(agency_standin: StandinServer,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(yaml.safe_dump({agency_standin.signer.key_id:
                                    public_pem(agency_standin.signer.public)}))
    for name, value in {"URL": agency_standin.url, "TOKEN": TOKEN, "KEYS": str(keys),
                        "TIMEOUT": "2.5", "REQUIRE_SIGNATURE": "true"}.items():
        monkeypatch.setenv(f"MIZ_INQUIRY_{name}", value)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'miz.sqlite3'}",
                      "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path / "instance")})
    bus = bus_from_config(app.config)
    assert isinstance(bus, HttpBus)
    assert bus.settings.timeout == 2.5 and bus.settings.signatures_required
    assert ask_ok(bus).signature_valid is True
    bus.close()


def test_no_personal_data_is_logged(agency_standin: StandinServer,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="counter_server.agencies")
    bus = agency_standin.bus()
    bus.ask(KINDS["identity"], {"national_code": ZAHRA, "birth_date": "1369-04-21"}, new_id())
    bus.ask(KINDS["mobile_owner"], {"national_code": ZAHRA, "mobile": "09121234567"}, new_id())
    agency_standin.set_faults({"next": [{"fault": "wrong_schema"}, {"fault": "malformed"}]})
    for _ in range(2):
        with pytest.raises(BusMalformed):
            ask_ok(bus, national_code=LEILA)
    with pytest.raises(BusRefused):
        bus.ask(KINDS["identity"], {"national_code": ZAHRA, "birth_date": "1369-13-01"},
                new_id())
    assert "identity" in caplog.text and "criminal_record" in caplog.text
    assert not any(value in caplog.text for value in PERSONAL)


# --- the demo data set and the command line --------------------------------------------------


def test_the_demo_data_set() -> None:
    data = load_demo_data()
    assert 8 <= len(data.citizens) <= 12
    assert all(is_valid_national_code(c.national_code) for c in data.citizens)
    assert all(is_valid_national_code(u.national_code) for u in data.unregistered)
    assert any(c.criminal_record for c in data.citizens)
    assert any(c.tax_debt_rials for c in data.citizens)
    assert any(c.military_service == "absent" for c in data.citizens)
    assert any(not c.alive for c in data.citizens)


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('"0499370899"', '"0499370898"', "national_code"),
    ("    military_service: absent\n", "", "military_service"),
    ('"1369-04-21"', '"1369-04-32"', "birth_date"),
    ('holder: "1290211388"', 'holder: "1287654320"', "licence holder"),
])
def test_a_broken_data_set_is_refused(tmp_path: Path, old: str, new: str, problem: str) -> None:
    text = DEMO_DATA.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / "citizens.yaml"
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_demo_data(broken)


def test_keys_are_read_as_published(tmp_path: Path) -> None:
    signer = Signer.generate()
    (tmp_path / "signing.pem").write_bytes(signer.private_pem())
    again = Signer.from_pem_file(tmp_path / "signing.pem")
    assert again.key_id == signer.key_id and again.published() == signer.published()
    (tmp_path / "keys.yaml").write_text(yaml.safe_dump({"keys": signer.published()}))
    assert list(load_public_keys(tmp_path / "keys.yaml")) == [signer.key_id]
    ec = ec_key(SECP256R1()).public_key().public_bytes(Encoding.PEM,
                                                       PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "ec.yaml").write_text(yaml.safe_dump({"ec-key": ec.decode()}))
    with pytest.raises(ValueError, match="'ec-key': not an Ed25519 public key"):
        load_public_keys(tmp_path / "ec.yaml")


def test_fault_options() -> None:
    assert parse_fault_option("mobile_owner=error_5xx:0.2,slow_ms:500") == {
        "mobile_owner": {"error_5xx": 0.2, "slow_ms": 500.0}}
    assert parse_fault_option("all=timeout") == {"all": {"timeout": 1.0}}
    for wrong in ("identity", "nokind=timeout", "identity=error_5xx:2", "identity=x:1",
                  "identity=slow_ms:soon"):
        with pytest.raises(ValueError):
            parse_fault_option(wrong)


def test_the_command_serves_the_stand_in(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "MIZ_INSTANCE_PATH": str(tmp_path), "MIZ_INQUIRY_TOKEN": TOKEN,
           "PYTHONPATH": str(root)}
    signer = Signer.generate()
    (tmp_path / "signing.pem").write_bytes(signer.private_pem())
    command = [sys.executable, "-m", "flask", "--app", "counter_server", "agency-standin",
               "--port", str(port), "--latency-ms", "0", "--fault", "identity=error_5xx",
               "--key", str(tmp_path / "signing.pem")]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        assert _wait_for(url + "/keys", process), "the stand-in did not start"
        bus = bus_from_config({"INQUIRY_URL": url, "INQUIRY_TOKEN": TOKEN,
                               "INQUIRY_KEYS": str(tmp_path / "agency-standin-keys.json")})
        assert ask_ok(bus).signature_key == signer.key_id
        with pytest.raises(BusUnavailable):
            bus.ask(KINDS["identity"], {"national_code": ZAHRA, "birth_date": "1369-04-21"},
                    new_id())
        bus.close()
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert f"Agencies' stand-in on {url}" in output
    assert f"MIZ_INQUIRY_KEYS={tmp_path / 'agency-standin-keys.json'}" in output
    assert TOKEN not in output


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return requests.get(url, timeout=1).status_code == 200
        except requests.ConnectionError:
            time.sleep(0.1)
    return False
