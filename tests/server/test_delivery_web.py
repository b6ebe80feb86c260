"""Electronic delivery on the desk and for the citizen: a clerk issues a request's document
(from the template, with a preview, or an uploaded PDF that gets the seal stamped on), a
supervisor revokes it, the applicant is told by SMS, sees it on /t/<code> and downloads it
only after the applicant check — every step in the audit log."""

from __future__ import annotations

import hashlib
import html
import re
import subprocess
import uuid
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import func, select

from counter_server.context import database
from counter_server.delivery import keys
from counter_server.models import AuditEntry, Deliverable, Notification, ServiceRequest
from counter_server.usecases import delivery
from counter_server.usecases.catalog_versions import import_catalog
from shared import jalali
from shared.catalog.schema import Catalog
from shared.seals import read_seal
from shared.text import to_persian_digits
from tests.conftest import csrf_token, login
from tests.server.test_delivery import (  # noqa: F401  (fixtures)
    NOW,
    approved,
    elsewhere_pdf,
    key_files,
    signing,
)
from tests.online import latest_code
from tests.server.test_requests_api import APPLICANT


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.status_code
    return html.unescape(response.get_data(as_text=True))


def issue(client: FlaskClient, code: str, client_id: str | None = None,
          pdf: bytes | None = None, title: str = "") -> tuple[int, str]:
    """Post the desk's issue form as the logged-in user: (status, page after redirects)."""
    data: dict[str, object] = {"csrf_token": csrf_token(client, f"/desk/requests/{code}"),
                               "client_id": client_id or str(uuid.uuid4()), "title": title}
    if pdf is not None:
        data["pdf"] = (BytesIO(pdf), "made-elsewhere.pdf")
    response = client.post(f"/desk/requests/{code}/deliverables", data=data,
                           content_type="multipart/form-data", follow_redirects=True)
    return response.status_code, html.unescape(response.get_data(as_text=True))


def documents_of(app: Flask, code: str) -> list[Deliverable]:
    with app.app_context(), database().session() as session:
        request = session.scalars(select(ServiceRequest)
                                  .where(ServiceRequest.tracking_code == code)).one()
        found = list(session.scalars(select(Deliverable)
                                     .where(Deliverable.request_id == request.id)))
        session.expunge_all()
        return found


def audit_actions(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context(), database().session() as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                     .order_by(AuditEntry.id)))
        session.expunge_all()
        return found


def applicant_check(client: FlaskClient, code: str) -> None:
    client.post(f"/t/{code}/verify", data={
        "national_code": APPLICANT["national_code"], "mobile": APPLICANT["mobile"],
        "csrf_token": csrf_token(client, f"/t/{code}")})


def this_year_number(serial: int) -> str:
    """The document number of the `serial`th issue of the fixed clock's year, 1405."""
    return f"1405-{serial:06d}"


@pytest.fixture(autouse=True)
def fixed_clock(app: Flask) -> None:
    app.config["CLOCK"] = lambda: NOW


