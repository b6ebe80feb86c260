"""The seal: a delivered document's facts, signed, small enough for a QR anyone can check.

Modelled on the ICAO Visible Digital Seal and the EU Digital COVID Certificate: the facts a
verifier needs (document number, kind, holder, masked national code, issue and expiry
dates, and the document's public id), packed into a compact binary message and signed with
the agency's seal key, ECDSA P-256 (a raw r‖s signature is 64 bytes; an RSA signature alone
would not fit). The kiosk checks a seal offline with the seal key's public key, so this
module needs only `cryptography` — no Flask, no database, no network.

**The QR's text** is one URL, ``<public base url>/v/<id>#<seal digits>``:

- a phone camera opens it, and the browser asks the server for ``/v/<id>`` (the document's
  page: its facts and its state, revoked or not); the fragment after ``#`` is never sent to
  the server, so the seal stays off its logs;
- the same text carries the whole signed seal for offline checking: the id in the path and
  the rest, with the signature, in the fragment.

**Why digits.** A QR's numeric mode packs 3 digits in 10 bits (3.33 bits a character), its
alphanumeric mode 2 characters in 11 bits (5.5 bits) but only from 45 characters, its byte
mode 8 bits a byte. Bytes written as decimal digits cost 8 × log₂10 / 3.32 ≈ 1.003 times
their size in numeric mode; in base32 (the only URL-safe alphabet within the alphanumeric
set; base45 has space and «%», which a URL cannot carry) they cost 1.1 times; in base64url,
byte mode, 1.33 times. So the seal is one big number: the bytes, after a leading 0x01 that
keeps their leading zeros, in decimal. A QR encoder that splits its input by mode (the
`qrcode` library does) writes the URL's start in byte mode and the digits in numeric mode;
a seal with a long Persian name then still fits a version-10 QR at error correction M.

**The binary message** (version 1)::

    signed  = id (15 bytes) ‖ body
    body    = version (1) ‖ key id (4) ‖ kind (1) ‖ issued (2) ‖ expires (2)
              ‖ masked code (3) ‖ number (1 + n) ‖ holder (1 + n)
    fragment digits = decimal(0x01 ‖ body ‖ signature (64))

Dates are days since 1970-01-01 (expires 0: no expiry). The key id is the first 4 bytes of
the SHA-256 of the public key (SubjectPublicKeyInfo, DER), so a verifier that knows several
keys (a new one, the one before) picks the right one. The masked national code keeps the
first 3 and the last 2 digits; the 5 kept digits are one 3-byte number. A plain digest of
the full code would not hide it: there are only 10¹⁰ codes to try. The number is ASCII; the
holder's name is six bits a letter from a Persian alphabet (`_ALPHABET`), or UTF-8 when a
letter is outside it (the length byte's top bit says which). So a holder of up to 64 letters
(`MAX_HOLDER`), a number of up to 20 characters and an address of up to 32 characters before
`/v/` fit a version-10 QR at level M (a longer address costs a version more). The host of
the URL is not signed: a seal stays valid when the agency's address changes, and a
verifier shows the facts the seal holds, not the address.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from base64 import b32decode, b32encode
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

VERSION = 1
ID_BYTES = 15  # 120 random bits: 24 base32 letters in the address
SIGNATURE_BYTES = 64
MAX_NUMBER = 20
MAX_HOLDER = 64
_EPOCH = date(1970, 1, 1)
_FIXED = 1 + 4 + 1 + 2 + 2 + 3
_UTF8_FLAG = 0x80
# Six bits a letter for the names on Iranian documents: space, ZWNJ, the Persian and Arabic
# letters (Arabic ي and ك too), the hamza forms, the short vowels and the marks names carry.
_ALPHABET = (" \u200c-.'"
             "ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي"
             "پچژکگیۀ\u0654\u064b\u064e\u064f\u0650\u0651\u0652")
_CODE_OF = {ch: index for index, ch in enumerate(_ALPHABET)}
# At most 600 digits (~250 bytes, more than a version-10 QR holds): a longer number is not
# a seal, and Python refuses to read integers of over 4300 digits.
_ADDRESS = re.compile(r"^(?P<base>.*)/v/(?P<id>[a-z2-7]{24})#(?P<digits>[1-9][0-9]{0,599})$")


class OutputKind(str, Enum):
    """What a delivered document is; its number in the seal is its position here, from 1."""

    card = "card"
    licence = "licence"
    certificate = "certificate"
    letter = "letter"

    @property
    def code(self) -> int:
        return list(OutputKind).index(self) + 1

    @classmethod
    def from_code(cls, code: int) -> OutputKind:
        kinds = list(cls)
        if not 1 <= code <= len(kinds):
            raise ValueError(f"no document kind {code}")
        return kinds[code - 1]


KIND_LABELS = {OutputKind.card: "کارت", OutputKind.licence: "پروانه",
               OutputKind.certificate: "گواهی", OutputKind.letter: "نامه"}
STATE_LABELS = {"valid": "معتبر", "revoked": "باطل‌شده", "expired": "منقضی‌شده"}


class SealError(Exception):
    """A seal that must not be believed; `code` is stable, `message` Persian."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


