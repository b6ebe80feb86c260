"""Where uploaded documents live: behind a small interface, on local disk for now.

Files are stored under names the server chooses; a file is written to a temporary name
(`.partial`), flushed to disk, then renamed, so a crash never leaves half a document under a
real name. A file is stored before the transaction that names it commits, so a process
killed in between leaves a `.partial` or a file no row names: `files()` lists them for the
sweep (`usecases/stored_files.py`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

PARTIAL = ".partial"


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
