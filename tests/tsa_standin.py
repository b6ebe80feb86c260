"""A time-stamp server (RFC 3161) served over real HTTP, for PAdES-B-T signatures.

pyHanko's `DummyTimeStamper` answers the requests, signing with a TSA certificate made
here (extended key usage: time stamping). `TsaStandin.certificate` is its trust root.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from tests.served import Served


def _tsa_certificate() -> tuple[asn1_x509.Certificate, asn1_keys.PrivateKeyInfo]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the dummy is RSA-only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Miz test TSA")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                                  critical=True)
                   .sign(key, hashes.SHA256()))
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
            asn1_keys.PrivateKeyInfo.load(der_key))


class TsaStandin:
    """The time-stamp server on a free port of 127.0.0.1; `requests` counts its answers."""

    def __init__(self) -> None:
        self.certificate, key = _tsa_certificate()
        self.stamper = DummyTimeStamper(tsa_cert=self.certificate, tsa_key=key)
        self.requests = 0
        self.served = Served(self._wsgi, threading.Event())

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        request = tsp.TimeStampReq.load(environ["wsgi.input"].read(size))
        answer = self.stamper.request_tsa_response(request).dump()
        self.requests += 1
        start_response("200 OK", [("Content-Type", "application/timestamp-reply"),
                                  ("Content-Length", str(len(answer)))])
        return [answer]

    @property
    def url(self) -> str:
        return self.served.url


@pytest.fixture
def tsa_standin() -> Iterator[TsaStandin]:
    standin = TsaStandin()
    standin.served.start()
    yield standin
    standin.served.stop()
