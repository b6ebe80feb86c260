"""Kiosk configuration: one TOML file per kiosk (documented examples in `kiosk_config/`).

`load_config(path)` reads the file and checks every key at once: an unknown key, a missing
required key or a value of the wrong kind is reported by name with the file, in plain words,
for example

    kiosk_config/lobby.toml: [printer] backend: must be one of usb, serial, network, file (got "lpt")

and `ConfigError.problems` lists all of them, so an operator fixes the file in one go.

Relative paths in the file (`data_dir`, `[printer] path`, folders) are relative to the folder
the file is in. `data_dir` defaults to `$XDG_DATA_HOME/miz-kiosk`, i.e.
`~/.local/share/miz-kiosk` of the user the kiosk runs as (no root needed).

The file holds the kiosk's token, so `load_config` refuses one that other users may read or
change (the message says the `chmod` to run), and `server_url` must be `https://` unless the
server is on this very machine (loopback): plain HTTP would carry the token and citizens'
data in the clear. `refused_retention_days` says how long the personal data of records the
server refused for good stays in the local store, for staff to look at.
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PRINTER_BACKENDS = ("usb", "serial", "network", "file")
PAPER_WIDTHS = (58, 80)
QR_MODES = ("native", "image")
SCANNER_BACKENDS = ("none", "serial", "keyboard")
KEYBOARD_LAYOUTS = ("standard", "legacy")
DOCUMENT_BACKENDS = ("none", "sane", "hot_folder", "fake")

# Options that belong to one backend, and those of them that backend cannot do without.
PRINTER_OPTIONS = {"usb": ("vendor_id", "product_id"), "serial": ("url", "baudrate"),
                   "network": ("host", "port"), "file": ("path",)}
PRINTER_REQUIRED = {"usb": ("vendor_id", "product_id"), "serial": ("url",),
                    "network": ("host",), "file": ("path",)}
SCANNER_OPTIONS = {"none": (), "serial": ("url", "baudrate"), "keyboard": ("keyboard_layout",)}
SCANNER_REQUIRED = {"serial": ("url",)}
DOCUMENT_OPTIONS = {"none": (), "sane": ("device", "resolution"),
                    "hot_folder": ("folder", "settle_seconds", "timeout_seconds"),
                    "fake": ("folder",)}
DOCUMENT_REQUIRED = {"hot_folder": ("folder",), "fake": ("folder",)}

MAX_KIOSK_ID = 99
DEFAULT_REFUSED_RETENTION_DAYS = 30
LOOPBACK_NAMES = ("localhost",)


def default_data_dir() -> Path:
    """Where the kiosk keeps its local store when `data_dir` is not set."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "miz-kiosk"


class ConfigError(Exception):
    """A configuration file that cannot be used; `problems` lists every reason, one a line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PrinterConfig:
    """The `[printer]` table: how to reach the receipt printer and what it can do."""

    backend: str
    paper_width_mm: int
    qr: str
    vendor_id: int | None = None
    product_id: int | None = None
    url: str | None = None
    baudrate: int = 9600
    host: str | None = None
    port: int = 9100
    path: Path | None = None
    status_timeout: float = 0.5
    profile: str = "default"


@dataclass(frozen=True)
class ScannerConfig:
    """The `[scanner]` table: the QR/barcode reader (none when the table is left out)."""

    backend: str = "none"
    url: str | None = None
    baudrate: int = 9600
    keyboard_layout: str = "standard"


@dataclass(frozen=True)
class DocumentScannerConfig:
    """The `[document_scanner]` table: where scanned pages come from (none when left out)."""

    backend: str = "none"
    device: str | None = None
    resolution: int = 200
    folder: Path | None = None
    settle_seconds: float = 1.0
    timeout_seconds: float = 120.0
    grayscale: bool = False
    max_upload_mb: float = 10.0

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


@dataclass(frozen=True)
class ScreenConfig:
    """The `[screen]` table: when an unattended screen asks «هنوز اینجا هستید؟» and resets."""

    idle_seconds: float = 60.0
    idle_countdown_seconds: float = 15.0


@dataclass(frozen=True)
class KioskConfig:
    """One kiosk's whole configuration."""

    source: Path
    server_url: str
    public_base_url: str
    kiosk_id: int
    token: str
    data_dir: Path
    printer: PrinterConfig
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    document_scanner: DocumentScannerConfig = field(default_factory=DocumentScannerConfig)
    screen: ScreenConfig = field(default_factory=ScreenConfig)
    seal_public_key: str | None = None  # PEM; None: the key pinned at the first sync
    a4_printer: str | None = None  # a CUPS queue for delivered documents' PDFs
    refused_retention_days: int = DEFAULT_REFUSED_RETENTION_DAYS


class _Bad(Exception):
    """A value that fails its check; the message says what it must be."""


