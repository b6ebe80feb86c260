"""Issuing a request's document (from the template or an uploaded PDF), and revoking it."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from fpdf import FPDF
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_server.context import database
from counter_server.delivery import keys
from counter_server.models import AuditEntry, Deliverable, ServiceRequest, User
from counter_server.usecases import delivery
from shared.catalog.schema import Catalog
from shared.seals import read_seal
from tests.server.test_desk import file_online

NOW = datetime(2026, 3, 21, 6, 30, tzinfo=UTC)  # 1 Farvardin 1405, 10:00 in Tehran


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> keys.KeySettings:
    """One set of demo keys for the whole run: RSA key generation is slow."""
    folder = tmp_path_factory.mktemp("delivery-keys")
    made = keys.KeySettings(folder / "seal.pem", folder / "signing.pem", folder / "cert.pem")
    keys.init_keys(made, "اداره کل میراث فرهنگی، گردشگری و صنایع‌دستی استان اصفهان",
                   "میراث فرهنگی استان اصفهان")
    return made


@pytest.fixture
def signing(app: Flask, key_files: keys.KeySettings) -> delivery.Signing:
    """The app's signing settings, its key files copied from the run's demo keys."""
    settings = keys.KeySettings.from_config(app.config)
    for source, target in ((key_files.seal_key_file, settings.seal_key_file),
                           (key_files.signing_key_file, settings.signing_key_file),
                           (key_files.signing_cert_file, settings.signing_cert_file)):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return delivery.Signing(settings, Path(app.config["ASSETS_DIR"]),
                            app.config["MAX_DOCUMENT_BYTES"])


@dataclass
class Desk:
    """The use case's world inside one transaction: session, storage, request, people."""

    session: Session
    app: Flask
    signing: delivery.Signing

    def request(self, code: str) -> ServiceRequest:
        return self.session.scalars(select(ServiceRequest)
                                    .where(ServiceRequest.tracking_code == code)).one()

    def user(self, username: str) -> User:
        return self.session.scalars(select(User).where(User.username == username)).one()

    def issue(self, code: str, username: str = "guides", client_id: str | None = None,
              pdf: bytes | None = None, now: datetime = NOW) -> tuple[Deliverable, bool]:
        return delivery.issue(self.session, self.app.extensions["miz.storage"], self.signing,
                              self.request(code), self.user(username),
                              delivery.Issue(client_id or str(uuid.uuid4()), pdf), now,
                              address="192.0.2.7")


@pytest.fixture
def desk(app: Flask, signing: delivery.Signing, staff_users: dict) -> Iterator[Desk]:
    with app.app_context(), database().transaction() as session:
        yield Desk(session, app, signing)


def approved(app: Flask, client: FlaskClient, catalog: Catalog,
             service: str = "tour-guide-card", status: str = "approved") -> str:
    """A request filed online (by a citizen: not through `client`, which may hold a staff
    login) and brought to `status` (the workflow has its own tests)."""
    code = file_online(app.test_client(), catalog, service)
    with app.app_context(), database().transaction() as session:
        request = session.scalars(select(ServiceRequest)
                                  .where(ServiceRequest.tracking_code == code)).one()
        request.status = status
    return code


def elsewhere_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(100, 10, "Made elsewhere")
    return bytes(pdf.output())


def test_a_card_is_issued_from_the_template_signed_sealed_stored_and_audited(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, desk: Desk,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog)
    document, created = desk.issue(code)
    assert created and document.source == "template" and document.kind == "card"
    assert document.number == "1405-000001" and document.title == "کارت راهنمای گردشگری"
    assert document.issued_on == date(2026, 3, 21)
    assert document.expires_on == date(2026, 3, 21) + timedelta(days=730)
    request = desk.request(code)
    assert document.holder == request.applicant_name
    national_code = request.applicant_national_code
    assert document.masked_national_code == f"{national_code[:3]}*****{national_code[-2:]}"
    assert len(document.public_id) == 24

    stored = app.extensions["miz.storage"].read(document.stored_name)
    assert hashlib.sha256(stored).hexdigest() == document.sha256 and len(stored) == document.size
    trust = ValidationContext(
        trust_roots=[load_cert_from_pemder(str(signing.keys.signing_cert_file))])
    status = validate_pdf_signature(PdfFileReader(BytesIO(stored)).embedded_signatures[0],
                                    trust)
    assert status.bottom_line

    facts = read_seal(document.seal_text, [keys.seal_public_pem(signing.keys)])
    assert document.seal_text.startswith(
        f"https://miz.chht-isfahan.example/v/{document.public_id}#")
    assert (facts.number, facts.holder, facts.expires_on) == (
        document.number, document.holder, document.expires_on)

    entry = desk.session.scalars(select(AuditEntry)
                                 .where(AuditEntry.action == "deliverable.issue")).one()
    assert entry.request_id == request.id and entry.user_id == desk.user("guides").id
    assert entry.details["deliverable"] == document.public_id and entry.address == "192.0.2.7"


def test_the_same_click_makes_one_document(app: Flask, client: FlaskClient,
                                           demo_catalog: Catalog, desk: Desk) -> None:
    code = approved(app, client, demo_catalog)
    other = approved(app, client, demo_catalog, status="completed")
    click = str(uuid.uuid4())
    first, created = desk.issue(code, client_id=click)
    again, created_again = desk.issue(code, client_id=click)
    assert created and not created_again and again.id == first.id
    assert desk.session.scalar(select(func.count()).select_from(Deliverable)) == 1
    with pytest.raises(delivery.DeliveryRefused) as refused:
        desk.issue(other, client_id=click)
    assert refused.value.code == "idempotency_key_reused"
    second, _ = desk.issue(other)
    assert second.number == "1405-000002"


