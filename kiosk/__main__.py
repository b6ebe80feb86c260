"""`python -m kiosk`: the kiosk's command line.

    python -m kiosk --config FILE                  the touchscreen app (arrives with the kiosk issue)
    python -m kiosk print-test --config FILE       print the printer test page
    python -m kiosk reprint CODE --config FILE     print a receipt again: a tracking code (from
                                                   the local store, else from the server's public
                                                   tracking API) or a ticket id (local store)

Exit status: 0 done; 1 the printer refused or failed (the record stays saved); 2 a wrong
command line or configuration (every problem is listed); 3 nothing to reprint (unknown code,
or the server could not be asked).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.printer import PrinterError, ReceiptPrinter
from kiosk.printing import (
    LookupFailed,
    build_receipt,
    fetch_request_values,
    render,
    test_page,
    to_plain,
)
from kiosk.store import KioskStore, ReceiptKind, StoredReceipt, StoreError
from shared import tracking
from shared.receipts import Receipt
from shared.text import to_ascii_digits

EXIT_OK, EXIT_PRINTER, EXIT_USAGE, EXIT_NOT_FOUND = 0, 1, 2, 3
CODE_CHARACTERS = frozenset("0123456789 -\u200c\u200e\u200f")
APP_NOT_YET = (
    "The kiosk's touchscreen app is not part of this version: it arrives with the kiosk issue.\n"
    "For now this command can print the printer test page (print-test) and reprint receipts "
    "(reprint CODE)."
)


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
        printer = ReceiptPrinter.from_config(config.printer)
    except RuntimeError as exc:  # e.g. Pillow without raqm cannot shape Persian
        raise Failure(EXIT_PRINTER, f"cannot render the receipt: {exc}") from None
    except PrinterError as exc:
        raise Failure(EXIT_PRINTER, f"printer not available: {exc.detail}\n{exc.message}") from None
    try:
        status = printer.print_bytes(data)
    except PrinterError as exc:
        raise Failure(EXIT_PRINTER, f"not printed: {exc.detail}\n"
                      f"the citizen is told: {exc.message}") from None
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
        values = fetch_request_values(config, code)
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
            code = tracking.normalize(text)
        except tracking.InvalidCode as exc:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = _config(args)
        if args.command is None:
            raise Failure(EXIT_USAGE, APP_NOT_YET)
        commands: dict[str, Any] = {"print-test": lambda: print_test(config),
                                    "reprint": lambda: reprint(config, args.code)}
        print(commands[args.command]())
    except Failure as failure:
        print(failure.message, file=sys.stderr)
        return failure.status
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