def _shown(value: Any) -> str:
    """A value as the operator wrote it in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def one_of(*choices: Any) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in choices:
            raise _Bad(f"must be one of {', '.join(str(c) for c in choices)} (got {_shown(value)})")
        return value
    return check


def whole(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Bad(f"must be a whole number from {low} to {high} (got {_shown(value)})")
        return value
    return check


def number(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not low <= value <= high:
            raise _Bad(f"must be a number from {low:g} to {high:g} (got {_shown(value)})")
        return float(value)
    return check


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"must be a non-empty text in quotes (got {_shown(value)})")
    return value.strip()


def web_address(value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _Bad(f"must be a web address starting with http:// or https:// (got {_shown(value)})")
    return value.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_address(value: Any) -> str:
    """A web address the kiosk may send its token to: https, or http to this machine only."""
    address = web_address(value)
    parts = urlsplit(address)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise _Bad("must start with https:// (plain http:// is allowed only for a server on "
                   "this machine: 127.0.0.1, ::1 or localhost), since the kiosk's token and "
                   f"citizens' data would cross the network unencrypted (got {_shown(value)})")
    return address


def printer_profile(value: Any) -> str:
    from escpos.capabilities import CAPABILITIES

    if not isinstance(value, str) or value not in CAPABILITIES["profiles"]:
        raise _Bad('must be a python-escpos printer profile such as "TM-T20II", "TM-T88V" '
                   f'or "default" (got {_shown(value)})')
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"must be true or false (got {_shown(value)})")
    return value


class _Table:
    """Reads one TOML table, recording each problem by key name."""

    def __init__(self, raw: dict[str, Any], label: str, problems: list[str], prefix: str,
                 base: Path) -> None:
        self.raw, self.label, self.problems = raw, label, problems
        self.prefix, self.base = prefix, base
        self.seen: set[str] = set()

    def problem(self, key: str, message: str) -> None:
        where = f"{self.label} {key}" if self.label else key
        self.problems.append(f"{self.prefix}{where}: {message}")

    def take(self, key: str, check: Callable[[Any], Any], *, required: bool = False,
             default: Any = None) -> Any:
        self.seen.add(key)
        if key not in self.raw:
            if required:
                self.problem(key, "missing (this key is required)")
            return default
        try:
            return check(self.raw[key])
        except _Bad as exc:
            self.problem(key, str(exc))
            return default

    def path(self, key: str, *, required: bool = False, default: Path | None = None
             ) -> Path | None:
        value = self.take(key, text, required=required)
        if value is None:
            return default
        path = Path(value).expanduser()
        return path if path.is_absolute() else Path(os.path.normpath(self.base / path))

    def options(self, backend: str | None, options: Mapping[str, tuple[str, ...]],
                required: Mapping[str, tuple[str, ...]]) -> None:
        """Report options of another backend, and missing options of this one."""
        if backend is None:
            self.seen.update(k for keys in options.values() for k in keys)
            return
        for other, keys in options.items():
            for key in keys:
                if other != backend and key in self.raw and key not in options[backend]:
                    self.seen.add(key)
                    self.problem(key, f'only used with backend = "{other}" '
                                      f'(this table has backend = "{backend}")')
        for key in required.get(backend, ()):
            if key not in self.raw:
                self.problem(key, f'missing (backend = "{backend}" needs it)')

    def finish(self) -> None:
        for key in self.raw:
            if key not in self.seen:
                kind = "table" if isinstance(self.raw[key], dict) else "key"
                shown = f"[{key}]" if kind == "table" and not self.label else key
                self.problems.append(f"{self.prefix}{self.label + ' ' if self.label else ''}"
                                     f"{shown}: unknown {kind} (check the spelling)")


def _subtable(top: _Table, name: str, required: bool) -> _Table | None:
    top.seen.add(name)
    raw = top.raw.get(name)
    if raw is None:
        if required:
            top.problems.append(f"{top.prefix}[{name}]: missing table (this table is required)")
        return None
    if not isinstance(raw, dict):
        top.problem(name, f"must be a table [{name}] (got {_shown(raw)})")
        return None
    return _Table(raw, f"[{name}]", top.problems, top.prefix, top.base)


def _printer(table: _Table | None) -> PrinterConfig | None:
    if table is None:
        return None
    backend = table.take("backend", one_of(*PRINTER_BACKENDS), required=True)
    config = PrinterConfig(
        backend=backend or "file",
        paper_width_mm=table.take("paper_width_mm", one_of(*PAPER_WIDTHS), required=True) or 80,
        qr=table.take("qr", one_of(*QR_MODES), required=True) or "image",
        vendor_id=table.take("vendor_id", whole(1, 0xFFFF)),
        product_id=table.take("product_id", whole(1, 0xFFFF)),
        url=table.take("url", text),
        baudrate=table.take("baudrate", whole(300, 921600), default=9600),
        host=table.take("host", text),
        port=table.take("port", whole(1, 65535), default=9100),
        path=table.path("path"),
        status_timeout=table.take("status_timeout", number(0.05, 10), default=0.5),
        profile=table.take("profile", printer_profile, default="default"),
    )
    table.options(backend, PRINTER_OPTIONS, PRINTER_REQUIRED)
    table.finish()
    return config


def _scanner(table: _Table | None) -> ScannerConfig:
    if table is None:
        return ScannerConfig()
    backend = table.take("backend", one_of(*SCANNER_BACKENDS), required=True)
    config = ScannerConfig(
        backend=backend or "none",
        url=table.take("url", text),
        baudrate=table.take("baudrate", whole(300, 921600), default=9600),
        keyboard_layout=table.take("keyboard_layout", one_of(*KEYBOARD_LAYOUTS),
                                   default="standard"),
    )
    table.options(backend, SCANNER_OPTIONS, SCANNER_REQUIRED)
    table.finish()
    return config


def _document_scanner(table: _Table | None) -> DocumentScannerConfig:
    if table is None:
        return DocumentScannerConfig()
    backend = table.take("backend", one_of(*DOCUMENT_BACKENDS), required=True)
    config = DocumentScannerConfig(
        backend=backend or "none",
        device=table.take("device", text),
        resolution=table.take("resolution", whole(75, 1200), default=200),
        folder=table.path("folder"),
        settle_seconds=table.take("settle_seconds", number(0.1, 60), default=1.0),
        timeout_seconds=table.take("timeout_seconds", number(1, 3600), default=120.0),
        grayscale=table.take("grayscale", boolean, default=False),
        max_upload_mb=table.take("max_upload_mb", number(0.5, 100), default=10.0),
    )
    table.options(backend, DOCUMENT_OPTIONS, DOCUMENT_REQUIRED)
    table.finish()
    return config


def _screen(table: _Table | None) -> ScreenConfig:
    if table is None:
        return ScreenConfig()
    config = ScreenConfig(
        idle_seconds=table.take("idle_seconds", number(10, 3600), default=60.0),
        idle_countdown_seconds=table.take("idle_countdown_seconds", number(3, 120),
                                          default=15.0))
    table.finish()
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a folder, not a configuration file"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot be read: {exc}"]) from None


def _seal_key(top: _Table) -> str | None:
    """The PEM of `seal_public_key` (a file), checked to be a P-256 public key."""
    from shared.seals import load_public_key

    path = top.path("seal_public_key")
    if path is None:
        return None
    try:
        pem = path.read_text("ascii")
        load_public_key(pem)
    except (OSError, UnicodeError, ValueError) as exc:
        top.problem("seal_public_key", f"{path} is not the seal key's public key (PEM): "
                                       f"{type(exc).__name__}")
        return None
    return pem


def parse_config(raw: dict[str, Any], source: Path) -> KioskConfig:
    """Check a parsed TOML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    top = _Table(raw, "", problems, f"{source}: ", source.parent.resolve())
    values = {
        "server_url": top.take("server_url", server_address, required=True),
        "public_base_url": top.take("public_base_url", web_address, required=True),
        "kiosk_id": top.take("kiosk_id", whole(1, MAX_KIOSK_ID), required=True),
        "token": top.take("token", text, required=True),
        "data_dir": top.path("data_dir", default=default_data_dir()),
        "seal_public_key": _seal_key(top),
        "a4_printer": top.take("a4_printer", text),
        "refused_retention_days": top.take("refused_retention_days", whole(1, 3650),
                                           default=DEFAULT_REFUSED_RETENTION_DAYS),
    }
    printer = _printer(_subtable(top, "printer", required=True))
    scanner = _scanner(_subtable(top, "scanner", required=False))
    documents = _document_scanner(_subtable(top, "document_scanner", required=False))
    screen = _screen(_subtable(top, "screen", required=False))
    top.finish()
    if problems or printer is None:
        raise ConfigError(problems)
    return KioskConfig(source=source, printer=printer, scanner=scanner,
                       document_scanner=documents, screen=screen, **values)


def private_file_problem(path: Path) -> str | None:
    """Why `path`, which holds the kiosk's token, is not private enough (None when it is):
    no one but its owner may read or change it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None  # reading it reports the problem
    if not mode & 0o077:
        return None
    return (f"{path}: other users may read or change this file (mode {mode:04o}), and it holds "
            f"the kiosk's token: run `chmod 600 {path}` (as the user the kiosk runs as)")


def load_config(path: str | os.PathLike[str]) -> KioskConfig:
    """Read and check a kiosk's TOML file; raise ConfigError listing every problem (a file
    that others may read is one of them)."""
    source = Path(path)
    raw = _read_toml(source)
    private = private_file_problem(source)
    try:
        config = parse_config(raw, source)
    except ConfigError as exc:
        raise ConfigError(([private] if private else []) + exc.problems) from None
    if private:
        raise ConfigError([private])
    return config