MALFORMED = "این مهر خوانا نیست یا مهر سند میز خدمت نیست."
UNKNOWN_KEY = "این مهر با کلیدی زده شده که از آنِ این دستگاه نیست؛ سند را معتبر ندانید."
SIGNATURE_INVALID = "مهر با محتوایش نمی‌خواند: چیزی در آن تغییر کرده است؛ سند را معتبر ندانید."


def new_document_id() -> str:
    """An unguessable public id for `/v/<id>`: 120 random bits, 24 lower-case base32 letters."""
    return b32encode(secrets.token_bytes(ID_BYTES)).decode("ascii").lower()


def mask_national_code(code: str) -> str:
    """«0012345678» → "001*****78": the first 3 and the last 2 digits, the rest hidden."""
    if not re.fullmatch(r"[0-9]{10}", code):
        raise ValueError("a national code is 10 ASCII digits")
    return f"{code[:3]}*****{code[-2:]}"


@dataclass(frozen=True)
class SealFacts:
    """What a seal says about its document."""

    document_id: str
    number: str
    kind: OutputKind
    holder: str
    masked_national_code: str
    issued_on: date
    expires_on: date | None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z2-7]{24}", self.document_id):
            raise ValueError("document_id is 24 lower-case base32 letters (new_document_id)")
        if not re.fullmatch(r"[0-9]{3}\*{5}[0-9]{2}", self.masked_national_code):
            raise ValueError("masked_national_code looks like 001*****78 (mask_national_code)")
        if not self.number.isascii() or not 1 <= len(self.number) <= MAX_NUMBER:
            raise ValueError(f"number is 1 to {MAX_NUMBER} ASCII characters")
        if not 1 <= len(self.holder) <= MAX_HOLDER:
            raise ValueError(f"holder is 1 to {MAX_HOLDER} characters")
        if self.expires_on is not None and self.expires_on < self.issued_on:
            raise ValueError("a document cannot expire before it is issued")


