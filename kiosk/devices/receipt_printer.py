"""The kiosk's receipt printer: its `[printer]` table (`kiosk.config.PrinterConfig`) turned
into a transport of the shared ESC/POS driver (`shared.devices.escpos_printer`)."""

from __future__ import annotations

from kiosk.config import PrinterConfig
from shared.devices.escpos_printer import (
    FileTransport,
    NetworkTransport,
    ReceiptPrinter,
    SerialTransport,
    Transport,
    UsbTransport,
)


def transport_for(config: PrinterConfig) -> Transport:
    """The transport the `[printer]` table names (the configuration checked its keys)."""
    if config.backend == "usb":
        assert config.vendor_id is not None and config.product_id is not None
        return UsbTransport(config.vendor_id, config.product_id)
    if config.backend == "serial":
        return SerialTransport(config.url or "", config.baudrate)
    if config.backend == "network":
        return NetworkTransport(config.host or "", config.port)
    if config.backend == "file":
        assert config.path is not None
        return FileTransport(config.path)
    raise ValueError(f"unknown printer backend {config.backend!r}")


def open_printer(config: PrinterConfig) -> ReceiptPrinter:
    """The kiosk's printer; PrinterError when its backend cannot be used at all."""
    return ReceiptPrinter.open(transport_for(config), config.status_timeout)


def describe(config: PrinterConfig) -> str:
    """The printer's settings in one line, for the test page."""
    if config.backend == "usb":
        return f"usb {config.vendor_id:04x}:{config.product_id:04x}"
    if config.backend == "serial":
        return f"serial {config.url} ({config.baudrate} baud)"
    if config.backend == "network":
        return f"network {config.host}:{config.port}"
    return f"file {config.path}"
