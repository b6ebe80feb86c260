"""Fakes at the edge of the machine for the kiosk's tests: a serial printer or scanner on a
pseudo-terminal, a network printer on a local socket, and a kiosk configuration file writer."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from pathlib import Path
from typing import Any

DLE_EOT = b"\x10\x04"

# Real status bytes of an Epson-compatible printer, for DLE EOT 1, 2 and 4.
READY = {1: 0x12, 2: 0x12, 4: 0x12}
PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x72}  # offline, stopped by paper end, paper sensor: none
PAPER_LOW = {1: 0x12, 2: 0x12, 4: 0x1E}  # near-end sensor only
COVER_OPEN = {1: 0x1A, 2: 0x16, 4: 0x12}  # offline, cover open


class _StatusAnswerer:
    """Splits what the kiosk sends into status queries (answered) and print data (kept)."""

    def __init__(self, replies: dict[int, int] | None) -> None:
        self.replies = dict(replies or {})
        self.queries: list[int] = []
        self.printed = bytearray()
        self._pending = b""
        self.lock = threading.Lock()

    def take(self, data: bytes) -> bytes:
        """Consume bytes from the kiosk; returns the answer bytes to send back."""
        answer = bytearray()
        with self.lock:
            buffer, self._pending = self._pending + data, b""
            while buffer:
                at = buffer.find(DLE_EOT)
                if at == -1:
                    cut = len(buffer) - 1 if buffer.endswith(b"\x10") else len(buffer)
                elif len(buffer) < at + 3:
                    cut = at
                else:
                    self.printed += buffer[:at]
                    self.queries.append(buffer[at + 2])
                    if buffer[at + 2] in self.replies:
                        answer.append(self.replies[buffer[at + 2]])
                    buffer = buffer[at + 3:]
                    continue
                self.printed += buffer[:cut]
                self._pending = buffer[cut:]
                break
        return bytes(answer)

    def wait_printed(self, size: int, timeout: float = 5.0) -> bytes:
        """The print data once `size` bytes have arrived (or whatever came by `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.printed) < size and time.monotonic() < deadline:
            time.sleep(0.01)
        return bytes(self.printed)


class PtyDevice(_StatusAnswerer):
    """A fake serial device behind a pseudo-terminal; the kiosk opens `path` (the slave side).

    As a printer, a thread reads the master side, answers DLE EOT n with the real status byte
    `replies[n]` (or nothing) and keeps every other byte in `printed`; as a scanner, `send`
    writes what the scanner read."""

    def __init__(self, replies: dict[int, int] | None = None) -> None:
        super().__init__(replies)
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no line discipline: 0x04 must not mean end-of-file
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            answer = self.take(data)
            if answer:
                os.write(self.master, answer)

    def send(self, data: bytes) -> None:
        """Bytes from the device to the kiosk (for scanners, or a stray late reply)."""
        os.write(self.master, data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)


class SocketPrinter(_StatusAnswerer):
    """A fake network printer on 127.0.0.1: one connection at a time, answering status."""

    def __init__(self, replies: dict[int, int] | None = None) -> None:
        super().__init__(replies)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            with connection:
                self._serve(connection)

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(0.05)
        while not self._stop.is_set():
            try:
                data = connection.recv(4096)
            except TimeoutError:
                continue
            if not data:
                return
            answer = self.take(data)
            if answer:
                connection.sendall(answer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.close()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, top: dict[str, Any], **tables: dict[str, Any]) -> Path:
    """Write a kiosk TOML file from plain dicts (None values are left out)."""
    lines = [f"{key} = {toml_value(value)}" for key, value in top.items() if value is not None]
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()
                  if value is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def kiosk_top(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """The top-level keys of a valid kiosk file, storing under `tmp_path`."""
    top = {"server_url": "http://127.0.0.1:9", "public_base_url": "https://miz.example.ir",
           "kiosk_id": 7, "token": "test-token", "data_dir": str(tmp_path / "data")}
    top.update(overrides)
    return top
