"""Where uploaded documents live: behind a small interface, on local disk for now.

Files are stored under names the server chooses; a file is written to a temporary name,
flushed to disk, then renamed, so a crash never leaves half a document under a real name.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    def save(self, data: bytes, extension: str) -> str: ...
    def read(self, name: str) -> bytes: ...
    def delete(self, name: str) -> None: ...


class LocalStorage:
    """Documents on the local disk, spread over sub-folders by the first letters of the name."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        if not name.replace(".", "").isalnum() or name.startswith("."):
            raise ValueError(f"not a stored document name: {name!r}")
        return self.root / name[:2] / name

    def save(self, data: bytes, extension: str) -> str:
        name = f"{secrets.token_hex(16)}.{extension}"
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".partial")
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
