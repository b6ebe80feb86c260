"""What every use case works with (`KioskParts`: the configuration, the local store, the
devices, the server, the catalog, the clock) and the few small rules they share."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk.config import KioskConfig
from kiosk.devices.document_scanner import DocumentScanner
from kiosk.local.catalog_cache import CatalogCache
from kiosk.local.store import LAST_CONTACT, KioskStore, clock_offset
from kiosk.sync.api_client import ApiClient, Reply, parse_time
from kiosk.sync.policy import KioskPolicy
from kiosk.usecases.errors import KioskError
from shared import tracking_codes
from shared.catalog.schema import Catalog, ServiceSpec
from shared.devices.escpos_printer import ReceiptPrinter

SERVICE_NOT_FOUND = "خدمتی با این شناسه در فهرست خدمات نیست."


@dataclass(frozen=True)
class KioskParts:
    """One kiosk's configuration, store, devices (None: not there) and server connection.

    `notify` is called after each new record (the app passes `SyncEngine.wake`)."""

    config: KioskConfig
    store: KioskStore
    printer: ReceiptPrinter | None
    document_scanner: DocumentScanner | None
    api: ApiClient
    catalogs: CatalogCache
    policy: KioskPolicy
    clock: Callable[[], datetime]
    notify: Callable[[], None]

    def server_now(self) -> datetime:
        """The kiosk's clock corrected by the last measured offset (the server's time)."""
        return self.clock() + timedelta(seconds=clock_offset(self.store))

    def in_touch(self) -> bool:
        """Whether the server answered recently enough for the kiosk to number tickets."""
        contact = parse_time(self.store.state(LAST_CONTACT))
        return contact is not None and self.clock() - contact <= self.policy.max_offline

    def note_contact(self, reply: Reply) -> None:
        """Remember that the server answered (the status bar and ticket numbering read it)."""
        self.store.set_state({LAST_CONTACT: reply.received_at.isoformat()})


def new_client_id() -> str:
    """A record's idempotency key: the server takes a second delivery as the same record."""
    return str(uuid.uuid4())


def normalized_code(text: str) -> str:
    """A tracking code as the server writes it; KioskError with the Persian reason if invalid."""
    try:
        return tracking_codes.normalize(text)
    except tracking_codes.InvalidCode as exc:
        raise KioskError(exc.message, exc.code) from None


def service_spec(catalog: Catalog, slug: str) -> ServiceSpec:
    """The service `slug` of the catalog; KioskError when there is none."""
    spec = catalog.service(slug)
    if spec is None:
        raise KioskError(SERVICE_NOT_FOUND, f"unknown service {slug!r}")
    return spec