def key_id(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The 4 bytes that name a seal key: the start of the SHA-256 of its public key."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:4]


def load_public_key(pem: bytes | str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its PEM (what `flask --app counter_server keys public` prints)."""
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("a seal key is an ECDSA P-256 key")
    return key


def _days(d: date | None) -> int:
    return 0 if d is None else (d - _EPOCH).days


def _holder_bytes(name: str) -> bytes:
    if all(ch in _CODE_OF for ch in name):
        packed = 0
        for ch in name:
            packed = packed << 6 | _CODE_OF[ch]
        size = _packed_size(len(name))
        return bytes([len(name)]) + (packed << (size * 8 - 6 * len(name))).to_bytes(size, "big")
    data = name.encode("utf-8")
    if len(data) >= _UTF8_FLAG:
        raise ValueError("the holder's name is too long for a seal")
    return bytes([_UTF8_FLAG | len(data)]) + data


def _body(facts: SealFacts, kid: bytes) -> bytes:
    kept = int(facts.masked_national_code[:3] + facts.masked_national_code[-2:])
    number = facts.number.encode("ascii")
    return (bytes([VERSION]) + kid + bytes([facts.kind.code])
            + _days(facts.issued_on).to_bytes(2, "big")
            + _days(facts.expires_on).to_bytes(2, "big")
            + kept.to_bytes(3, "big")
            + bytes([len(number)]) + number + _holder_bytes(facts.holder))


def _id_bytes(document_id: str) -> bytes:
    return b32decode(document_id.upper())


def seal_text(facts: SealFacts, private_key: ec.EllipticCurvePrivateKey, base_url: str) -> str:
    """The QR's text: `<base_url>/v/<id>#<digits>`, the facts signed with `private_key`."""
    body = _body(facts, key_id(private_key.public_key()))
    der = private_key.sign(_id_bytes(facts.document_id) + body, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    payload = b"\x01" + body + r.to_bytes(32, "big") + s.to_bytes(32, "big")
    digits = str(int.from_bytes(payload, "big"))
    return f"{base_url.rstrip('/')}/v/{facts.document_id}#{digits}"


class _Reader:
    """Reads the body's fields in order; running out is a malformed seal."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise SealError("seal_malformed", MALFORMED)
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def number(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")


def _split(text: str) -> tuple[str, bytes, bytes, bytes]:
    """(document id, body, raw signature, key id) of a seal's text, or SealError."""
    match = _ADDRESS.fullmatch(text.strip())
    if match is None:
        raise SealError("seal_malformed", MALFORMED)
    value = int(match["digits"])
    payload = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if payload[:1] != b"\x01" or len(payload) < 1 + _FIXED + 2 + SIGNATURE_BYTES:
        raise SealError("seal_malformed", MALFORMED)
    body, signature = payload[1:-SIGNATURE_BYTES], payload[-SIGNATURE_BYTES:]
    if body[0] != VERSION:
        raise SealError("seal_malformed", MALFORMED)
    return match["id"], body, signature, body[1:5]


def is_seal_text(text: str) -> bool:
    """Whether `text` has a seal's shape (`<address>/v/<id>#<digits>`); says nothing of
    whether it is genuine (`read_seal` does)."""
    return _ADDRESS.fullmatch(text.strip()) is not None


def _packed_size(letters: int) -> int:
    return (6 * letters + 7) // 8


def _holder(reader: _Reader) -> str:
    head = reader.number(1)
    if head & _UTF8_FLAG:
        return reader.take(head & ~_UTF8_FLAG).decode("utf-8")
    size = _packed_size(head)
    packed = reader.number(size) >> (size * 8 - 6 * head)
    codes = [(packed >> (6 * (head - 1 - i))) & 0x3F for i in range(head)]
    if any(code >= len(_ALPHABET) for code in codes):
        raise ValueError("a letter outside the alphabet")
    return "".join(_ALPHABET[code] for code in codes)


def _facts(document_id: str, body: bytes) -> SealFacts:
    reader = _Reader(body)
    reader.take(5)
    try:
        kind = OutputKind.from_code(reader.number(1))
        issued = _EPOCH + timedelta(days=reader.number(2))
        expires_days = reader.number(2)
        kept = f"{reader.number(3):05d}"
        number = reader.take(reader.number(1)).decode("ascii")
        holder = _holder(reader)
        if reader.at != len(body):
            raise ValueError("bytes after the holder")
        return SealFacts(document_id=document_id, number=number, kind=kind, holder=holder,
                         masked_national_code=f"{kept[:3]}*****{kept[3:]}", issued_on=issued,
                         expires_on=_EPOCH + timedelta(days=expires_days)
                         if expires_days else None)
    except (ValueError, UnicodeDecodeError):
        raise SealError("seal_malformed", MALFORMED) from None


def read_seal(text: str,
              public_keys: Iterable[ec.EllipticCurvePublicKey | bytes | str]) -> SealFacts:
    """The facts of a seal's text, checked against the agency's seal keys (objects or PEMs).

    Raises SealError: `seal_malformed` (not a seal, or cut short), `seal_unknown_key`
    (signed by a key not among `public_keys`), `seal_signature_invalid` (anything changed).
    """
    document_id, body, signature, kid = _split(text)
    keys = [k if isinstance(k, ec.EllipticCurvePublicKey) else load_public_key(k)
            for k in public_keys]
    key = next((k for k in keys if key_id(k) == kid), None)
    if key is None:
        raise SealError("seal_unknown_key", UNKNOWN_KEY)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, _id_bytes(document_id) + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SealError("seal_signature_invalid", SIGNATURE_INVALID) from None
    return _facts(document_id, body)
