"""`python -m kiosk`: the kiosk's command line.

    python -m kiosk --config FILE                  the touchscreen app, full screen, with the sync
                                                   in the background (MIZ_KIOSK_WINDOW=1080x1920
                                                   runs it in a window instead)
    python -m kiosk screenshots OUTDIR --config FILE
                                                   every screen with demo data, as PNG (no server,
                                                   no devices, an empty store; Xvfb if no DISPLAY)
    python -m kiosk print-test --config FILE       print the printer test page
    python -m kiosk reprint CODE --config FILE     print a receipt again: a tracking code (from
                                                   the local store, else from the server's public
                                                   tracking API) or a ticket id (local store)
    python -m kiosk sync --config FILE [--once]    push the outbox, pull the catalog, keep ticket
                                                   leases and send heartbeats, until SIGINT or
                                                   SIGTERM (the app runs the same in a thread);
                                                   --once: one round, then exit
    python -m kiosk verify QR-TEXT --config FILE   check a delivered document's seal offline,
                                                   with the seal keys and revocations the sync
                                                   keeps; prints its facts and the verdict

Exit status: 0 done (verify: the document is valid); 1 the printer refused or failed (the record stays saved); 2 a wrong
command line or configuration (every problem is listed); 3 nothing to reprint (unknown code,
or the server could not be asked); 4 `sync --once` could not finish its round (the server
unreachable, or refusing the kiosk's token): nothing is lost, the next round goes on;
verify: 5 revoked, 6 expired, 7 refused (changed, signed by another key, not a seal, or no
seal key yet).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.devices.receipt_printer import open_printer
from kiosk.local.store import KioskStore, ReceiptKind, StoredReceipt, StoreError
from kiosk.sync.api_client import ApiClient
from kiosk.usecases.receipts import (
    LookupFailed,
    build_receipt,
    fetch_request_values,
    render,
    test_page,
    to_plain,
    told_to_citizen,
)
from shared import tracking_codes
from shared.devices.escpos_printer import PrinterError
from shared.receipts import Receipt
from shared.text import to_ascii_digits

EXIT_OK, EXIT_PRINTER, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_SYNC_INCOMPLETE = 0, 1, 2, 3, 4
EXIT_REVOKED, EXIT_EXPIRED, EXIT_REFUSED = 5, 6, 7
VERIFY_EXITS = {"valid": EXIT_OK, "revoked": EXIT_REVOKED, "expired": EXIT_EXPIRED,
                "refused": EXIT_REFUSED}
CODE_CHARACTERS = frozenset("0123456789 -\u200c\u200e\u200f")


class Failure(Exception):
    """Ends the command with a message and an exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _parser() -> argparse.ArgumentParser:
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                        help="the kiosk's TOML file (see kiosk_config/example-*.toml)")
    parser = argparse.ArgumentParser(prog="python -m kiosk", parents=[config],
                                     description="Miz lobby kiosk.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("print-test", parents=[config], help="print the printer test page")
    reprint = commands.add_parser("reprint", parents=[config],
                                  help="print a request's receipt or a ticket again")
    reprint.add_argument("code", metavar="CODE",
                         help="a tracking code (16 digits, any digit script) or a ticket id")
    shots = commands.add_parser("screenshots", parents=[config],
                                help="render every screen with demo data to PNG files")
    shots.add_argument("outdir", metavar="OUTDIR", help="the folder for the PNG files")
    sync = commands.add_parser("sync", parents=[config],
                               help="sync with the server until stopped (SIGINT, SIGTERM)")
    sync.add_argument("--once", action="store_true", help="one round, then exit")
    verify = commands.add_parser("verify", parents=[config],
                                 help="check a delivered document's seal offline")
    verify.add_argument("text", metavar="QR-TEXT",
                        help="the seal QR's text: <address>/v/<id>#<digits>")
    return parser


def _config(args: argparse.Namespace) -> KioskConfig:
    path = getattr(args, "config", None)
    if path is None:
        raise Failure(EXIT_USAGE, "missing --config FILE: the kiosk's TOML configuration file")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise Failure(EXIT_USAGE, "The configuration cannot be used:\n"
                      + "\n".join(f"  {line}" for line in exc.problems)) from None


def _print(config: KioskConfig, receipt: Receipt) -> str:
    """Render and print; the line to show, or Failure(EXIT_PRINTER)."""
    try:
        data = render(receipt, config.printer)
        printer = open_printer(config.printer)
    except RuntimeError as exc:  # e.g. Pillow without raqm cannot shape Persian
        raise Failure(EXIT_PRINTER, f"cannot render the receipt: {exc}") from None
    except PrinterError as exc:
        raise Failure(EXIT_PRINTER, f"printer not available: {exc.detail}\n{exc.message}") from None
    try:
        status = printer.print_bytes(data)
    except PrinterError as exc:
        raise Failure(EXIT_PRINTER, f"not printed: {exc.detail}\n"
                      f"the citizen is told: {told_to_citizen(exc)}") from None
    finally:
        printer.close()
    return f"printed {len(data)} bytes; printer status before printing: {status.value}"


def print_test(config: KioskConfig) -> str:
    return "test page " + _print(config, test_page(config, datetime.now(UTC)))


def _is_tracking_code(text: str) -> bool:
    return bool(text) and set(to_ascii_digits(text)) <= CODE_CHARACTERS


def _local_or_server(store: KioskStore, config: KioskConfig, code: str
                     ) -> tuple[StoredReceipt, str]:
    stored = store.find_receipt("request", code)
    if stored is not None:
        return stored, "local store"
    try:
        values = fetch_request_values(ApiClient(config), code)
    except LookupFailed as exc:
        raise Failure(EXIT_NOT_FOUND, f"{code} is not in the local store and the server "
                      f"could not be asked: {exc}") from None
    if values is None:
        raise Failure(EXIT_NOT_FOUND, f"no request has the tracking code {code}, "
                      "neither in the local store nor on the server")
    return store.save_receipt("request", code, to_plain(values)), "server"


def _find(store: KioskStore, config: KioskConfig, text: str
          ) -> tuple[ReceiptKind, StoredReceipt, str]:
    if _is_tracking_code(text):
        try:
            code = tracking_codes.normalize(text)
        except tracking_codes.InvalidCode as exc:
            raise Failure(EXIT_USAGE, f"{text!r} is not a valid tracking code: {exc.message}"
                          ) from None
        return ("request", *_local_or_server(store, config, code))
    stored = store.find_receipt("ticket", text.strip())
    if stored is None:
        raise Failure(EXIT_NOT_FOUND, f"no ticket {text!r} in this kiosk's local store "
                      "(tickets are reprinted only by the kiosk that printed them)")
    return "ticket", stored, "local store"


def reprint(config: KioskConfig, text: str) -> str:
    try:
        store = KioskStore(config.data_dir)
    except (StoreError, OSError) as exc:
        raise Failure(EXIT_USAGE, f"cannot open the local store: {exc}") from None
    with store:
        kind, stored, origin = _find(store, config, text)
        try:
            receipt = build_receipt(kind, stored.values)
        except (TypeError, ValueError) as exc:
            raise Failure(EXIT_NOT_FOUND, f"the stored receipt cannot be rebuilt: {exc}") from None
        line = _print(config, receipt)
        store.mark_printed(kind, stored.key)
    return f"{kind} {stored.key} (from the {origin}) {line}"


def verify(config: KioskConfig, text: str) -> int:
    """Check a seal offline; print its facts and the verdict; the exit status by outcome."""
    from kiosk.local.store import clock_offset
    from kiosk.usecases.seal_check import check

    try:
        store = KioskStore(config.data_dir)
    except (StoreError, OSError) as exc:
        raise Failure(EXIT_USAGE, f"cannot open the local store: {exc}") from None
    with store:
        now = datetime.now(UTC) + timedelta(seconds=clock_offset(store))
        verdict = check(config, store, text, now)
    print(f"{verdict.outcome}: {verdict.headline}")
    if verdict.reason:
        print(verdict.reason)
    if verdict.code:
        print(f"({verdict.code})")
    for label, value in verdict.lines():
        print(f"{label}: {value}")
    print(verdict.freshness())
    return VERIFY_EXITS[verdict.outcome]


def _log_to_stderr() -> None:
    """INFO lines on stderr, national codes and mobile numbers redacted."""
    from kiosk.sync.redaction import RedactPersonalData

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactPersonalData())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def sync(config: KioskConfig, once: bool) -> int:
    """Run the sync alone; a clean stop on SIGINT/SIGTERM (after the record in flight)."""
    from kiosk.sync.engine import SyncEngine

    _log_to_stderr()
    try:
        store = KioskStore(config.data_dir)
    except (StoreError, OSError) as exc:
        raise Failure(EXIT_USAGE, f"cannot open the local store: {exc}") from None
    with store:
        engine = SyncEngine(config, store)
        if once:
            report = engine.run_once()
            print(report.summary())
            return EXIT_OK if report.ok else EXIT_SYNC_INCOMPLETE
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        engine.run_forever(stop)
    print("sync stopped")
    return EXIT_OK


