"""The delivered PDF: drawn from the catalog's output template, signed PAdES, read back.

No database: the template comes from the demo catalog, the keys from `keys.init_keys`.
pyHanko's validator checks the signature with the demo certificate as the trust root;
poppler's `pdftotext` and `pdftoppm` and zxing-cpp read the pages as a reader would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from fpdf import FPDF
from PIL import Image
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from counter_server.config import ASSETS_DIR
from counter_server.delivery import keys
from counter_server.delivery.pdf_signing import is_pdf, sign_pdf
from counter_server.delivery.render import Applicant, PrintedDocument, from_template, render_pdf
from shared import jalali
from shared.catalog.schema import Catalog
from shared.seals import SealFacts, mask_national_code, new_document_id, read_seal, seal_text
from tests.tsa_standin import TsaStandin, tsa_standin  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils is not installed "
                                       "(scripts/install-system-deps.sh)")

APPLICANT = Applicant(name="زهرا احمدی‌نژاد", national_code="0012345678", mobile="09121234567")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> keys.KeySettings:
    folder = tmp_path_factory.mktemp("keys")
    made = keys.KeySettings(folder / "seal.pem", folder / "signing.pem", folder / "cert.pem")
    keys.init_keys(made, "اداره کل میراث فرهنگی، گردشگری و صنایع‌دستی استان اصفهان",
                   "میراث فرهنگی استان اصفهان")
    return made


def _document(catalog: Catalog, settings: keys.KeySettings, slug: str,
              answers: dict[str, object]) -> PrintedDocument:
    service = catalog.service(slug)
    assert service is not None and service.output is not None
    validity = service.output.validity_days
    facts = SealFacts(document_id=new_document_id(), number="1405-000042",
                      kind=service.output.kind, holder=APPLICANT.name,
                      masked_national_code=mask_national_code(APPLICANT.national_code),
                      issued_on=date(2026, 3, 21),
                      expires_on=date(2028, 3, 20) if validity else None)
    text = seal_text(facts, keys.seal_key(settings), str(catalog.agency.public_base_url))
    return from_template(service.output, service, catalog.agency, APPLICANT, answers,
                         "0012345678901234", facts, text)


@pytest.fixture(scope="module")
def card(demo_catalog: Catalog, settings: keys.KeySettings) -> PrintedDocument:
    return _document(demo_catalog, settings, "tour-guide-card",
                     {"guide_type": "general", "foreign_languages": ["en", "fr"]})


@pytest.fixture(scope="module")
def letter(demo_catalog: Catalog, settings: keys.KeySettings) -> PrintedDocument:
    return _document(demo_catalog, settings, "general-correspondence",
                     {"subject": "درخواست بازدید گروهی از خانه تاریخی"})


def _signed(document: PrintedDocument, settings: keys.KeySettings) -> bytes:
    with keys.pdf_signer(settings) as signer:
        return sign_pdf(render_pdf(document, ASSETS_DIR), signer, reason="صدور سند",
                        location="اصفهان")


def _status(data: bytes, settings: keys.KeySettings):  # noqa: ANN202 - pyHanko's status type
    trust = ValidationContext(trust_roots=[load_cert_from_pemder(str(settings.signing_cert_file))])
    signatures = PdfFileReader(BytesIO(data), strict=False).embedded_signatures
    assert len(signatures) == 1
    return validate_pdf_signature(signatures[0], trust)


def _plain(text: str) -> str:
    """Text without bidi marks (pdftotext adds embeddings), whitespace collapsed, and no
    space beside a digit or a punctuation mark: pdftotext moves the space at the edge of a
    number or a comma inside right-to-left text («۱ فروردین» reads «۱فروردین »)."""
    kept = "".join(ch for ch in text if unicodedata.category(ch) != "Cf" or ch == "\u200c")
    return re.sub(r" ?([۰-۹،:.]) ?", r"\1", " ".join(kept.split()))


def _pdftotext(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def _page_image(data: bytes, tmp_path: Path) -> Image.Image:
    path = tmp_path / "page.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    return Image.open(tmp_path / "page.png")


def test_the_signature_is_intact_and_valid_against_the_agency_certificate(
        card: PrintedDocument, settings: keys.KeySettings) -> None:
    signed = _signed(card, settings)
    status = _status(signed, settings)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.md_algorithm == "sha256"


def test_with_a_time_stamp_server_the_signature_is_pades_b_t(
        card: PrintedDocument, settings: keys.KeySettings, tsa_standin: TsaStandin) -> None:
    with keys.pdf_signer(settings) as signer:
        signed = sign_pdf(render_pdf(card, ASSETS_DIR), signer, reason="صدور سند",
                          location="اصفهان", tsa_url=tsa_standin.url)
    trust = ValidationContext(trust_roots=[
        load_cert_from_pemder(str(settings.signing_cert_file)), tsa_standin.certificate])
    status = validate_pdf_signature(
        PdfFileReader(BytesIO(signed), strict=False).embedded_signatures[0], trust)
    assert status.bottom_line and tsa_standin.requests >= 1
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.trusted


def test_without_a_time_stamp_the_signature_is_pades_b_b(
        card: PrintedDocument, settings: keys.KeySettings) -> None:
    assert _status(_signed(card, settings), settings).timestamp_validity is None


def test_one_changed_byte_is_refused(card: PrintedDocument,
                                     settings: keys.KeySettings) -> None:
    signed = bytearray(_signed(card, settings))
    position = signed.index(b"/Title") + 12  # inside the signed document's title string
    signed[position] ^= 0x01
    status = _status(bytes(signed), settings)
    assert not status.intact and not status.bottom_line


def test_a_signature_by_another_certificate_is_not_trusted(
        card: PrintedDocument, settings: keys.KeySettings, tmp_path: Path) -> None:
    other = keys.KeySettings(tmp_path / "s.pem", tmp_path / "k.pem", tmp_path / "c.pem")
    keys.init_keys(other, "اداره جعلی")
    status = _status(_signed(card, other), settings)
    assert status.intact and not status.trusted and not status.bottom_line


@pytest.mark.parametrize("which", ["card", "letter"])
def test_pdftotext_reads_the_persian_back_in_logical_order(
        which: str, request: pytest.FixtureRequest, settings: keys.KeySettings,
        tmp_path: Path) -> None:
    document: PrintedDocument = request.getfixturevalue(which)
    text = _plain(_pdftotext(_signed(document, settings), tmp_path))
    expected = [document.title, document.holder, "میراث فرهنگی استان اصفهان",
                "۱ فروردین ۱۴۰۵", "۱۴۰۵-۰۰۰۰۴۲"]
    if which == "card":
        expected += ["راهنمای ایرانگردی و جهانگردی", "انگلیسی، فرانسوی", "۰۰۱۲۳۴۵۶۷۸",
                     f"تا {jalali.format_date(date(2028, 3, 20))}"]
    else:
        expected += ["با سلام و احترام، نامه شما با کد رهگیری",
                     "۰۰۱۲-۳۴۵۶-۷۸۹۰-۱۲۳۴",
                     "با موضوع «درخواست بازدید گروهی از خانه تاریخی» در دبیرخانه اداره کل",
                     "پاسخ آن به این شرح اعلام می‌شود"]
    for phrase in expected:
        assert _plain(phrase) in text, phrase


@pytest.mark.parametrize("which", ["card", "letter"])
def test_the_seal_qr_decodes_from_a_page_image(which: str, request: pytest.FixtureRequest,
                                               settings: keys.KeySettings,
                                               tmp_path: Path) -> None:
    document: PrintedDocument = request.getfixturevalue(which)
    image = _page_image(_signed(document, settings), tmp_path)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [code.text for code in found] == [document.seal_text]
    facts = read_seal(found[0].text, [keys.seal_public_pem(settings)])
    assert facts.holder == APPLICANT.name and facts.number == "1405-000042"


def test_a_letter_fills_its_placeholders_and_a_card_lists_its_fields(
        card: PrintedDocument, letter: PrintedDocument) -> None:
    assert letter.body is not None and "{" not in letter.body
    assert letter.body.startswith("زهرا احمدی‌نژاد گرامی،")
    assert card.lines == [("کد ملی", "۰۰۱۲۳۴۵۶۷۸"), ("گرایش", "راهنمای ایرانگردی و جهانگردی"),
                          ("زبان‌های راهنمایی", "انگلیسی، فرانسوی")]
    assert card.verify_url.startswith("https://miz.chht-isfahan.example/v/")


def test_only_a_readable_pdf_passes_as_one(card: PrintedDocument) -> None:
    pdf = render_pdf(card, ASSETS_DIR)
    assert is_pdf(pdf)
    assert not is_pdf(b"%PDF-1.7\nnot really")
    assert not is_pdf(b"\x89PNG\r\n\x1a\n" + pdf)
    locked = FPDF()
    locked.set_encryption(owner_password="owner", user_password="user")
    locked.add_page()
    assert not is_pdf(bytes(locked.output()))
