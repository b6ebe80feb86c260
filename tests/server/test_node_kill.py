"""Two application nodes on one database and one object store, one of them killed (SIGKILL,
its whole process group) while kiosks file through both: every record arrives exactly once.

The node dies at its worst moment: after a request's transaction committed and before the
answer left (`DYING_APP` below), so the kiosk cannot tell whether it was taken and sends it
again; the requests it would have had next find nothing listening.

Each node is the README's gunicorn with an instance folder of its own (no disk shared), on the
test's database (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set) and on moto's S3
server. Kiosks send each record — a ticket, a filing, its scan — to the nodes in turn, as a
load balancer would; a request the dead node cannot answer is sent again, with the same
`client_id`, to the other node (what a kiosk's outbox does on its next attempt).
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from counter_server.context import database
from counter_server.models import RequestDocument, ServiceRequest, Ticket
from counter_server.storage import S3Storage
from counter_server.usecases import kiosks
from shared import tracking_codes
from shared.catalog.schema import Catalog
from tests.s3_standin import s3_config, s3_endpoint  # noqa: F401 (fixtures)
from tests.server.test_documents import png_bytes
from tests.server.test_requests_api import body
from tests.server.test_stream_server import API_SERVER, REPO, Gunicorn

KIOSKS, RECORDS_EACH = 4, 8  # 32 records: a ticket, a filing and its scan each
TIMEOUT = 10.0  # a kiosk's wait for an answer, not a measurement
OFFICE, SERVICE = "isfahan-hq", "tour-guide-card"


DIE_AT = 13  # the dying node's worker kills it on its 13th POST, once that one is committed
# The app the dying node serves: the real one, whose `DIE_AT`th POST ends the whole node
# (master and workers: the process group) once the app has answered it, before the answer
# is sent.
DYING_APP = f"""
import os, signal
from counter_server import create_app

real, posts = create_app(), []

def app(environ, start_response):
    answer = real(environ, start_response)
    if environ["REQUEST_METHOD"] == "POST":
        posts.append(1)
        if len(posts) >= {DIE_AT}:
            os.killpg(os.getpgrp(), signal.SIGKILL)
    return answer
"""


@pytest.fixture
def app_settings(s3_config: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    return s3_config


@pytest.fixture
def nodes(app: Flask, tmp_path: Path, s3_config: dict[str, Any]  # noqa: F811
          ) -> Iterator[list[Gunicorn]]:
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "MIZ_SECRET_KEY": "node-kill-test",
           "MIZ_ENFORCE_QUEUE_HOURS": "false", "MIZ_SMS_QUIET_HOURS": '""',
           **{f"MIZ_{name}": str(value) for name, value in s3_config.items()}}
    dying = tmp_path / "dying"
    dying.mkdir()
    (dying / "dying_node.py").write_text(DYING_APP)
    started = [Gunicorn(API_SERVER, env, tmp_path / "node-0", own_group=True),
               Gunicorn(API_SERVER, {**env, "PYTHONPATH": f"{dying}{os.pathsep}{REPO}"},
                        tmp_path / "node-1", app="dying_node:app", own_group=True)]
    try:
        for node in started:
            node.wait_until_up()
        yield started
    finally:
        for node in started:
            if node.process.poll() is None:
                node.stop()


@dataclass
class Kiosks:
    """The kiosks' side: which node each request went to, and the retries after a failure."""

    nodes: list[Gunicorn]
    dead: set[int] = field(default_factory=set)
    retries: int = 0
    replayed: int = 0  # retries the live node answered as replays: the dead one had them
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, turn: int, path: str, **kwargs: Any) -> dict[str, Any]:
        """POST to node `turn % 2`; on a connection failure, the same request to the other."""
        for attempt in range(2):
            node = self.nodes[(turn + attempt) % 2]
            try:
                answer = requests.post(node.url + path, timeout=TIMEOUT, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                with self.lock:
                    self.retries += 1
                continue
            assert answer.status_code in (200, 201), answer.text
            if attempt and answer.status_code == 200:
                with self.lock:
                    self.replayed += 1
            return dict(answer.json())
        raise AssertionError(f"no node answered {path}")

    def run(self, kiosk: int, token: str, kiosk_id: int, catalog: Catalog, slot: str) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        for record in range(RECORDS_EACH):
            turn = kiosk + record
            self.send(turn, "/api/v1/tickets", headers=auth,
                      json={"client_id": str(uuid.uuid4()), "service": SERVICE})
            code = tracking_codes.new_code(kiosk_id)
            self.send(turn + 1, "/api/v1/requests", headers=auth,
                      json=body(catalog, channel="kiosk", catalog_version=1, tracking_code=code))
            scan = png_bytes((40 + kiosk, 30 + record))
            self.send(turn, f"/api/v1/requests/{code}/documents", headers=auth,
                      data={"client_id": str(uuid.uuid4()), "slot": slot},
                      files={"file": ("scan.png", scan)})


def counts(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context(), database().session() as db:
        return (db.scalar(select(func.count()).select_from(Ticket)) or 0,
                db.scalar(select(func.count(func.distinct(Ticket.client_id)))) or 0,
                db.scalar(select(func.count()).select_from(ServiceRequest)) or 0,
                db.scalar(select(func.count()).select_from(RequestDocument)) or 0)


def test_a_node_killed_mid_run_loses_nothing_and_doubles_nothing(
        app: Flask, nodes: list[Gunicorn], demo_catalog: Catalog) -> None:
    spec = demo_catalog.service(SERVICE)
    slot = next(d.id for d in spec.documents if "png" in d.formats)
    with app.app_context(), database().transaction() as db:
        registered = [kiosks.register_kiosk(db, f"کیوسک {n}", OFFICE) for n in range(KIOSKS)]
        tokens = [(r.token, r.kiosk.id) for r in registered]
    fleet = Kiosks(nodes)
    errors: list[BaseException] = []

    def kiosk(n: int) -> None:
        try:
            fleet.run(n, tokens[n][0], tokens[n][1], demo_catalog, slot)
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)

    threads = [threading.Thread(target=kiosk, args=(n,)) for n in range(KIOSKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert nodes[1].process.wait(timeout=10) == -signal.SIGKILL
    assert nodes[0].process.poll() is None
    assert fleet.replayed >= 1  # what the dead node committed unanswered was sent again
    assert fleet.retries > fleet.replayed  # and what it would have had next went elsewhere

    records = KIOSKS * RECORDS_EACH
    tickets, distinct_tickets, filed, documents = counts(app)
    assert (tickets, distinct_tickets, filed, documents) == (records, records, records, records)
    with app.app_context(), database().session() as db:
        numbers = Counter(db.scalars(select(Ticket.number).where(Ticket.office_slug == OFFICE)))
        stored = set(db.scalars(select(RequestDocument.stored_name)))
    assert max(numbers.values()) == 1  # no number given twice
    storage = app.extensions["miz.storage"]
    assert isinstance(storage, S3Storage)
    in_bucket = {f.name for f in storage.files() if not f.partial}
    assert stored <= in_bucket  # every scan in the shared store; the sweep takes what the kill left
    for node in nodes:
        assert not (node.log.parent / "uploads").exists()  # no node kept a file of its own
