"""Where uploaded documents live: behind a small interface, on local disk (`LocalStorage`)
or in an S3-compatible object store (`S3Storage`, `MIZ_STORAGE=s3`) that every server node
shares.

Files are stored under names the server chooses, and never half under a real name: on disk
a file is written to a temporary name (`.partial`), flushed, then renamed; in the object
store a small file is one checked `PUT` and a large one a multipart upload, which is no
object until it completes. A file is stored before the transaction that names it commits,
so a process killed in between leaves a `.partial` (on disk) or an unfinished multipart
upload (listed as `<name>.partial`), or a file no row names: `files()` lists them for the
sweep (`usecases/stored_files.py`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

PARTIAL = ".partial"
LOCAL, S3 = "local", "s3"


@dataclass(frozen=True)
class StoredFile:
    """A file in the storage: its name (a `.partial` one is half-written) and its age."""

    name: str
    modified: datetime

    @property
    def partial(self) -> bool:
        return self.name.endswith(PARTIAL)


class Storage(Protocol):
    def save(self, data: bytes, extension: str) -> str: ...
    def read(self, name: str) -> bytes: ...
    def delete(self, name: str) -> None: ...
    def files(self) -> Iterator[StoredFile]: ...


def new_name(extension: str) -> str:
    """A fresh stored name: 32 random hex digits and the extension."""
    return f"{secrets.token_hex(16)}.{extension}"


def check_name(name: str) -> str:
    """`name` if it is one a storage could have chosen (letters, digits, dots), else
    ValueError: a stored name never reaches outside the storage."""
    if not name.replace(".", "").isalnum() or name.startswith("."):
        raise ValueError(f"not a stored document name: {name!r}")
    return name


class LocalStorage:
    """Documents on the local disk, spread over sub-folders by the first letters of the name."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root / name[:2] / check_name(name)

    def save(self, data: bytes, extension: str) -> str:
        name = new_name(extension)
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(PARTIAL)
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        return name

    def read(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def files(self) -> Iterator[StoredFile]:
        """Every file stored, half-written ones included."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.is_file():
                    yield StoredFile(path.name,
                                     datetime.fromtimestamp(path.stat().st_mtime, UTC))


class S3Storage:
    """Documents in one bucket of an S3-compatible object store, under `prefix` + name.

    Every write carries its SHA-256, which the store checks before keeping the object. A
    file of `multipart_bytes` or more goes up in parts; until the upload completes it is no
    object, and `files()` lists it as `<name>.partial` (aborted by `delete`)."""

    PART_BYTES = 8 * 1024 * 1024  # above S3's 5 MiB least part

    def __init__(self, client: Any, bucket: str, prefix: str = "",
                 multipart_bytes: int = 16 * 1024 * 1024):
        self.client, self.bucket, self.prefix = client, bucket, prefix
        self.multipart_bytes = multipart_bytes

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> S3Storage:
        """The store the `S3_…` settings name; credentials from `S3_ACCESS_KEY_ID` and
        `S3_SECRET_ACCESS_KEY` when set, else boto3's usual chain (`AWS_…` variables,
        files, instance roles)."""
        import boto3  # the `s3` extra: only a server that stores in S3 needs it
        from botocore.config import Config

        client = boto3.client(
            "s3", endpoint_url=config.get("S3_ENDPOINT") or None,
            region_name=config.get("S3_REGION") or "us-east-1",
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"},
                          s3={"addressing_style": "path"}))
        return cls(client, config["S3_BUCKET"], config.get("S3_PREFIX") or "")

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def save(self, data: bytes, extension: str) -> str:
        name = new_name(extension)
        self.save_as(name, data)
        return name

    def save_as(self, name: str, data: bytes) -> None:
        """Store `data` under `name` (the migration keeps the names rows already hold)."""
        if len(data) >= self.multipart_bytes:
            self._save_in_parts(self._key(name), data)
        else:
            self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data,
                                   ChecksumSHA256=_sha256(data))

    def _save_in_parts(self, key: str, data: bytes) -> None:
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                     ChecksumAlgorithm="SHA256")["UploadId"]
        parts = []
        for number, start in enumerate(range(0, len(data), self.PART_BYTES), start=1):
            chunk = data[start:start + self.PART_BYTES]
            digest = _sha256(chunk)
            answer = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload,
                                             PartNumber=number, Body=chunk,
                                             ChecksumSHA256=digest)
            parts.append({"PartNumber": number, "ETag": answer["ETag"],
                          "ChecksumSHA256": digest})
        self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                              MultipartUpload={"Parts": parts})

    def read(self, name: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(name) from None
        return answer["Body"].read()

    def size(self, name: str) -> int | None:
        """The stored file's size in bytes; None when there is none under `name`."""
        try:
            return int(self.client.head_object(Bucket=self.bucket,
                                               Key=self._key(name))["ContentLength"])
        except self.client.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def delete(self, name: str) -> None:
        if name.endswith(PARTIAL):
            self._abort(self._key(name.removesuffix(PARTIAL)))
        else:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def _abort(self, key: str) -> None:
        for upload in self._uploads(key):
            if upload["Key"] == key:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                   UploadId=upload["UploadId"])

    def _uploads(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_multipart_uploads")
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            yield from page.get("Uploads", [])

    def files(self) -> Iterator[StoredFile]:
        """Every object under the prefix, and every unfinished upload as `<name>.partial`."""
        start = len(self.prefix)
        pages = self.client.get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                yield StoredFile(item["Key"][start:], item["LastModified"])
        for upload in self._uploads(self.prefix):
            yield StoredFile(upload["Key"][start:] + PARTIAL, upload["Initiated"])


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def storage_from_config(config: Mapping[str, Any]) -> Storage:
    """The storage `STORAGE` names: "local" (`UPLOADS_DIR`) or "s3" (`S3_…`)."""
    kind = str(config.get("STORAGE") or LOCAL).lower()
    if kind == S3:
        return S3Storage.from_config(config)
    if kind != LOCAL:
        raise ValueError(f"MIZ_STORAGE must be {LOCAL!r} or {S3!r}, not {kind!r}")
    return LocalStorage(config["UPLOADS_DIR"])
