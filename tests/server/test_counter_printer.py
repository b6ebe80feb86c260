"""A counter's network ESC/POS printer, played by a stand-in on a local socket that answers the
status queries (DLE EOT) with real status bytes: the receipt and the ticket reach a ready
printer, QR and all; a printer out of paper, or none at all, is a clear Persian message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from counter_server.usecases import lobby_admin
from counter_server.usecases.counter_printing import parse_printer
from shared.catalog.schema import Catalog
from tests.conftest import csrf_token, login
from tests.server.test_queue import MORNING, OFFICE, run
from tests.server.test_requests_api import body
from tests.shared.escpos_decode import decode
from tests.shared.fake_devices import PAPER_OUT, READY, SocketPrinter
from tests.shared.test_receipts import read_qr
from tests.online import file_online


@pytest.fixture
def printer() -> Iterator[SocketPrinter]:
    """A ready network printer on 127.0.0.1 that keeps every job it receives."""
    fake = SocketPrinter(READY)
    yield fake
    fake.close()


def _sit_at(client: FlaskClient, app: Flask, address: str) -> int:
    counter = run(app, lambda s: lobby_admin.add_counter(
        s, OFFICE, 7, None, ["tour-guides"], address).id)
    token = csrf_token(client, "/desk/counter")
    client.post("/desk/counter", data={"csrf_token": token, "counter_id": str(counter)})
    return counter


def test_receipt_and_ticket_print_on_the_counter_printer(
    app: Flask, client: FlaskClient, staff_users: dict[str, int], demo_catalog: Catalog,
    printer: SocketPrinter,
) -> None:
    app.config["CLOCK"] = lambda: MORNING
    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    login(client, "boss")
    counter = _sit_at(client, app, printer.address)
    receipt_page = client.get(f"/t/{code}/receipt").get_data(as_text=True)
    assert "چاپ روی چاپگر" in receipt_page
    token = csrf_token(client, f"/t/{code}/receipt")
    done = client.post(f"/desk/counter/{counter}/print/request/{code}",
                       data={"csrf_token": token}, follow_redirects=True)
    assert "چاپ شد" in done.get_data(as_text=True)

    ticket = client.post("/api/v1/tickets", headers={"X-CSRFToken": token}, json={
        "client_id": str(uuid.uuid4()), "service": "tour-guide-card", "office": OFFICE})
    public_id = ticket.get_json()["id"]
    client.post(f"/desk/counter/{counter}/print/ticket/{public_id}",
                data={"csrf_token": token})

    base = str(demo_catalog.agency.public_base_url).rstrip("/")
    jobs = printer.wait_jobs(2)
    assert len(jobs) == 2
    assert printer.queries == [1, 2, 4, 1, 2, 4]  # the state asked before each receipt
    receipt, slip = (decode(job, 576) for job in jobs)
    assert [qr.text for qr in receipt.qr_codes] == [f"{base}/t/{code}"]
    assert [qr.text for qr in slip.qr_codes] == [f"{base}/q/{public_id}"]
    assert receipt.cuts == slip.cuts == 1
    assert read_qr(receipt.image) == [f"{base}/t/{code}"]


def test_a_printer_out_of_paper_prints_nothing_and_says_so(
    app: Flask, client: FlaskClient, staff_users: dict[str, int], demo_catalog: Catalog,
    printer: SocketPrinter,
) -> None:
    printer.replies = dict(PAPER_OUT)
    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    login(client, "boss")
    counter = _sit_at(client, app, printer.address)
    token = csrf_token(client, f"/t/{code}/receipt")
    page = client.post(f"/desk/counter/{counter}/print/request/{code}",
                       data={"csrf_token": token}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "چاپگر باجه رسید را چاپ نکرد: کاغذ چاپگر تمام شده است." in text
    assert "چاپ شد" not in text
    assert printer.wait_jobs(1) == [b""]  # asked for its state, sent not one receipt byte
    assert printer.queries == [1, 2, 4]


def test_unreachable_printer_is_a_clear_message(
    app: Flask, client: FlaskClient, staff_users: dict[str, int], demo_catalog: Catalog
) -> None:
    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    login(client, "boss")
    counter = _sit_at(client, app, "127.0.0.1:9")  # nothing listens on the discard port
    token = csrf_token(client, f"/t/{code}/receipt")
    page = client.post(f"/desk/counter/{counter}/print/request/{code}",
                       data={"csrf_token": token}, follow_redirects=True)
    assert "چاپگر باجه در دسترس نیست" in page.get_data(as_text=True)


@pytest.mark.parametrize(("address", "expected"), [
    ("printer.local", ("printer.local", 9100)), ("10.0.0.5:9101", ("10.0.0.5", 9101)),
])
def test_printer_addresses(address: str, expected: tuple[str, int]) -> None:
    assert parse_printer(address) == expected


@pytest.mark.parametrize("address", ["", ":9100", "host:port"])
def test_bad_printer_addresses(address: str) -> None:
    with pytest.raises(ValueError):
        parse_printer(address)