@pytest.mark.parametrize(("username", "status", "code"), [
    ("guides", "in_review", "request_not_finished"),
    ("guides", "rejected", "request_not_finished"),
    ("crafts", "approved", "forbidden"),
])
def test_issuing_is_refused_before_the_decision_or_to_other_clerks(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, desk: Desk, username: str,
        status: str, code: str) -> None:
    tracking = approved(app, client, demo_catalog, status=status)
    with pytest.raises(delivery.DeliveryRefused) as refused:
        desk.issue(tracking, username=username)
    assert refused.value.code == code and refused.value.message
    assert desk.session.scalar(select(func.count()).select_from(Deliverable)) == 0


def test_an_uploaded_pdf_is_signed_and_anything_else_refused(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, desk: Desk,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog, service="handicraft-quality-mark")
    assert delivery.output_of(desk.session, desk.request(code)) is None
    with pytest.raises(delivery.DeliveryRefused) as no_template:
        desk.issue(code, username="boss")
    assert no_template.value.code == "no_output_template"
    for not_pdf in (b"\x89PNG\r\n\x1a\n" + b"0" * 100, b"%PDF-1.7 truncated"):
        with pytest.raises(delivery.DeliveryRefused) as refused:
            desk.issue(code, username="boss", pdf=not_pdf)
        assert refused.value.code == "not_a_pdf"

    original = elsewhere_pdf()
    document, created = desk.issue(code, username="boss", pdf=original)
    assert created and document.source == "upload" and document.kind == "letter"
    stored = app.extensions["miz.storage"].read(document.stored_name)
    assert stored.startswith(original)  # signed as an incremental update
    trust = ValidationContext(
        trust_roots=[load_cert_from_pemder(str(signing.keys.signing_cert_file))])
    assert validate_pdf_signature(PdfFileReader(BytesIO(stored)).embedded_signatures[0],
                                  trust).bottom_line


def test_a_supervisor_revokes_with_a_reason(app: Flask, client: FlaskClient,
                                            demo_catalog: Catalog, desk: Desk) -> None:
    document, _ = desk.issue(approved(app, client, demo_catalog))
    assert delivery.state(document, date(2026, 3, 22)) == "valid"
    later = NOW + timedelta(days=3)
    with pytest.raises(delivery.DeliveryRefused) as clerk:
        delivery.revoke(desk.session, document, desk.user("guides"), "اشتباه در نام", later)
    assert clerk.value.code == "forbidden"
    with pytest.raises(delivery.DeliveryRefused) as blank:
        delivery.revoke(desk.session, document, desk.user("boss"), "  ", later)
    assert blank.value.code == "reason_required"
    delivery.revoke(desk.session, document, desk.user("boss"),
                    "نام دارنده  اشتباه چاپ شده بود.", later, address="192.0.2.9")
    assert document.revoked_at == later and document.revoked_by_id == desk.user("boss").id
    assert document.revocation_reason == "نام دارنده اشتباه چاپ شده بود."
    assert delivery.state(document, date(2026, 3, 22)) == "revoked"
    with pytest.raises(delivery.DeliveryRefused) as twice:
        delivery.revoke(desk.session, document, desk.user("boss"), "دوباره", later)
    assert twice.value.code == "already_revoked"
    entry = desk.session.scalars(select(AuditEntry)
                                 .where(AuditEntry.action == "deliverable.revoke")).one()
    assert entry.details["reason"] == "نام دارنده اشتباه چاپ شده بود."
    assert entry.request_id == document.request_id


def test_a_document_expires_the_day_after_its_expiry_date(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, desk: Desk) -> None:
    document, _ = desk.issue(approved(app, client, demo_catalog))
    assert document.expires_on is not None
    assert delivery.state(document, document.expires_on) == "valid"
    assert delivery.state(document, document.expires_on + timedelta(days=1)) == "expired"


def test_a_download_is_audited(app: Flask, client: FlaskClient, demo_catalog: Catalog,
                               desk: Desk) -> None:
    document, _ = desk.issue(approved(app, client, demo_catalog))
    data = delivery.signed_pdf(desk.session, app.extensions["miz.storage"], document, None,
                               address="198.51.100.4")
    assert hashlib.sha256(data).hexdigest() == document.sha256
    entry = desk.session.scalars(select(AuditEntry)
                                 .where(AuditEntry.action == "deliverable.download")).one()
    assert entry.details == {"deliverable": document.public_id, "by": "applicant"}


def test_an_unreachable_time_stamp_server_refuses_issuing_for_now(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, desk: Desk) -> None:
    desk.signing = replace(desk.signing,
                           keys=replace(desk.signing.keys, tsa_url="http://127.0.0.1:9/"))
    with pytest.raises(delivery.DeliveryRefused) as refused:
        desk.issue(approved(app, client, demo_catalog))
    assert refused.value.code == "timestamp_unavailable" and refused.value.status == 503


def test_without_keys_issuing_is_refused_plainly(app: Flask, client: FlaskClient,
                                                 demo_catalog: Catalog, desk: Desk,
                                                 signing: delivery.Signing) -> None:
    signing.keys.seal_key_file.unlink()
    with pytest.raises(delivery.DeliveryRefused) as refused:
        desk.issue(approved(app, client, demo_catalog))
    assert refused.value.code == "keys_missing" and refused.value.status == 503
