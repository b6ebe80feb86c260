"""`/v/offline`: the page carries the seal key it checks with, loads only files of the app's
own (the Content-Security-Policy allows no inline script), may use the camera, and its
service worker is served from under /v/. Its checking is in tests/browser/."""

from __future__ import annotations

import html
import json
import re
from base64 import b64decode

from cryptography.hazmat.primitives.serialization import load_der_public_key
from flask.testing import FlaskClient

from counter_server.delivery import keys
from counter_server.security import CONTENT_SECURITY_POLICY
from counter_server.usecases import delivery
from counter_server.web.verify_pages import NO_SEAL_KEY
from shared import seals
from tests.server.test_delivery import key_files, signing  # noqa: F401  (fixtures)

SETTINGS = re.compile(r'<script type="application/json" id="offline-settings">(.*?)</script>',
                      re.S)


def _settings(page: str) -> dict:
    found = SETTINGS.search(page)
    assert found is not None, "the page carries its settings as a JSON block"
    return json.loads(found.group(1))


def test_the_page_carries_the_seal_key_that_signs_seals(
        client: FlaskClient, signing: delivery.Signing) -> None:
    answer = client.get("/v/offline")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "بررسی مهر سند بدون اینترنت" in page
    settings = _settings(page)
    public_key = keys.seal_key(signing.keys).public_key()
    assert settings["keys"] == [{"id": seals.key_id(public_key).hex(),
                                 "spki": settings["keys"][0]["spki"]}]
    embedded = load_der_public_key(b64decode(settings["keys"][0]["spki"]))
    assert embedded.public_numbers() == public_key.public_numbers()
    assert settings["errors"]["seal_signature_invalid"] == seals.SIGNATURE_INVALID
    assert settings["kinds"] == {"1": "کارت", "2": "پروانه", "3": "گواهی", "4": "نامه"}
    assert settings["documentUrl"].replace(settings["idPlaceholder"], "x" * 24) == f"/v/{'x' * 24}"
    assert settings["worker"] == "/v/offline-worker.js"


def test_the_page_runs_only_the_apps_own_scripts_and_may_use_the_camera(
        client: FlaskClient, signing: delivery.Signing) -> None:
    answer = client.get("/v/offline")
    page = answer.get_data(as_text=True)
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all('src="/static/' in tag or 'type="application/json"' in tag for tag in scripts)
    assert '<script type="module" src="/static/verify-offline.js">' in page
    assert "camera=(self)" in answer.headers["Permissions-Policy"]
    assert "camera=()" in client.get("/track").headers["Permissions-Policy"]
    for name in ("verify-offline.js", "seals.js", "persian.js"):
        script = client.get(f"/static/{name}")
        assert script.status_code == 200 and "javascript" in script.mimetype
        script.close()


def test_the_service_worker_is_served_under_v(client: FlaskClient) -> None:
    worker = client.get("/v/offline-worker.js")
    assert worker.status_code == 200 and "javascript" in worker.mimetype
    assert worker.headers["Cache-Control"] == "no-cache"
    assert 'self.addEventListener("fetch"' in worker.get_data(as_text=True)
    worker.close()


def test_without_a_seal_key_the_page_says_so_and_checks_nothing(client: FlaskClient) -> None:
    page = client.get("/v/offline").get_data(as_text=True)
    assert html.escape(NO_SEAL_KEY, quote=False) in page
    assert "offline-settings" not in page and "verify-offline.js" not in page
