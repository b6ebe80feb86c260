"""`flask --app counter_server keys init|public`: the seal key and the demo signing key."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskCliRunner

from counter_server.delivery.keys import KeySettings, seal_key
from shared.seals import load_public_key


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_init_makes_private_files_and_a_certificate_named_after_the_agency(
        app: Flask, runner: FlaskCliRunner) -> None:
    settings = KeySettings.from_config(app.config)
    result = runner.invoke(args=["keys", "init"])
    assert result.exit_code == 0, result.output
    files = [settings.seal_key_file, settings.signing_key_file, settings.signing_cert_file]
    assert all(_mode(path) == 0o600 for path in files)
    assert str(settings.seal_key_file) in result.output
    certificate = x509.load_pem_x509_certificate(settings.signing_cert_file.read_bytes())
    organisation = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert organisation[0].value == "اداره کل میراث فرهنگی، گردشگری و صنایع‌دستی استان اصفهان"
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert common_name[0].value == "میراث فرهنگی استان اصفهان"
    assert certificate.subject == certificate.issuer

    before = [path.read_bytes() for path in files]
    again = runner.invoke(args=["keys", "init"])
    assert "nothing was changed" in again.output
    assert [path.read_bytes() for path in files] == before

    public = runner.invoke(args=["keys", "public"])
    assert public.exit_code == 0 and public.output.startswith("-----BEGIN PUBLIC KEY-----")
    assert load_public_key(public.output) == seal_key(settings).public_key()


def test_keys_init_needs_the_catalog_or_an_agency_name(empty_app: Flask,
                                                       runner: FlaskCliRunner) -> None:
    refused = runner.invoke(args=["keys", "init"])
    assert refused.exit_code != 0 and "Import the catalog first" in refused.output
    missing = runner.invoke(args=["keys", "public"])
    assert missing.exit_code != 0 and "keys init" in missing.output
    made = runner.invoke(args=["keys", "init", "--agency", "اداره نمونه"])
    assert made.exit_code == 0, made.output
    certificate = x509.load_pem_x509_certificate(
        KeySettings.from_config(empty_app.config).signing_cert_file.read_bytes())
    assert "اداره نمونه" in certificate.subject.rfc4514_string()
