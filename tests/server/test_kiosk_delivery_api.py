"""What kiosks learn of delivered documents: revocations after a cursor with the seal keys,
and, after the national-code check, the holder's documents with their seals and PDFs."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.db import utcnow
from counter_server.delivery import keys
from counter_server.models import AuditEntry, Deliverable, ServiceRequest, User
from counter_server.usecases import delivery, kiosks
from shared.catalog.schema import Catalog
from shared.seals import read_seal
from tests.server.test_delivery import approved, key_files, signing  # noqa: F401  (fixtures)
from tests.server.test_queue import OFFICE, run


@pytest.fixture
def kiosk(app: Flask) -> dict[str, str]:
    registration = run(app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE))
    return {"Authorization": f"Bearer {registration.token}"}


def issue(app: Flask, signing: delivery.Signing, code: str) -> str:  # noqa: F811
    """Issue the request's document as the service's clerk; its public id."""
    with app.app_context(), database().transaction() as session:
        request = session.scalars(select(ServiceRequest)
                                  .where(ServiceRequest.tracking_code == code)).one()
        clerk = session.scalars(select(User).where(User.username == "guides")).one()
        document, _ = delivery.issue(session, app.extensions["miz.storage"], signing, request,
                                     clerk, delivery.Issue(str(uuid.uuid4())), utcnow())
        return document.public_id


def revoke(app: Flask, public_id: str, reason: str, ago: timedelta) -> None:
    with app.app_context(), database().transaction() as session:
        boss = session.scalars(select(User).where(User.username == "boss")).one()
        found = delivery.find(session, public_id)
        assert found is not None
        delivery.revoke(session, found, boss, reason, utcnow() - ago)


def test_revocations_come_after_the_cursor_with_the_seal_key(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing, kiosk: dict[str, str]) -> None:  # noqa: F811
    first = issue(app, signing, approved(app, client, demo_catalog))
    second = issue(app, signing, approved(app, client, demo_catalog))
    assert client.get("/api/v1/revocations").status_code == 401
    empty = client.get("/api/v1/revocations", headers=kiosk).get_json()
    assert empty["revocations"] == [] and empty["cursor"] is None and not empty["more"]
    assert empty["seal_keys"] == [keys.seal_public_pem(signing.keys)]
    revoke(app, second, "نام دارنده اشتباه چاپ شده بود.", timedelta(minutes=5))
    revoke(app, first, "صادرشده برای درخواست دیگر", timedelta(minutes=2))
    answer = client.get("/api/v1/revocations", headers=kiosk).get_json()
    assert [(r["id"], r["reason"]) for r in answer["revocations"]] == [
        (second, "نام دارنده اشتباه چاپ شده بود."), (first, "صادرشده برای درخواست دیگر")]
    cursor = answer["cursor"]
    again = client.get(f"/api/v1/revocations?since={cursor}", headers=kiosk).get_json()
    assert again["revocations"] == [] and again["cursor"] == cursor
    third = issue(app, signing, approved(app, client, demo_catalog))
    revoke(app, third, "ابطال به دستور دادگاه", timedelta(seconds=0))
    settling = client.get(f"/api/v1/revocations?since={cursor}", headers=kiosk).get_json()
    assert settling["revocations"] == []  # not yet settled: it comes next time
    app.config["REVOCATION_SETTLE_SECONDS"] = 0
    later = client.get(f"/api/v1/revocations?since={cursor}", headers=kiosk).get_json()
    assert [r["id"] for r in later["revocations"]] == [third]


def test_pages_follow_one_another(app: Flask, client: FlaskClient, demo_catalog: Catalog,
                                  staff_users: dict, signing: delivery.Signing) -> None:  # noqa: F811
    ids = [issue(app, signing, approved(app, client, demo_catalog)) for _ in range(3)]
    for public_id in ids:
        revoke(app, public_id, "آزمون صفحه‌بندی", timedelta(minutes=1))
    with app.app_context(), database().transaction() as session:
        seen, cursor = [], None
        while True:
            page = delivery.revocations_since(session, cursor, utcnow(), timedelta(0), limit=2)
            seen += [d.public_id for d in page.items]
            cursor = page.cursor
            if not page.more:
                break
    assert seen == ids


@pytest.mark.parametrize("cursor", ["abc", "1.2.3", "-5.1", "9" * 30 + ".1", "9" * 19 + ".1"])
def test_a_bad_cursor_is_a_stable_400(app: Flask, client: FlaskClient, kiosk: dict[str, str],
                                      cursor: str) -> None:
    reply = client.get(f"/api/v1/revocations?since={cursor}", headers=kiosk)
    assert reply.status_code == 400 and reply.get_json()["code"] == "invalid_cursor"


def test_the_holder_gets_the_seal_and_the_pdf_after_the_national_code_check(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing, kiosk: dict[str, str]) -> None:  # noqa: F811
    code = approved(app, client, demo_catalog)
    public_id = issue(app, signing, code)
    with app.app_context(), database().transaction() as session:
        national_code = session.scalars(select(ServiceRequest.applicant_national_code)
                                        .where(ServiceRequest.tracking_code == code)).one()
        row = session.scalars(select(Deliverable)).one()
        sha256, seal = row.sha256, row.seal_text
    path = f"/api/v1/requests/{code}/deliverables"
    anonymous = client.post(path, json={"national_code": national_code})
    assert anonymous.status_code == 401 and "seal_text" not in anonymous.get_data(as_text=True)
    wrong = client.post(path, json={"national_code": "0012345679"}, headers=kiosk)
    assert wrong.status_code == 403 and wrong.get_json()["code"] == "not_the_applicant"
    persian = "".join("۰۱۲۳۴۵۶۷۸۹"[int(d)] for d in national_code)
    answer = client.post(path, json={"national_code": persian}, headers=kiosk).get_json()
    [document] = answer["deliverables"]
    assert document["id"] == public_id and document["seal_text"] == seal
    assert document["status"] == "valid" and document["kind"] == "card"
    facts = read_seal(document["seal_text"], [keys.seal_public_pem(signing.keys)])
    assert facts.number == document["number"] and facts.holder == document["holder"]
    pdf = client.post(f"{path}/{public_id}/pdf", json={"national_code": national_code},
                      headers=kiosk)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == sha256
    with app.app_context(), database().transaction() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert "deliverable.download" in actions
    refused = client.post(f"{path}/{public_id}/pdf", json={"national_code": "0012345679"},
                          headers=kiosk)
    assert refused.status_code == 403


def test_too_many_wrong_national_codes_lock_the_check(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        kiosk: dict[str, str]) -> None:
    code = approved(app, client, demo_catalog)
    path = f"/api/v1/requests/{code}/deliverables"
    codes = [client.post(path, json={"national_code": "0012345679"}, headers=kiosk).status_code
             for _ in range(8)]
    assert codes[0] == 403 and codes[-1] == 429
