"""The Ghasedak adapter over real HTTP, against a few lines speaking its protocol."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from counter_server.sms.ghasedak import Ghasedak
from counter_server.sms.provider import SmsPermanent

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
