"""The document storages: the same behaviour on local disk and in an S3-compatible object
store (moto's server, over HTTP), and the server filing, sweeping and migrating its documents
in the object store."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server import create_app
from counter_server.context import database
from counter_server.models import RequestDocument
from counter_server.storage import PARTIAL, LocalStorage, S3Storage, Storage
from tests.s3_standin import s3_config, s3_endpoint  # noqa: F401 (fixtures)
from tests.server.test_documents import kiosk_request, png_bytes, upload  # noqa: F401

HOUR = timedelta(hours=1)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads")
    return S3Storage.from_config(request.getfixturevalue("s3_config"))


def leave_half_written(storage: Storage) -> str:
    """What a process killed while writing leaves behind; returns its listed name."""
    if isinstance(storage, LocalStorage):
        path = storage.root / "ab" / f"ab{'0' * 30}{PARTIAL}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a scan")
        return path.name
    assert isinstance(storage, S3Storage)
    key = f"{storage.prefix}cd{'0' * 30}.png"
    storage.client.create_multipart_upload(Bucket=storage.bucket, Key=key)
    return f"cd{'0' * 30}.png{PARTIAL}"


def names(storage: Storage) -> set[str]:
    return {f.name for f in storage.files()}


def test_a_saved_file_reads_back_and_is_listed_until_deleted(storage: Storage) -> None:
    first, second = b"%PDF-1.7 first\n%%EOF", png_bytes()
    one, two = storage.save(first, "pdf"), storage.save(second, "png")
    assert one.endswith(".pdf") and two.endswith(".png") and one != two
    assert storage.read(one) == first and storage.read(two) == second
    listed = {f.name: f for f in storage.files()}
    assert set(listed) == {one, two}
    assert not listed[one].partial
    assert abs(listed[one].modified - datetime.now(UTC)) < HOUR
    storage.delete(one)
    storage.delete(one)  # deleting what is gone is no error
    assert names(storage) == {two}
    with pytest.raises(FileNotFoundError):
        storage.read(one)


def test_a_large_file_is_stored_whole(storage: Storage) -> None:
    if isinstance(storage, S3Storage):
        storage.multipart_bytes = 1024 * 1024  # in parts: 8 MiB and the rest
    data = os.urandom(S3Storage.PART_BYTES + 300_000)
    name = storage.save(data, "tif")
    assert hashlib.sha256(storage.read(name)).digest() == hashlib.sha256(data).digest()
    assert names(storage) == {name}


def test_a_half_written_file_is_listed_as_partial_and_deleted_like_any(
        storage: Storage) -> None:
    kept = storage.save(b"whole", "pdf")
    half = leave_half_written(storage)
    listed = {f.name: f for f in storage.files()}
    assert set(listed) == {kept, half}
    assert listed[half].partial and not listed[kept].partial
    storage.delete(half)
    assert names(storage) == {kept}


@pytest.mark.parametrize("name", ["../secret_key", "a/b.png", ".hidden", "x y.png", ""])
def test_names_outside_the_storage_are_refused(storage: Storage, name: str) -> None:
    for operation in (storage.read, storage.delete):
        with pytest.raises(ValueError):
            operation(name)


# -- the server on the object store -------------------------------------------------------------


@pytest.fixture
def app_settings(s3_config: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    return s3_config


def on_disk(app: Flask) -> set[str]:
    root = Path(app.config["UPLOADS_DIR"])
    return {p.name for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()


def named(app: Flask) -> set[str]:
    with app.app_context(), database().session() as session:
        return set(session.scalars(select(RequestDocument.stored_name)))


def test_the_server_keeps_documents_in_the_object_store_and_sweeps_it(
        app: Flask, client: FlaskClient, kiosk_request: tuple[str, str, str]  # noqa: F811
) -> None:
    storage = app.extensions["miz.storage"]
    assert isinstance(storage, S3Storage)
    code, token, slot = kiosk_request
    scan = png_bytes((80, 60))
    assert upload(client, code, token, slot, scan)[0] == 201
    [document] = named(app)
    assert storage.read(document) == scan
    assert on_disk(app) == set()  # nothing on the node's own disk
    orphan = storage.save(b"%PDF-1.7 nobody's\n%%EOF", "pdf")

    app.config["UPLOADS_SWEEP_AFTER_SECONDS"] = 3600
    result = app.test_cli_runner().invoke(args=["uploads", "sweep"])
    assert result.output.startswith("0 stored file(s) no row names and 0 half-written")
    assert names(storage) == {document, orphan}

    # (moto dates every unfinished upload in 2010, so this one is left only now)
    half = leave_half_written(storage)
    assert names(storage) == {document, orphan, half}
    app.config["UPLOADS_SWEEP_AFTER_SECONDS"] = 0
    result = app.test_cli_runner().invoke(args=["uploads", "sweep"])
    assert result.output.startswith("1 stored file(s) no row names and 1 half-written")
    assert names(storage) == {document}


def test_existing_documents_move_to_the_object_store_and_a_rerun_resumes(
        app: Flask, kiosk_request: tuple[str, str, str], s3_config: dict[str, Any]  # noqa: F811
) -> None:
    code, token, slot = kiosk_request
    local_settings = {**s3_config, "STORAGE": "local"}
    local = create_app({**{k: app.config[k] for k in ("DATABASE_URL", "SECRET_KEY",
                                                       "SMS_QUIET_HOURS")},
                        "INSTANCE_PATH": app.instance_path, "TESTING": True,
                        "SESSION_COOKIE_SECURE": False, **local_settings})
    scans = [png_bytes((40 + i, 30)) for i in range(3)]
    status, answer = upload(local.test_client(), code, token, slot, scans[0])
    assert status == 201, answer
    delivered = [local.extensions["miz.storage"].save(scan, "png") for scan in scans[1:]]
    documents = on_disk(app)
    assert documents == named(app) | set(delivered) and len(documents) == 3
    s3 = app.extensions["miz.storage"]
    assert names(s3) == set()

    refused = local.test_cli_runner().invoke(args=["uploads", "migrate-to-s3"])
    assert refused.exit_code != 0 and "MIZ_STORAGE=s3" in refused.output

    migrate = app.test_cli_runner()
    assert migrate.invoke(args=["uploads", "migrate-to-s3"]).output == (
        "3 file(s) copied, 0 already there, 0 local file(s) removed.\n")
    assert names(s3) == documents
    assert sorted(s3.read(name) for name in documents) == sorted(scans)

    first = sorted(documents)[0]
    s3.delete(first)  # as if the first run had stopped before it
    assert migrate.invoke(args=["uploads", "migrate-to-s3", "--remove-local"]).output == (
        "1 file(s) copied, 2 already there, 3 local file(s) removed.\n")
    assert names(s3) == documents and on_disk(app) == set()
    assert migrate.invoke(args=["uploads", "migrate-to-s3"]).output == (
        "0 file(s) copied, 0 already there, 0 local file(s) removed.\n")