def test_the_clerk_sees_what_will_be_printed_and_one_click_makes_one_document(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    before = page(client, f"/desk/requests/{code}")
    preview = before.split('class="facts issue-preview"')[1].split("</dl>")[0]
    assert APPLICANT["name"] in preview and "کارت راهنمای گردشگری" in preview
    assert to_persian_digits(this_year_number(1)) in preview
    assert to_persian_digits("049*****99") in preview  # the masked national code, not all of it
    assert "هنوز سندی برای این درخواست صادر نشده است." in before

    click = str(uuid.uuid4())
    status, after = issue(client, code, click)
    assert status == 200 and "با شماره " + this_year_number(1) + " صادر و امضا شد" in after
    status, again = issue(client, code, click)  # the double click
    assert status == 200 and "پیش‌تر انجام شده بود" in again
    [document] = documents_of(app, code)
    assert document.number == this_year_number(1) and document.source == "template"
    listed = again.split('id="delivery"')[1].split("</table>")[0]
    assert "کارت راهنمای گردشگری" in listed and "معتبر" in listed
    assert f"/desk/requests/{code}/deliverables/{document.public_id}.pdf" in listed
    assert "ابطال سند" not in again  # a clerk cannot revoke

    [entry] = audit_actions(app, "deliverable.issue")
    assert entry.details["deliverable"] == document.public_id
    assert entry.user_id == staff_users["guides"]


def test_issuing_tells_the_applicant_by_sms_in_the_same_transaction(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    issue(client, code)
    with app.app_context(), database().session() as session:
        [message] = session.scalars(select(Notification)
                                    .where(Notification.event == "delivered")).all()
        assert message.mobile == APPLICANT["mobile"] and message.status == "queued"
        assert "«کارت راهنمای گردشگری»" in message.text and "آماده دریافت" in message.text
        assert message.text.endswith(f"/t/{code}")


def test_the_staff_download_is_the_signed_file_and_is_audited(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    issue(client, code)
    [document] = documents_of(app, code)
    response = client.get(f"/desk/requests/{code}/deliverables/{document.public_id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert hashlib.sha256(response.data).hexdigest() == document.sha256
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=card-{document.number}.pdf")
    [entry] = audit_actions(app, "deliverable.download")
    assert entry.details == {"deliverable": document.public_id, "by": "staff"}


def test_refusals_are_explained_beside_the_issue_form(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    status, text = issue(client, code)  # no keys made yet
    assert status == 503
    form = text.split('class="issue-form"')[1].split("</form>")[0]
    assert "flask --app counter_server keys init" in form and "راهبر سامانه" in form
    assert documents_of(app, code) == []

    unfinished = approved(app, client, demo_catalog, status="in_review")
    text = page(client, f"/desk/requests/{unfinished}")
    assert 'class="issue-form"' not in text
    assert "سند را پس از تأیید یا انجام درخواست می‌توان صادر کرد." in text
    status, _ = issue(client, unfinished)
    assert status == 422 and documents_of(app, unfinished) == []


def test_a_service_without_a_template_asks_for_the_pdf(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog, service="tourism-trust-symbol")
    login(client, "boss")
    text = page(client, f"/desk/requests/{code}")
    assert "این خدمت قالب سندی ندارد" in text and "issue-preview" not in text
    status, text = issue(client, code)
    assert status == 422 and "سند را به صورت PDF بارگذاری کنید" in text
    status, text = issue(client, code, pdf=b"%PDF-1.4 not really")
    assert status == 422 and "PDF سالم نیست" in text
    status, text = issue(client, code, pdf=elsewhere_pdf(), title="نماد اعتماد گردشگری")
    assert status == 200 and "«نماد اعتماد گردشگری»" in text
    [document] = documents_of(app, code)
    assert document.source == "upload" and document.kind == "letter"


def test_an_uploaded_pdf_carries_the_seal_on_its_last_page_and_a_valid_signature(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing, tmp_path: Path) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    issue(client, code, pdf=elsewhere_pdf())
    [document] = documents_of(app, code)
    signed = app.extensions["miz.storage"].read(document.stored_name)

    trust = ValidationContext(
        trust_roots=[load_cert_from_pemder(str(signing.keys.signing_cert_file))])
    status = validate_pdf_signature(PdfFileReader(BytesIO(signed)).embedded_signatures[0], trust)
    assert status.bottom_line and status.coverage.name == "ENTIRE_FILE"

    (tmp_path / "signed.pdf").write_bytes(signed)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(tmp_path / "signed.pdf"),
                    str(tmp_path / "page")], check=True)
    [barcode] = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    assert barcode.text == document.seal_text
    facts = read_seal(barcode.text, [keys.seal_public_pem(signing.keys)])
    assert (facts.document_id, facts.number) == (document.public_id, document.number)
    text = subprocess.run(["pdftotext", str(tmp_path / "signed.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert f"/v/{document.public_id}" in text and "Made elsewhere" in text


def test_a_supervisor_revokes_with_a_reason_and_everyone_sees_it(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    issue(client, code)
    [document] = documents_of(app, code)
    path = f"/desk/requests/{code}/deliverables/{document.public_id}/revoke"
    refused = client.post(path, data={"reason": "اشتباه", "csrf_token": csrf_token(
        client, f"/desk/requests/{code}")})
    assert refused.status_code == 403

    boss = app.test_client()
    login(boss, "boss")
    token = csrf_token(boss, f"/desk/requests/{code}")
    response = boss.post(path, data={"reason": " ", "csrf_token": token})
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "دلیل باطل کردن سند را بنویسید" in text.split("revoke-row")[1].split("</form>")[0]
    response = boss.post(path, data={"reason": "نام دارنده اشتباه چاپ شده بود",
                                       "csrf_token": token}, follow_redirects=True)
    text = html.unescape(response.get_data(as_text=True))
    row = text.split('id="delivery"')[1].split("</table>")[0]
    assert "باطل‌شده" in row and "نام دارنده اشتباه چاپ شده بود" in row
    assert "ابطال سند شماره" not in text  # no second revocation offered

    answer = client.get(f"/api/v1/verify/{document.public_id}").get_json()
    assert answer["status"] == "revoked"
    tracking = page(client, f"/t/{code}")
    delivered = tracking.split('id="delivered"')[1].split("</section>")[0]
    assert "ابطال‌شده" in delivered or "باطل‌شده" in delivered
    assert "نام دارنده اشتباه چاپ شده بود" in delivered
    [entry] = audit_actions(app, "deliverable.revoke")
    assert entry.user_id == staff_users["boss"]
    assert entry.details["reason"] == "نام دارنده اشتباه چاپ شده بود"


def test_the_citizen_sees_the_document_and_downloads_it_only_after_the_check(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog, status="completed")
    login(client, "guides")
    issue(client, code)
    [document] = documents_of(app, code)
    citizen = app.test_client()

    stranger = page(citizen, f"/t/{code}")
    delivered = stranger.split('id="delivered"')[1].split("</section>")[0]
    assert "کارت راهنمای گردشگری" in delivered and "معتبر" in delivered
    assert to_persian_digits(document.number) in delivered
    assert jalali.format_date(document.expires_on) in delivered
    download = f"/t/{code}/documents/{document.public_id}.pdf"
    assert download not in stranger

    refused = citizen.get(download)
    assert refused.status_code == 302 and refused.headers["Location"].endswith(
        f"/t/{code}#applicant")
    assert b"%PDF" not in refused.data
    assert audit_actions(app, "deliverable.download") == []

    applicant_check(citizen, code)
    assert download in page(citizen, f"/t/{code}")
    response = citizen.get(download)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=card-{document.number}.pdf")
    sha = citizen.get(f"/api/v1/verify/{document.public_id}").get_json()["sha256"]
    assert hashlib.sha256(response.data).hexdigest() == sha
    [entry] = audit_actions(app, "deliverable.download")
    assert entry.user_id is None and entry.details["by"] == "applicant"

    other = approved(app, client, demo_catalog)
    assert citizen.get(f"/t/{other}/documents/{document.public_id}.pdf").status_code in (302, 404)
    applicant_check(citizen, other)
    assert citizen.get(f"/t/{other}/documents/{document.public_id}.pdf").status_code == 404


def test_the_download_is_rate_limited_like_tracking(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    issue(client, code)
    [document] = documents_of(app, code)
    guesser = app.test_client()
    allowed = int(app.config["TRACK_RATE_LIMIT"].split()[0])
    answers = [guesser.get(f"/t/{code}/documents/{document.public_id}.pdf").status_code
               for _ in range(allowed + 1)]
    assert set(answers[:allowed]) == {302} and answers[allowed] == 429


def test_the_number_count_is_one_per_click(app: Flask, client: FlaskClient,
                                           demo_catalog: Catalog, staff_users: dict,
                                           signing: delivery.Signing) -> None:
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    issue(client, code)
    issue(client, code)  # a second, deliberate issue (a new form): a second number
    with app.app_context(), database().session() as session:
        numbers = sorted(session.scalars(select(Deliverable.number)))
        assert numbers == [this_year_number(1), this_year_number(2)]
        assert session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.event == "delivered")) == 2
    assert re.search(r"پیش‌تر", page(client, f"/desk/requests/{code}")) is None


def test_a_service_may_ask_a_one_time_code_before_the_download(
        app: Flask, client: FlaskClient, demo_catalog: Catalog, staff_users: dict,
        signing: delivery.Signing) -> None:
    app.config["MOBILE_CODE_RESEND_SECONDS"] = 0  # filing texted a code a moment ago
    spec = demo_catalog.service("tour-guide-card")
    asking = spec.model_copy(update={"output": spec.output.model_copy(
        update={"download_code": True})})
    with app.app_context(), database().transaction() as session:
        import_catalog(session, demo_catalog.model_copy(update={"services": [
            asking if s.slug == spec.slug else s for s in demo_catalog.services]}),
            source="tests")
    code = approved(app, client, demo_catalog)
    login(client, "guides")
    issue(client, code)
    [document] = documents_of(app, code)
    download = f"/t/{code}/documents/{document.public_id}.pdf"
    citizen = app.test_client()
    applicant_check(citizen, code)

    text = page(citizen, f"/t/{code}")
    assert download not in text and "فرستادن کد به شماره همراه" in text
    refused = citizen.get(download)
    assert refused.status_code == 302 and refused.headers["Location"].endswith("#delivered")

    token = csrf_token(citizen, f"/t/{code}")
    citizen.post(f"/t/{code}/documents/code", data={"csrf_token": token})
    assert "کد پیامک‌شده" in page(citizen, f"/t/{code}")
    wrong = citizen.post(f"/t/{code}/documents/code/confirm",
                         data={"csrf_token": token, "code": "00000"})
    assert wrong.status_code == 422 and "کد درست نیست." in html.unescape(
        wrong.get_data(as_text=True))
    typed = latest_code(app, APPLICANT["mobile"])
    citizen.post(f"/t/{code}/documents/code/confirm",
                 data={"csrf_token": token, "code": typed})
    assert download in page(citizen, f"/t/{code}")
    response = citizen.get(download)
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == document.sha256
