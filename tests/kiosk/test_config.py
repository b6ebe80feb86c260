"""Kiosk configuration files: the examples load, and every problem is named at once."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kiosk.config import ConfigError, KioskConfig, default_data_dir, load_config, parse_config
from tests.kiosk.fakes import kiosk_top, write_config

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "kiosk_config").glob("*.toml"))
PRINTER = {"backend": "file", "path": "out/receipts.bin", "paper_width_mm": 58, "qr": "image"}


def example(path: Path) -> KioskConfig:
    """An example of the repository, checked as written (git keeps no file's privacy: a
    kiosk's own copy must be `chmod 600`)."""
    return parse_config(tomllib.loads(path.read_text(encoding="utf-8")), path)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    return refused.value.problems


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_a_valid_configuration(path: Path) -> None:
    config = example(path)
    assert config.printer.backend in path.name
    assert config.public_base_url.startswith("https://")


def test_the_four_printer_backends_have_an_example() -> None:
    assert {example(p).printer.backend for p in EXAMPLES} == {"usb", "serial", "network",
                                                                   "file"}


def test_the_demo_example_reads_paths_beside_itself() -> None:
    demo = example(next(p for p in EXAMPLES if p.name == "example-file.toml"))
    root = EXAMPLES[0].parent
    assert demo.printer.path == root.parent / "var" / "kiosk-demo" / "receipts.escpos"
    assert demo.document_scanner.folder == root / "demo-scans"
    assert demo.document_scanner.max_upload_bytes == 10 * 1024 * 1024


def test_a_wrong_backend_is_named_with_the_file_and_the_choices(tmp_path: Path) -> None:
    path = write_config(tmp_path / "lobby.toml", kiosk_top(tmp_path),
                        printer={"backend": "lpt", "paper_width_mm": 80, "qr": "image"})
    assert problems_of(path) == [
        f'{path}: [printer] backend: must be one of usb, serial, network, file (got "lpt")']


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    top = kiosk_top(tmp_path, token=None, kiosk_id=120, server_url="miz.example",
                    colour="blue")
    path = write_config(tmp_path / "lobby.toml", top,
                        printer={"backend": "serial", "paper_width_mm": 60, "qr": "native",
                                 "host": "10.0.0.5", "baudrate": "fast"},
                        scaner={"backend": "serial"},
                        scanner={"backend": "keyboard", "keyboard_layout": "dvorak"},
                        document_scanner={"backend": "hot_folder", "grayscale": "yes"})
    found = problems_of(path)
    expected = [
        'server_url: must be a web address starting with http:// or https:// (got "miz.example")',
        "kiosk_id: must be a whole number from 1 to 99 (got 120)",
        "token: missing (this key is required)",
        "[printer] paper_width_mm: must be one of 58, 80 (got 60)",
        '[printer] baudrate: must be a whole number from 300 to 921600 (got "fast")',
        '[printer] host: only used with backend = "network" (this table has backend = "serial")',
        '[printer] url: missing (backend = "serial" needs it)',
        '[scanner] keyboard_layout: must be one of standard, legacy (got "dvorak")',
        '[document_scanner] grayscale: must be true or false (got "yes")',
        '[document_scanner] folder: missing (backend = "hot_folder" needs it)',
        "colour: unknown key (check the spelling)",
        "[scaner]: unknown table (check the spelling)",
    ]
    assert sorted(found) == sorted(f"{path}: {line}" for line in expected)


def test_a_missing_printer_table_and_keys_are_named(tmp_path: Path) -> None:
    path = write_config(tmp_path / "k.toml", {"kiosk_id": 3})
    found = problems_of(path)
    for key in ("server_url", "public_base_url", "token"):
        assert f"{path}: {key}: missing (this key is required)" in found
    assert f"{path}: [printer]: missing table (this table is required)" in found


def test_usb_needs_both_ids_and_hex_ids_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "usb.toml"
    write_config(path, kiosk_top(tmp_path), printer={"backend": "usb", "paper_width_mm": 58,
                                                     "qr": "image", "vendor_id": 0x0416})
    assert problems_of(path) == [f'{path}: [printer] product_id: missing (backend = "usb" needs it)']
    path.write_text(path.read_text() + "product_id = 0x5011\n")
    config = load_config(path)
    assert (config.printer.vendor_id, config.printer.product_id) == (0x0416, 0x5011)


def test_unreadable_files_are_reported_plainly(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.toml") == [f"{tmp_path / 'nope.toml'}: no such file"]
    broken = tmp_path / "broken.toml"
    broken.write_text('server_url = "http://x\n', encoding="utf-8")
    [problem] = problems_of(broken)
    assert problem.startswith(f"{broken}: not valid TOML:")


def test_data_dir_defaults_to_the_users_data_folder(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir() == tmp_path / "xdg" / "miz-kiosk"
    path = write_config(tmp_path / "k.toml", kiosk_top(tmp_path, data_dir=None),
                        printer={"backend": "file", "path": "out/receipts.bin",
                                 "paper_width_mm": 58, "qr": "image"})
    config = load_config(path)
    assert config.data_dir == tmp_path / "xdg" / "miz-kiosk"
    assert config.printer.path == tmp_path / "out" / "receipts.bin"
    assert config.scanner.backend == "none" and config.document_scanner.backend == "none"


def test_the_printer_profile_must_be_one_python_escpos_knows(tmp_path: Path) -> None:
    printer = {"backend": "file", "path": "x.bin", "paper_width_mm": 80, "qr": "native"}
    path = write_config(tmp_path / "k.toml", kiosk_top(tmp_path),
                        printer={**printer, "profile": "TM-T88V"})
    assert load_config(path).printer.profile == "TM-T88V"
    write_config(path, kiosk_top(tmp_path), printer={**printer, "profile": "Epson 9000"})
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: [printer] profile: must be a python-escpos printer profile")
    assert problem.endswith('(got "Epson 9000")')


def test_screen_idle_times() -> None:
    from kiosk.config import ScreenConfig

    examples = Path(__file__).resolve().parents[2] / "kiosk_config"
    assert example(examples / "example-file.toml").screen == ScreenConfig(60.0, 15.0)


# --- what keeps the token and citizens' data private -----------------------------------------

@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "http://miz.chht-isfahan.example",
                                 "http://127.0.0.1.example.com"])
def test_plain_http_to_another_machine_is_refused_naming_the_setting(
        tmp_path: Path, url: str) -> None:
    path = write_config(tmp_path / "k.toml", kiosk_top(tmp_path, server_url=url),
                        printer=PRINTER)
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: server_url: must start with https://")
    assert "127.0.0.1, ::1 or localhost" in problem and problem.endswith(f'(got "{url}")')


@pytest.mark.parametrize("url", ["https://miz.chht-isfahan.example", "http://127.0.0.1:5000",
                                 "http://127.8.0.1", "http://[::1]:8000", "http://localhost"])
def test_https_anywhere_and_http_on_this_machine_are_taken(tmp_path: Path, url: str) -> None:
    path = write_config(tmp_path / "k.toml", kiosk_top(tmp_path, server_url=url),
                        printer=PRINTER)
    assert load_config(path).server_url == url


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_file_others_may_read_is_refused_with_the_chmod_to_run(
        tmp_path: Path, mode: int) -> None:
    path = write_config(tmp_path / "k.toml", kiosk_top(tmp_path), printer=PRINTER)
    path.chmod(mode)
    [problem] = problems_of(path)
    assert problem == (f"{path}: other users may read or change this file (mode {mode:04o}), "
                       f"and it holds the kiosk's token: run `chmod 600 {path}` (as the user "
                       "the kiosk runs as)")
    path.chmod(0o600)
    assert load_config(path).token == "test-token"


def test_a_shared_file_is_named_with_its_other_problems(tmp_path: Path) -> None:
    path = write_config(tmp_path / "k.toml", kiosk_top(tmp_path, kiosk_id=0), printer=PRINTER)
    path.chmod(0o644)
    problems = problems_of(path)
    assert [p.split(": ")[1] for p in problems] == ["other users may read or change this file "
                                                    "(mode 0644), and it holds the kiosk's token",
                                                    "kiosk_id"]


def test_refused_records_keep_personal_data_30_days_unless_set(tmp_path: Path) -> None:
    path = write_config(tmp_path / "k.toml", kiosk_top(tmp_path), printer=PRINTER)
    assert load_config(path).refused_retention_days == 30
    write_config(path, kiosk_top(tmp_path, refused_retention_days=7), printer=PRINTER)
    assert load_config(path).refused_retention_days == 7
    write_config(path, kiosk_top(tmp_path, refused_retention_days=0), printer=PRINTER)
    [problem] = problems_of(path)
    assert problem.endswith("refused_retention_days: must be a whole number from 1 to 3650 "
                            "(got 0)")
