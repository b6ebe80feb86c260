"""Helpers for the kiosk's tests: a kiosk configuration file writer and its top-level keys.
(The printer and scanner stand-ins are in `tests.shared.fake_devices`.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(path: Path, top: dict[str, Any], **tables: dict[str, Any]) -> Path:
    """Write a kiosk TOML file from plain dicts (None values are left out), readable by its
    owner only (as the kiosk requires of a file holding its token)."""
    lines = [f"{key} = {toml_value(value)}" for key, value in top.items() if value is not None]
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()
                  if value is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def kiosk_top(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """The top-level keys of a valid kiosk file, storing under `tmp_path`."""
    top = {"server_url": "http://127.0.0.1:9", "public_base_url": "https://miz.example.ir",
           "kiosk_id": 7, "token": "test-token", "data_dir": str(tmp_path / "data")}
    top.update(overrides)
    return top
