"""Stand-ins for devices at the edge of the machine: a serial device on a pseudo-terminal (a
receipt printer answering status, or a QR scanner) and a network printer on a local socket.
Both answer the DLE EOT status queries with real status bytes of an Epson-compatible printer
and keep every other byte as what was printed."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty

DLE_EOT = b"\x10\x04"
ESC, GS = 0x1B, 0x1D

# Real status bytes of an Epson-compatible printer, for DLE EOT 1, 2 and 4.
READY = {1: 0x12, 2: 0x12, 4: 0x12}
PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x72}  # offline, stopped by paper end, paper sensor: none
PAPER_LOW = {1: 0x12, 2: 0x12, 4: 0x1E}  # near-end sensor only
COVER_OPEN = {1: 0x1A, 2: 0x16, 4: 0x12}  # offline, cover open


def command_length(buffer: bytes) -> int | None:
    """The length of the command (or the one byte of text) `buffer` starts with; None when
    more bytes must come first. The length-prefixed commands a receipt holds (`GS v 0` raster
    bands, `GS ( k` QR data) are measured whole, so that their binary payload is never read
    as a status query, as an ESC/POS printer's command parser would not either."""
    if not buffer:
        return None
    lead = buffer[0]
    if lead == ESC:
        return None if len(buffer) < 2 else 3 if buffer[1] in b"adJ3" else 2
    if lead != GS or len(buffer) < 2:
        return 1 if lead != GS else None
    sizes = {ord("v"): (8, lambda h: (h[4] + h[5] * 256) * (h[6] + h[7] * 256)),
             ord("("): (5, lambda h: h[3] + h[4] * 256)}
    if buffer[1] in sizes:
        head, payload = sizes[buffer[1]]
        return None if len(buffer) < head else head + payload(buffer)
    if buffer[1] == ord("V"):
        return None if len(buffer) < 3 else 4 if buffer[2] in (65, 66) else 3
    return 2


class StatusAnswerer:
    """Splits what a printer is sent into status queries (answered) and print data (kept)."""

    def __init__(self, replies: dict[int, int] | None) -> None:
        self.replies = dict(replies or {})
        self.queries: list[int] = []
        self.printed = bytearray()
        self._pending = b""
        self.lock = threading.Lock()

    def take(self, data: bytes) -> bytes:
        """Consume bytes sent to the printer; returns the answer bytes to send back."""
        answer = bytearray()
        with self.lock:
            buffer = self._pending + data
            while buffer:
                if buffer[:1] == DLE_EOT[:1] and len(buffer) < 3:
                    break
                if buffer[:2] == DLE_EOT:
                    self.queries.append(buffer[2])
                    if buffer[2] in self.replies:
                        answer.append(self.replies[buffer[2]])
                    buffer = buffer[3:]
                    continue
                size = command_length(buffer)
                if size is None or size > len(buffer):
                    break
                self.printed += buffer[:size]
                buffer = buffer[size:]
            self._pending = buffer
        return bytes(answer)

    def wait_printed(self, size: int, timeout: float = 5.0) -> bytes:
        """The print data once `size` bytes have arrived (or whatever came by `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.printed) < size and time.monotonic() < deadline:
            time.sleep(0.01)
        return bytes(self.printed)


class PtyDevice(StatusAnswerer):
    """A fake serial device behind a pseudo-terminal; the driver opens `path` (the slave side).

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
        """Bytes from the device to its reader (for scanners, or a stray late reply)."""
        os.write(self.master, data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        os.close(self.master)
        os.close(self._slave)


class SocketPrinter(StatusAnswerer):
    """A fake network printer on 127.0.0.1: one connection at a time, answering status.

    `jobs` has what each closed connection printed (status queries left out), one a job."""

    def __init__(self, replies: dict[int, int] | None = None) -> None:
        super().__init__(replies)
        self.jobs: list[bytes] = []
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
            start = len(self.printed)
            with connection:
                self._serve(connection)
            with self.lock:
                self.jobs.append(bytes(self.printed[start:]))

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

    @property
    def address(self) -> str:
        """"host:port", as a counter's printer is configured."""
        return f"127.0.0.1:{self.port}"

    def wait_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """The jobs once `count` connections have closed (or whatever came by `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.jobs) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.jobs)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.close()
