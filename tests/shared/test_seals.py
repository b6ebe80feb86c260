"""The seal: round trip, refusals (a changed character, another key, garbage), QR size."""

from __future__ import annotations

from datetime import date

import pytest
import qrcode
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.seals import (
    OutputKind,
    SealError,
    SealFacts,
    mask_national_code,
    new_document_id,
    read_seal,
    seal_text,
)

# 64 letters, the longest holder a seal takes.
LONG_NAME = "سیدمحمدحسین میرزاابوالقاسمی طباطبایی‌نژاد اصفهانی حسینی‌زاده کشی"
BASE_URL = "https://miz.chht-isfahan.example/"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def facts(holder: str = "زهرا احمدی", expires: date | None = date(2028, 3, 20),
          number: str = "1405-000123") -> SealFacts:
    return SealFacts(document_id=new_document_id(), number=number,
                     kind=OutputKind.card, holder=holder,
                     masked_national_code=mask_national_code("0012345678"),
                     issued_on=date(2026, 3, 21), expires_on=expires)


def test_round_trip_with_the_public_key_as_object_or_pem(key: ec.EllipticCurvePrivateKey) -> None:
    original = facts()
    text = seal_text(original, key, BASE_URL)
    assert text.startswith(f"https://miz.chht-isfahan.example/v/{original.document_id}#")
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert read_seal(text, [key.public_key()]) == original
    assert read_seal(text, [pem.decode()]) == original


@pytest.mark.parametrize("holder", [LONG_NAME, "Ali O'Brien-Smith", "علی ☺ رضایی"])
def test_names_in_and_out_of_the_compact_alphabet_survive(key: ec.EllipticCurvePrivateKey,
                                                          holder: str) -> None:
    original = facts(holder=holder, expires=None)
    assert read_seal(seal_text(original, key, BASE_URL), [key.public_key()]) == original


def test_the_masked_code_keeps_three_and_two_digits_and_hides_the_rest() -> None:
    assert mask_national_code("0012345678") == "001*****78"
    with pytest.raises(ValueError):
        mask_national_code("12345")


def test_every_changed_character_of_the_id_or_the_seal_is_refused(
        key: ec.EllipticCurvePrivateKey) -> None:
    text = seal_text(facts(), key, BASE_URL)
    start = text.index("/v/") + 3
    for position in range(start, len(text)):
        if text[position] == "#":
            continue
        replacement = "7" if text[position] not in "7" else "3"
        changed = text[:position] + replacement + text[position + 1:]
        with pytest.raises(SealError) as refused:
            read_seal(changed, [key.public_key()])
        assert refused.value.code in {"seal_signature_invalid", "seal_unknown_key",
                                      "seal_malformed"}, position
        assert "معتبر" in refused.value.message or "خوانا" in refused.value.message


def test_a_changed_digit_of_the_signed_facts_is_a_bad_signature(
        key: ec.EllipticCurvePrivateKey) -> None:
    text = seal_text(facts(), key, BASE_URL)
    position = len(text) - 200  # inside the body, past the key id
    digit = "1" if text[position] != "1" else "2"
    with pytest.raises(SealError) as refused:
        read_seal(text[:position] + digit + text[position + 1:], [key.public_key()])
    assert refused.value.code == "seal_signature_invalid"
    assert refused.value.message == ("مهر با محتوایش نمی‌خواند: چیزی در آن تغییر کرده است؛ "
                                     "سند را معتبر ندانید.")


def test_a_seal_signed_by_another_key_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    text = seal_text(facts(), other, BASE_URL)
    with pytest.raises(SealError) as refused:
        read_seal(text, [key.public_key()])
    assert refused.value.code == "seal_unknown_key"
    assert read_seal(text, [key.public_key(), other.public_key()]).holder == "زهرا احمدی"


@pytest.mark.parametrize("text", [
    "", "hello", "https://x.example/v/abc#123",
    "https://x.example/v/aaaaaaaaaaaaaaaaaaaaaaaa#0123",
    "https://x.example/v/aaaaaaaaaaaaaaaaaaaaaaaa#123456789",
    "https://x.example/v/aaaaaaaaaaaaaaaaaaaaaaaa#" + "9" * 5000,
])
def test_malformed_text_is_refused_with_its_own_code(key: ec.EllipticCurvePrivateKey,
                                                     text: str) -> None:
    with pytest.raises(SealError) as refused:
        read_seal(text, [key.public_key()])
    assert refused.value.code == "seal_malformed"


def test_a_cut_seal_is_malformed_or_refused(key: ec.EllipticCurvePrivateKey) -> None:
    text = seal_text(facts(), key, BASE_URL)
    with pytest.raises(SealError):
        read_seal(text[:-10], [key.public_key()])


def test_the_longest_persian_name_fits_a_version_10_qr_at_level_m(
        key: ec.EllipticCurvePrivateKey) -> None:
    assert len(LONG_NAME) == 64
    longest_address = "https://miz.chht-isfahan.example"
    assert len(longest_address) == 32
    text = seal_text(facts(holder=LONG_NAME, number="1405-TGC-00000012345"), key,
                     longest_address)
    qr = qrcode.QRCode(version=None, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    assert qr.version <= 10, (qr.version, len(text))
