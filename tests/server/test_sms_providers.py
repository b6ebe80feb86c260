"""The Ghasedak adapter over real HTTP, against a few lines speaking its protocol; the generic
HTTP adapter against the stand-in's generic protocol (the faults the worker meets are in
test_sms.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from counter_server import create_app
from counter_server.sms.generic import GenericHttp
from counter_server.sms.ghasedak import Ghasedak
from counter_server.sms.provider import SmsPermanent, SmsTemporary
from counter_server.sms.standin import GENERIC_PREFIX
from tests.sms_standin import API_KEY, SmsStandinServer, sms_standin_fixture  # noqa: F401

KEY = "ghasedak-test-key"


def ghasedak_like() -> Flask:
    app = Flask(__name__)
    sent: dict[str, dict[str, str]] = {}

    def reply(code: int, items: list) -> object:
        return jsonify({"result": {"code": code, "message": "success"}, "items": items})

    @app.post("/v2/sms/send/simple")
    def send() -> object:
        if request.headers.get("apikey") != KEY:
            return reply(403, [])
        if request.form["receptor"] == "09000000000":
            return reply(411, [])
        sent[request.form["checkid"]] = dict(request.form)
        return reply(200, [5000 + len(sent)])

    @app.post("/v2/verification/send/simple")
    def verification() -> object:
        form = request.form
        if request.headers.get("apikey") != KEY or form.get("type") != "1":
            return reply(403, [])
        if form.get("template") != "miz-otp":
            return reply(422, [])
        sent[f"code:{form['param1']}"] = dict(form)
        return reply(200, [5000 + len(sent)])

    @app.post("/v2/sms/status")
    def status() -> object:
        key, kind = request.form["id"], request.form["type"]
        number = 5000 + list(sent).index(key) + 1 if kind == "2" and key in sent else \
            int(key) if kind == "1" else None
        return reply(200, [{"id": number or key, "status": 1 if number else -1, "price": 96}])

    return app


@pytest.fixture
def ghasedak() -> Iterator[Ghasedak]:
    server = make_server("127.0.0.1", 0, ghasedak_like(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    provider = Ghasedak(KEY, "30005088", f"http://127.0.0.1:{server.socket.getsockname()[1]}",
                        timeout=5.0)
    yield provider
    provider.close()
    server.shutdown()
    server.server_close()
    thread.join()


def test_ghasedak_sends_under_the_local_id_and_finds_it_by_it(ghasedak: Ghasedak) -> None:
    assert ghasedak.status_by_local_id("41") is None
    sent = ghasedak.send("41", "09121234567", "سلام")
    assert (sent.provider_id, sent.status, sent.cost_parts) == ("5001", "sent", 1)
    found = ghasedak.status_by_local_id("41")
    assert found is not None and found.status == "delivered"
    assert ghasedak.status("5001").status == "delivered"


def test_ghasedak_refusals_are_permanent(ghasedak: Ghasedak) -> None:
    with pytest.raises(SmsPermanent) as refused:
        ghasedak.send("42", "09000000000", "سلام")
    assert refused.value.reason_code == "411" and "411" in refused.value.persian_reason


def test_ghasedak_sends_a_code_through_its_approved_template(ghasedak: Ghasedak) -> None:
    sent = ghasedak.send_code("43", "09121234567", "miz-otp", "4821")
    assert (sent.provider_id, sent.status) == ("5001", "sent")
    with pytest.raises(SmsPermanent) as refused:
        ghasedak.send_code("44", "09121234567", "no-such-template", "4821")
    assert refused.value.reason_code == "422"


# The generic HTTP protocol ----------------------------------------------------------------

@pytest.fixture
def gateway(sms_standin: SmsStandinServer) -> GenericHttp:
    return sms_standin.provider(kind="http")  # type: ignore[return-value]


def test_the_generic_gateway_sends_and_is_asked_by_either_id(
        gateway: GenericHttp, sms_standin: SmsStandinServer) -> None:
    assert gateway.status_by_local_id("51") is None
    sent = gateway.send("51", "09121234567", "سلام")
    assert (sent.status, sent.cost_parts, sent.cost_rials) == ("sent", 1, 120)
    assert gateway.status(sent.provider_id).status == "delivered"
    found = gateway.status_by_local_id("51")
    assert found is not None and found.provider_id == sent.provider_id
    assert sms_standin.messages() == [{"messageid": int(sent.provider_id), "localid": "51",
                                       "text": "سلام", "receptor": "09121234567"}]


def test_the_generic_gateway_refuses_a_duplicate_local_id_and_miz_takes_the_first(
        gateway: GenericHttp, sms_standin: SmsStandinServer) -> None:
    first = gateway.send("52", "09121234567", "سلام")
    again = gateway.send("52", "09121234567", "سلام")
    assert again.provider_id == first.provider_id
    assert sms_standin.stats()["accepted"] == 1


def test_the_generic_gateway_sends_a_code_through_its_template(
        gateway: GenericHttp, sms_standin: SmsStandinServer) -> None:
    sent = gateway.send_code("53", "09121234567", "miz-otp", "4821")
    assert sent.status == "sent" and sms_standin.stats()["calls"]["send_code"] == 1
    assert sms_standin.messages()[0]["text"] == "miz-otp: 4821"
    with pytest.raises(SmsPermanent) as refused:
        gateway.send_code("54", "09121234567", "", "4821")
    assert refused.value.persian_reason == "الگوی پیامک در سامانه پیامک تعریف نشده است"


def test_the_generic_gateway_maps_its_answers(sms_standin: SmsStandinServer) -> None:
    wrong_key = GenericHttp("not-the-key", "", sms_standin.url + GENERIC_PREFIX, 5.0)
    with pytest.raises(SmsPermanent) as refused:
        wrong_key.send("55", "09121234567", "سلام")
    assert refused.value.reason_code == "unauthorized"
    wrong_key.close()
    nowhere = GenericHttp(API_KEY, "", sms_standin.url + "/no-gateway-here", 5.0)
    with pytest.raises(SmsPermanent) as unknown:  # a 4xx the protocol does not name
        nowhere.send("56", "09121234567", "سلام")
    assert unknown.value.reason_code == "http-404" and "404" in unknown.value.persian_reason
    nowhere.close()
    sms_standin.set_faults({"next": [{"fault": "error_5xx", "count": 1}]})
    gateway = sms_standin.provider(kind="http")
    with pytest.raises(SmsTemporary):
        gateway.send("57", "09121234567", "سلام")
    assert sms_standin.stats()["accepted"] == 0


def test_the_generic_gateway_is_chosen_by_configuration_and_needs_its_address(
        tmp_path, sms_standin: SmsStandinServer) -> None:  # type: ignore[no-untyped-def]
    settings = {"TESTING": True, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SMS_PROVIDER": "http",
                "SMS_API_KEY": API_KEY}
    with pytest.raises(ValueError, match="MIZ_SMS_BASE_URL"):
        create_app(settings)
    app = create_app({**settings, "SMS_BASE_URL": sms_standin.url + GENERIC_PREFIX})
    provider = app.extensions["miz.sms"]
    assert isinstance(provider, GenericHttp)
    assert provider.send("1", "09121234567", "سلام").status == "sent"
    assert sms_standin.stats()["accepted"] == 1
    provider.close()
