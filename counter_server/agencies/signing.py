"""Ed25519 signatures of replies: the agency signs the exact reply bytes, Miz verifies them.

A key is named by its *key id*; `key_id` derives one from the public key itself, so that a
new key never reuses the name of an old one. Public keys travel as PEM (SubjectPublicKeyInfo):
one `<key id>.pem` file each in a directory, or one YAML/JSON file mapping key ids to PEM text
(optionally under `keys:` — the shape the stand-in's `GET /keys` serves).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from pathlib import Path

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PublicKeys = Mapping[str, Ed25519PublicKey]


class SignatureProblem(ValueError):
    """A reply's signature cannot be trusted; the message says why (no reply content)."""


def key_id(public: Ed25519PublicKey) -> str:
    """A stable name for `public`: "ed25519-" and 16 hex digits of its SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def parse_public_key(pem: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError for anything else."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


class Signer:
    """An agency's signing key and its key id."""

    def __init__(self, private: Ed25519PrivateKey, name: str | None = None) -> None:
        self.private = private
        self.public = private.public_key()
        self.key_id = name or key_id(self.public)

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem_file(cls, path: str | Path, name: str | None = None) -> Signer:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key, name)

    def sign(self, body: bytes) -> str:
        """The base64 signature of `body`, as sent in X-Signature."""
        return base64.b64encode(self.private.sign(body)).decode("ascii")

    def private_pem(self) -> bytes:
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def published(self) -> dict[str, str]:
        """{key id: public PEM}: what `GET /keys` serves under "keys"."""
        return {self.key_id: public_pem(self.public)}


def load_public_keys(path: str | Path) -> dict[str, Ed25519PublicKey]:
    """The verification keys at `path`: a directory of `<key id>.pem` files, or a YAML/JSON
    file mapping key ids to PEM text (optionally under "keys"). ValueError naming the key id
    of anything unreadable."""
    source = Path(path)
    if source.is_dir():
        texts = {pem.stem: pem.read_text(encoding="ascii") for pem in sorted(source.glob("*.pem"))}
    else:
        document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        if isinstance(document, Mapping) and isinstance(document.get("keys"), Mapping):
            document = document["keys"]
        if not isinstance(document, Mapping):
            raise ValueError(f"{source}: expected a mapping of key ids to PEM public keys")
        texts = {str(name): str(pem) for name, pem in document.items()}
    keys = {}
    for name, text in texts.items():
        try:
            keys[name] = parse_public_key(text)
        except ValueError as exc:
            raise ValueError(f"{source}: key {name!r}: {exc}") from None
    return keys


def verify(keys: PublicKeys, name: str | None, signature: str, body: bytes) -> None:
    """Check `signature` (base64) of `body` by the key called `name`; SignatureProblem if it
    names no known key, is not base64, or does not verify."""
    public = keys.get(name or "")
    if public is None:
        raise SignatureProblem(f"signed with an unknown key {name!r}")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureProblem("the signature is not base64") from None
    try:
        public.verify(raw, body)
    except InvalidSignature:
        raise SignatureProblem(f"the signature does not verify with key {name!r}") from None
