"""`python -m kiosk`: print-test, reprint (local store, then a real server's tracking API),
and plain-worded configuration errors."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from counter_server import create_app, migrate
from counter_server.context import database
from counter_server.demo import sample_value
from counter_server.usecases import kiosks
from counter_server.usecases.catalog_versions import import_catalog
from kiosk.__main__ import EXIT_NOT_FOUND, EXIT_OK, EXIT_PRINTER, EXIT_USAGE, main
from kiosk.local.store import KioskStore
from kiosk.usecases.receipts import to_plain
from shared.catalog.schema import Catalog
from shared.text import to_persian_digits
from shared.tracking_codes import format_code, new_code
from tests.conftest import ONLINE_FILING
from tests.kiosk.fakes import kiosk_top, write_config
from tests.online import code_sent
from tests.shared.fake_devices import PAPER_OUT, PtyDevice

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://miz.chht-isfahan.example"
INIT, RASTER, CUT = b"\x1b@", b"\x1dv0", b"\x1dV"
QR_STORE = b"\x1d(k"  # GS ( k: the printer's own QR command


@dataclass
class Server:
    url: str
    kiosk_id: int
    token: str
    app: Flask


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Catalog) -> Iterator[Server]:
    """A real counter server on a free port, on a SQLite file, with the demo catalog."""
    folder = tmp_path_factory.mktemp("kiosk-server")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'miz.sqlite3'}",
                      "SECRET_KEY": "kiosk-tests", "INSTANCE_PATH": str(folder),
                      "SESSION_COOKIE_SECURE": False, **ONLINE_FILING})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, demo_catalog, source="kiosk tests")
            registration = kiosks.register_kiosk(session, "کیوسک آزمایشی")
            kiosk_id, token = registration.kiosk.id, registration.token
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Server(f"http://127.0.0.1:{http.server_port}", kiosk_id, token, app)
    http.shutdown()
    thread.join()
    with app.app_context():
        database().dispose()


def file_request(server: Server, demo_catalog: Catalog) -> str:
    """File a request online through the API; its tracking code."""
    spec = demo_catalog.service("tour-guide-card")
    assert spec is not None
    body = {"client_id": str(uuid.uuid4()), "service": "tour-guide-card", "channel": "online",
            "applicant": {"name": "زهرا احمدی", "national_code": "0499370899",
                          "mobile": "09121234567"},
            "fields": {f.name: sample_value(f) for f in spec.form}}
    applicant = body["applicant"]
    asked = requests.post(f"{server.url}/api/v1/mobile-confirmations", timeout=10, json={
        "service": body["service"], "national_code": applicant["national_code"],
        "mobile": applicant["mobile"]}).json()["confirmation"]
    requests.post(f"{server.url}/api/v1/mobile-confirmations/{asked}/code", timeout=10,
                  json={"code": code_sent(server.app, asked)}).raise_for_status()
    response = requests.post(f"{server.url}/api/v1/requests", timeout=10,
                             json={**body, "mobile_confirmation": asked})
    assert response.status_code == 201, response.text
    code: str = response.json()["tracking_code"]
    return code


def kiosk_file(tmp_path: Path, server_url: str = "http://127.0.0.1:9", token: str = "t",
               **printer: Any) -> Path:
    printer = {"backend": "file", "path": str(tmp_path / "receipts.escpos"),
               "paper_width_mm": 80, "qr": "native", **printer}
    top = kiosk_top(tmp_path, server_url=server_url, public_base_url=PUBLIC, token=token)
    return write_config(tmp_path / "kiosk.toml", top, printer=printer)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=False)


def test_print_test_writes_the_test_page_to_the_file_printer(tmp_path: Path) -> None:
    config = kiosk_file(tmp_path)
    done = run("print-test", "--config", str(config))
    assert done.returncode == EXIT_OK, done.stderr
    assert "test page printed" in done.stdout and "unknown" in done.stdout
    job = (tmp_path / "receipts.escpos").read_bytes()
    assert job.startswith(INIT) and RASTER in job and CUT in job[-8:]
    assert QR_STORE in job and b"miz-printer-test:kiosk-07" in job


def test_a_wrong_or_missing_key_is_named_and_exits_2(tmp_path: Path) -> None:
    path = write_config(tmp_path / "kiosk.toml", kiosk_top(tmp_path, token=None),
                        printer={"backend": "lpt", "paper_width_mm": 80, "qr": "native"})
    done = run("print-test", "--config", str(path))
    assert done.returncode == EXIT_USAGE
    assert f"{path}: token: missing (this key is required)" in done.stderr
    assert (f'{path}: [printer] backend: must be one of usb, serial, network, file '
            f'(got "lpt")') in done.stderr
    assert "Traceback" not in done.stderr


def test_a_command_without_a_config_is_a_usage_error() -> None:
    assert run("print-test").returncode == EXIT_USAGE  # no --config at all


def test_reprint_finds_a_receipt_in_the_local_store(tmp_path: Path, capsys) -> None:
    code = new_code(7)
    config = kiosk_file(tmp_path)
    with KioskStore(tmp_path / "data") as store:
        store.save_receipt("request", code, to_plain({
            "agency_name": "اداره کل آزمایشی", "service_title": "صدور کارت راهنمای گردشگری",
            "tracking_code": code, "public_base_url": PUBLIC, "channel": "kiosk",
            "place": "سالن انتظار", "filed_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
            "documents": ["گواهی دوره"], "duration": 5}))
    typed = to_persian_digits(format_code(code))  # as a citizen reads it off the receipt
    assert main(["reprint", typed, "--config", str(config)]) == EXIT_OK
    assert "from the local store" in capsys.readouterr().out
    job = (tmp_path / "receipts.escpos").read_bytes()
    assert f"{PUBLIC}/t/{code}".encode() in job and job.startswith(INIT)
    with KioskStore(tmp_path / "data") as store:
        assert store.find_receipt("request", code).print_count == 1  # type: ignore[union-attr]


def test_reprint_of_a_ticket_comes_from_the_local_store(tmp_path: Path) -> None:
    config = kiosk_file(tmp_path, qr="image")
    with KioskStore(tmp_path / "data") as store:
        store.save_receipt("ticket", "aB3_x-Z9", to_plain({
            "agency_name": "اداره کل آزمایشی", "ticket_label": "B-023", "ticket_id": "aB3_x-Z9",
            "public_base_url": PUBLIC, "queue_title": "صدور کارت",
            "issued_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "people_ahead": 2,
            "wait_minutes": (10, 20)}))
    assert main(["reprint", "aB3_x-Z9", "--config", str(config)]) == EXIT_OK
    assert RASTER in (tmp_path / "receipts.escpos").read_bytes()
    assert main(["reprint", "zzz", "--config", str(config)]) == EXIT_NOT_FOUND


def test_reprint_asks_the_server_when_the_receipt_is_not_local(
    tmp_path: Path, server: Server, demo_catalog: Catalog, capsys
) -> None:
    code = file_request(server, demo_catalog)
    config = kiosk_file(tmp_path, server_url=server.url, token=server.token)
    assert main(["reprint", code, "--config", str(config)]) == EXIT_OK
    assert "from the server" in capsys.readouterr().out
    job = (tmp_path / "receipts.escpos").read_bytes()
    assert f"{PUBLIC}/t/{code}".encode() in job
    with KioskStore(tmp_path / "data") as store:  # saved before it was printed
        kept = store.find_receipt("request", code)
    assert kept is not None and kept.print_count == 1
    assert kept.values["service_title"] == demo_catalog.service("tour-guide-card").title
    assert kept.values["agency_name"] == demo_catalog.agency.name
    # Later, with the server out of reach, the kiosk reprints it from its own store.
    offline = kiosk_file(tmp_path, server_url="http://127.0.0.1:9")
    assert main(["reprint", code, "--config", str(offline)]) == EXIT_OK


def test_reprint_of_an_unknown_or_invalid_code(tmp_path: Path, server: Server, capsys) -> None:
    config = kiosk_file(tmp_path, server_url=server.url, token=server.token)
    assert main(["reprint", new_code(0), "--config", str(config)]) == EXIT_NOT_FOUND
    assert "neither in the local store nor on the server" in capsys.readouterr().err
    assert main(["reprint", "1234 5678 9012 3456", "--config", str(config)]) == EXIT_USAGE
    assert "کد رهگیری نادرست است" in capsys.readouterr().err
    unreachable = kiosk_file(tmp_path, server_url="http://127.0.0.1:9")
    assert main(["reprint", new_code(0), "--config", str(unreachable)]) == EXIT_NOT_FOUND
    assert "could not be asked" in capsys.readouterr().err


def test_reprint_on_a_printer_out_of_paper_keeps_the_record(
    tmp_path: Path, server: Server, demo_catalog: Catalog, capsys
) -> None:
    code = file_request(server, demo_catalog)
    fake = PtyDevice(PAPER_OUT)
    try:
        config = kiosk_file(tmp_path, server_url=server.url, token=server.token,
                            backend="serial", path=None, url=fake.path, status_timeout=1.0)
        assert main(["reprint", code, "--config", str(config)]) == EXIT_PRINTER
        assert "کاغذ چاپگر تمام شده است" in capsys.readouterr().err
        assert fake.wait_printed(1, timeout=0.5) == b""  # given time, still nothing
    finally:
        fake.close()
    with KioskStore(tmp_path / "data") as store:
        [waiting] = store.unprinted_receipts()
    assert waiting.key == code
