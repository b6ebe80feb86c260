"""The two keys of electronic delivery: the seal key and the agency's signing key.

- The **seal key** (ECDSA P-256) signs the seal in a document's QR (`shared/seals.py`);
  kiosks and verifiers hold its public key (`flask --app counter_server keys public`).
- The **agency's signing key** and its X.509 certificate sign the PDFs (PAdES, pyHanko):
  from two PEM files, or from a PKCS#11 token (a smart card or an HSM) when
  `MIZ_PKCS11_MODULE` names the token's module.

Settings (`MIZ_` environment variables, see `counter_server/config.py`):
`SEAL_KEY_FILE`, `SIGNING_KEY_FILE`, `SIGNING_CERT_FILE` (defaults under the instance
folder, `keys/`); `PKCS11_MODULE`, `PKCS11_TOKEN_LABEL`, `PKCS11_KEY_LABEL`,
`PKCS11_CERT_LABEL` (the key's label when absent) and `PKCS11_PIN`; `TSA_URL`, a
time-stamp server that makes signatures PAdES-B-T.

`init_keys` makes a seal key and a self-signed certificate for the demo; a real deployment
points `SIGNING_*` at the agency's own certificate or its token.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pyhanko.sign import signers

DEMO_CERTIFICATE_YEARS = 5


class KeysMissing(Exception):
    """A key file is not there: run `flask --app counter_server keys init`."""


@dataclass(frozen=True)
class KeySettings:
    """Where the keys are: files, or a PKCS#11 token for the signing key."""

    seal_key_file: Path
    signing_key_file: Path
    signing_cert_file: Path
    pkcs11_module: str | None = None
    pkcs11_token_label: str | None = None
    pkcs11_key_label: str | None = None
    pkcs11_cert_label: str | None = None
    pkcs11_pin: str | None = None
    tsa_url: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KeySettings:
        return cls(seal_key_file=Path(config["SEAL_KEY_FILE"]),
                   signing_key_file=Path(config["SIGNING_KEY_FILE"]),
                   signing_cert_file=Path(config["SIGNING_CERT_FILE"]),
                   pkcs11_module=config.get("PKCS11_MODULE") or None,
                   pkcs11_token_label=config.get("PKCS11_TOKEN_LABEL") or None,
                   pkcs11_key_label=config.get("PKCS11_KEY_LABEL") or None,
                   pkcs11_cert_label=config.get("PKCS11_CERT_LABEL") or None,
                   pkcs11_pin=config.get("PKCS11_PIN") or None,
                   tsa_url=config.get("TSA_URL") or None)


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to a new file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _common_name(name: str) -> str:
    """`name` cut to the 64 bytes (UTF-8) a certificate's common name may hold."""
    while len(name.encode("utf-8")) > 64:
        name = name[:-1]
    return name.strip()


def demo_certificate(key: rsa.RSAPrivateKey, agency_name: str, short_name: str | None = None,
                     now: datetime | None = None) -> x509.Certificate:
    """A self-signed certificate of the agency for `key`, valid five years from `now`: the
    agency's name as its organisation, the short name (cut to fit) as its common name."""
    now = now or datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "IR"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency_name),
                      x509.NameAttribute(NameOID.COMMON_NAME,
                                         _common_name(short_name or agency_name))])
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          key_cert_sign=True, crl_sign=False, encipher_only=False,
                          decipher_only=False)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * DEMO_CERTIFICATE_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))


def init_keys(settings: KeySettings, agency_name: str,
              short_name: str | None = None) -> list[Path]:
    """Make the seal key, and the demo signing key with its self-signed certificate, each
    only if its file is missing (a key is never overwritten); returns the files written."""
    written: list[Path] = []
    if not settings.seal_key_file.exists():
        _write_private(settings.seal_key_file, _pem(ec.generate_private_key(ec.SECP256R1())))
        written.append(settings.seal_key_file)
    if settings.pkcs11_module is None and not settings.signing_key_file.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        certificate = demo_certificate(key, agency_name, short_name)
        _write_private(settings.signing_key_file, _pem(key))
        settings.signing_cert_file.unlink(missing_ok=True)
        _write_private(settings.signing_cert_file,
                       certificate.public_bytes(serialization.Encoding.PEM))
        written += [settings.signing_key_file, settings.signing_cert_file]
    return written


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KeysMissing(f"{path} is missing: run `flask --app counter_server keys init`, "
                          "or point the MIZ_*_FILE settings at the agency's keys") from None


def seal_key(settings: KeySettings) -> ec.EllipticCurvePrivateKey:
    """The seal key (P-256) from its PEM file."""
    key = serialization.load_pem_private_key(_read(settings.seal_key_file), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{settings.seal_key_file} is not an ECDSA P-256 key")
    return key


def seal_public_pem(settings: KeySettings) -> str:
    """The seal key's public key in PEM, what kiosks and verifiers are given."""
    return seal_key(settings).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@contextmanager
def pdf_signer(settings: KeySettings) -> Iterator[signers.Signer]:
    """The agency's PDF signer: pyHanko's PKCS#11 signer on the configured token, or a
    signer from the key and certificate files."""
    if settings.pkcs11_module is not None:
        from pyhanko.config.pkcs11 import PKCS11SignatureConfig, TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11SigningContext

        config = PKCS11SignatureConfig(
            module_path=settings.pkcs11_module,
            token_criteria=TokenCriteria(label=settings.pkcs11_token_label),
            key_label=settings.pkcs11_key_label,
            cert_label=settings.pkcs11_cert_label or settings.pkcs11_key_label)
        with PKCS11SigningContext(config, user_pin=settings.pkcs11_pin) as signer:
            yield signer
        return
    _read(settings.signing_key_file), _read(settings.signing_cert_file)
    signer = signers.SimpleSigner.load(str(settings.signing_key_file),
                                       str(settings.signing_cert_file))
    if signer is None:
        raise ValueError(f"{settings.signing_key_file} or {settings.signing_cert_file} "
                         "could not be read as a key and its certificate")
    yield signer