def run_app(config: KioskConfig) -> int:
    """The touchscreen app (Kivy is imported only here)."""
    from kiosk.app.boot import prepare_kivy, window_size

    size = window_size()
    prepare_kivy(fullscreen=size is None, size=size)
    from kiosk.app.app import run  # Kivy opens its window on this import

    try:
        return run(config)
    except (StoreError, OSError) as exc:
        raise Failure(EXIT_USAGE, f"cannot start the kiosk: {exc}") from None


def screenshots(config: KioskConfig, outdir: str) -> int:
    """Every screen with demo data, as PNG files in `outdir`."""
    from pathlib import Path

    from kiosk.app.screenshots import render_all
    from kiosk.app.xvfb import NoDisplay

    try:
        written = render_all(config, Path(outdir))
    except NoDisplay as exc:
        raise Failure(EXIT_USAGE, f"no display for the screenshots: {exc}") from None
    for path in written:
        print(path)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = _config(args)
        if args.command is None:
            return run_app(config)
        if args.command == "screenshots":
            return screenshots(config, args.outdir)
        if args.command == "sync":
            return sync(config, args.once)
        if args.command == "verify":
            return verify(config, args.text)
        commands: dict[str, Any] = {"print-test": lambda: print_test(config),
                                    "reprint": lambda: reprint(config, args.code)}
        print(commands[args.command]())
    except Failure as failure:
        print(failure.message, file=sys.stderr)
        return failure.status
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
