"""Stored files nothing names: a server killed while storing an upload (SIGKILL, a real
process) leaves a `.partial` or a file no row names, and the sweep the worker runs at start
deletes them — and only them, once past the grace period."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.context import database
from counter_server.models import RequestDocument, ServiceRequest
from counter_server.storage import PARTIAL
from counter_server.usecases import documents
from tests.server.test_documents import kiosk_request, png_bytes, upload  # noqa: F401

REPO = Path(__file__).resolve().parents[2]

# A real server process that kills itself at the moment named on its command line:
# "partial": the upload written to its `.partial` name, not yet renamed;
# "stored": the upload stored under its real name, the transaction naming it not committed.
SERVER_SCRIPT = """
import os, signal, sys
from werkzeug.serving import make_server
from counter_server import create_app, storage

url, instance, moment = sys.argv[1:4]
app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "test",
                  "SESSION_COOKIE_SECURE": False, "SMS_QUIET_HOURS": ""})

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if moment == "partial":
    real_replace = os.replace
    def replace(source, target, *args, **kwargs):
        if str(source).endswith(storage.PARTIAL):
            die()
        return real_replace(source, target, *args, **kwargs)
    storage.os.replace = replace
else:
    real_save = storage.LocalStorage.save
    def save(self, data, extension):
        real_save(self, data, extension)
        die()
    storage.LocalStorage.save = save

http = make_server("127.0.0.1", 0, app, threaded=True)
print(http.server_port, flush=True)
http.serve_forever()
"""


def on_disk(app: Flask) -> set[str]:
    root = Path(app.config["UPLOADS_DIR"])
    return {p.name for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()


def named(app: Flask) -> set[str]:
    with app.app_context(), database().session() as session:
        return set(session.scalars(select(RequestDocument.stored_name)))


def sweep(app: Flask, grace_seconds: float) -> str:
    app.config["UPLOADS_SWEEP_AFTER_SECONDS"] = grace_seconds
    result = app.test_cli_runner().invoke(args=["uploads", "sweep"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("moment", ["partial", "stored"])
def test_a_server_killed_mid_upload_leaves_nothing_the_sweep_at_start_misses(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str],  # noqa: F811
        moment: str) -> None:
    code, token, slot = kiosk_request
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, app.config["DATABASE_URL"], app.instance_path,
         moment], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with pytest.raises(requests.ConnectionError):
            requests.post(f"http://127.0.0.1:{port}/api/v1/requests/{code}/documents",
                          data={"client_id": str(uuid.uuid4()), "slot": slot},
                          files={"file": ("scan.png", io.BytesIO(png_bytes((60, 40))))},
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert server.wait(30) == -signal.SIGKILL
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    left = on_disk(app) - named(app)
    assert len(left) == 1, left  # the kill left exactly the file the moment names
    assert next(iter(left)).endswith(PARTIAL) == (moment == "partial")

    app.config["UPLOADS_SWEEP_AFTER_SECONDS"] = 0
    result = app.test_cli_runner().invoke(args=["worker", "--once"])  # the worker's start
    assert result.exit_code == 0, result.output
    assert on_disk(app) == named(app) == set()
    assert upload(client, code, token, slot, png_bytes())[0] == 201  # the replay is taken
    assert on_disk(app) == named(app) and len(named(app)) == 1
    assert ("1 stored file(s) no row names" if moment == "stored"
            else "1 half-written one(s)") in result.output


def test_the_sweep_spares_named_and_recent_files(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str]  # noqa: F811
) -> None:
    code, token, slot = kiosk_request
    data = png_bytes()
    assert upload(client, code, token, slot, data)[0] == 201
    storage = app.extensions["miz.storage"]
    orphan = storage.save(b"%PDF-1.7 nobody's\n%%EOF", "pdf")
    prefix = uuid.uuid4().hex
    half = Path(app.config["UPLOADS_DIR"]) / prefix[:2] / f"{prefix}{PARTIAL}"
    half.parent.mkdir(exist_ok=True)
    half.write_bytes(b"half a scan")
    [document] = named(app)

    assert sweep(app, 3600).startswith("0 stored file(s) no row names and 0 half-written")
    assert on_disk(app) == {document, orphan, half.name}

    assert sweep(app, 0).startswith("1 stored file(s) no row names and 1 half-written")
    assert on_disk(app) == {document}
    assert storage.read(document) == data


def test_a_rolled_back_upload_takes_its_file_with_it(
        app: Flask, kiosk_request: tuple[str, str, str]) -> None:  # noqa: F811
    code, _, slot = kiosk_request
    storage = app.extensions["miz.storage"]

    def attach(session: Session) -> str:
        request = session.scalar(select(ServiceRequest)
                                 .where(ServiceRequest.tracking_code == code))
        upload = documents.Upload(str(uuid.uuid4()), slot, "scan.png", png_bytes())
        document, created = documents.attach(session, storage, request, upload, "kiosk")
        assert created
        return document.stored_name

    with app.app_context():
        session = database().session(writes=True)
        try:
            first = attach(session)
            assert on_disk(app) == {first}
            session.rollback()  # e.g. a unique key another writer won
            assert on_disk(app) == set()
            second = attach(session)
            session.commit()
            session.rollback()  # nothing left to roll back: the committed file stays
        finally:
            session.close()
    assert on_disk(app) == named(app) == {second}
