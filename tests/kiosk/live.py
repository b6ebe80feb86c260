"""A real counter server for the kiosk's sync tests: a SQLite file, the demo catalog, one
registered kiosk, served over HTTP on a port chosen in advance — so that a test can make
records while nothing listens there, then start the server on that very port."""

from __future__ import annotations

import io
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from counter_server import create_app, migrate
from counter_server.context import database
from counter_server.demo import sample_value
from counter_server.models import Kiosk as KioskRow
from counter_server.models import RequestDocument, ServiceRequest, SurveyAnswer, Ticket
from counter_server.usecases import kiosks
from counter_server.usecases.catalog_versions import import_catalog
from kiosk.config import KioskConfig, load_config
from kiosk.devices.document_scanner import ScannedDocument
from shared.catalog.schema import Catalog
from tests.kiosk.fakes import kiosk_top, write_config

PUBLIC = "https://miz.chht-isfahan.example"
SERVICE = "tour-guide-card"
SLOT = "course_certificate"
PHOTO_SLOT = "personal_photo"
NATIONAL_CODE = "0499370899"
MOBILE = "09121234567"
APPLICANT = {"name": "زهرا احمدی", "national_code": NATIONAL_CODE, "mobile": MOBILE}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SlowDown:
    """WSGI middleware: every POST waits `delay` seconds first (a server under load)."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app, self.delay = app, delay

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") == "POST" and self.delay:
            time.sleep(self.delay)
        return self.app(environ, start_response)


class LiveServer:
    """The counter server on `port`; `start()` / `stop()` at will, the database stays."""

    def __init__(self, folder: Path, catalog: Catalog, *, delay: float = 0.0,
                 office: str = "isfahan-hq") -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: Flask = create_app({
            "DATABASE_URL": f"sqlite:///{folder / 'miz.sqlite3'}", "SECRET_KEY": "kiosk-sync",
            "INSTANCE_PATH": str(folder), "SESSION_COOKIE_SECURE": False,
            "ENFORCE_QUEUE_HOURS": False, "SMS_QUIET_HOURS": ""})
        with self.app.app_context():
            migrate.upgrade(database())
            with database().transaction() as session:
                import_catalog(session, catalog, source="kiosk sync tests")
                registration = kiosks.register_kiosk(session, "کیوسک سالن", office)
                self.kiosk_id, self.token = registration.kiosk.id, registration.token
        self.wsgi = SlowDown(self.app, delay)
        self._http: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._http = make_server("127.0.0.1", self.port, self.wsgi, threaded=True)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._http is not None and self._thread is not None:
            self._http.shutdown()
            self._http.server_close()
            self._thread.join()
            self._http = self._thread = None

    def close(self) -> None:
        self.stop()
        with self.app.app_context():
            database().dispose()

    # --- delivered documents -------------------------------------------------------------

    def deliver(self, code: str, now: datetime | None = None) -> tuple[str, str]:
        """Approve the request `code` and issue its document (keys made on first use);
        (public id, seal text). Revocations are then given to kiosks at once."""
        from counter_server.delivery import keys
        from counter_server.usecases import delivery
        from counter_server.usecases.staff import Role, create_user

        self.app.config["REVOCATION_SETTLE_SECONDS"] = 0
        settings = keys.KeySettings.from_config(self.app.config)
        keys.init_keys(settings, "اداره کل میراث فرهنگی استان اصفهان")
        signing = delivery.Signing(settings, Path(self.app.config["ASSETS_DIR"]),
                                   self.app.config["MAX_DOCUMENT_BYTES"])
        with self.app.app_context(), database().transaction() as session:
            item = session.scalars(select(ServiceRequest)
                                   .where(ServiceRequest.tracking_code == code)).one()
            clerk = create_user(session, f"issuer-{code[-6:]}", "مریم کاظمی", Role.clerk,
                                "a long enough password", [item.service_slug])
            item.status = "approved"
            document, _ = delivery.issue(session, self.app.extensions["miz.storage"], signing,
                                         item, clerk, delivery.Issue(str(uuid.uuid4())),
                                         now or datetime.now(UTC))
            return document.public_id, document.seal_text

    def sha256_of(self, public_id: str) -> str:
        from counter_server.usecases import delivery

        with self.app.app_context(), database().transaction() as session:
            found = delivery.find(session, public_id)
            assert found is not None
            return found.sha256

    def seal_public_key(self) -> str:
        from counter_server.delivery import keys

        return keys.seal_public_pem(keys.KeySettings.from_config(self.app.config))

    def revoke(self, public_id: str, reason: str) -> None:
        from counter_server.usecases import delivery
        from counter_server.usecases.staff import Role, create_user

        with self.app.app_context(), database().transaction() as session:
            boss = create_user(session, f"boss-{public_id[:6]}", "رضا مرادی", Role.supervisor,
                               "a long enough password", [])
            found = delivery.find(session, public_id)
            assert found is not None
            delivery.revoke(session, found, boss, reason, datetime.now(UTC))

    def publish(self, catalog: Catalog) -> None:
        with self.app.app_context(), database().transaction() as session:
            import_catalog(session, catalog, source="kiosk sync tests, again")

    # --- what the server holds ---------------------------------------------------------

    def count(self, model: Any) -> int:
        with self.app.app_context(), database().transaction() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def counts(self) -> dict[str, int]:
        return {"requests": self.count(ServiceRequest), "documents": self.count(RequestDocument),
                "tickets": self.count(Ticket), "surveys": self.count(SurveyAnswer)}

    def rows(self, model: Any, *columns: str) -> list[tuple[Any, ...]]:
        with self.app.app_context(), database().transaction() as session:
            found = session.execute(select(*(getattr(model, c) for c in columns))
                                    .order_by(model.id)).all()
            return [tuple(row) for row in found]

    def codes(self) -> list[str]:
        return sorted(code for (code,) in self.rows(ServiceRequest, "tracking_code"))

    def heartbeat(self) -> dict[str, Any]:
        with self.app.app_context(), database().transaction() as session:
            kiosk = session.get(KioskRow, self.kiosk_id)
            assert kiosk is not None
            return dict(kiosk.heartbeat or {})


def kiosk_config(folder: Path, server_url: str, kiosk_id: int, token: str,
                 data_dir: Path | None = None) -> KioskConfig:
    """A kiosk's TOML file (file printer) and its parsed configuration."""
    folder.mkdir(parents=True, exist_ok=True)
    top = kiosk_top(folder, server_url=server_url, public_base_url=PUBLIC, kiosk_id=kiosk_id,
                    token=token, data_dir=str(data_dir or folder / "data"))
    printer = {"backend": "file", "path": str(folder / "receipts.escpos"),
               "paper_width_mm": 80, "qr": "native"}
    return load_config(write_config(folder / "kiosk.toml", top, printer=printer))


def form_for(catalog: Catalog, service: str = SERVICE) -> dict[str, Any]:
    spec = catalog.service(service)
    assert spec is not None
    return {f.name: sample_value(f) for f in spec.form}


def scan(label: str = "", size: tuple[int, int] = (300, 400)) -> ScannedDocument:
    """A one-page scan (a real image, so the server's byte checks pass)."""
    page = Image.new("RGB", size, (250, 250, 245))
    for x in range(0, size[0], 7):
        page.putpixel((x, (x * 3 + len(label)) % size[1]), (20, 20, 20))
    return ScannedDocument(pages=[page], dpi=200, source=label or "test")


def jpeg_bytes(size_kb: int) -> bytes:
    """A JPEG of roughly `size_kb` kilobytes (noise does not compress)."""
    import os

    side = int((size_kb * 1024 / 3) ** 0.5) + 8
    page = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    page.save(out, "JPEG", quality=92)
    return out.getvalue()


def wait_until(check: Callable[[], bool], timeout: float = 30.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


def tehran_morning() -> datetime:
    """Today 09:30 in Tehran (06:00 UTC): within the demo queues' hours on a working day."""
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, 6, 0, tzinfo=UTC)


def only(values: Iterable[Any]) -> Any:
    [value] = list(values)
    return value
