"""The SMS provider's stand-in served over real HTTP in a thread, for tests that send SMS.

    from tests.sms_standin import sms_standin_fixture  # noqa: F401 (sms_standin)

`sms_standin` is a running `SmsStandinServer` whose 'timeout' fault hangs 2 s;
`.provider(timeout=…)` is a real `Kavenegar` pointed at it, `.provider(timeout=…, kind="http")`
a real `GenericHttp` pointed at its generic protocol; `.set_faults()`,
`.reset_faults()`, `.stats()` and `.messages()` go through its admin endpoints over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests

from counter_server.sms.generic import GenericHttp
from counter_server.sms.kavenegar import Kavenegar
from counter_server.sms.standin import GENERIC_PREFIX, StandinState, create_standin
from tests.served import Served

API_KEY = "test-sms-key-91c2"


class SmsStandinServer:
    """The stand-in on a free port of 127.0.0.1, from `start()` to `stop()`."""

    def __init__(self, faults: Mapping[str, Any] | None = None) -> None:
        self.app = create_standin(API_KEY, {"hang_seconds": 2.0, **(faults or {})})
        self.state: StandinState = self.app.extensions["miz.sms_standin"]
        self.served = Served(self.app, self.state.closing)

    @property
    def url(self) -> str:
        return self.served.url

    def start(self) -> SmsStandinServer:
        self.served.start()
        return self

    def stop(self) -> None:
        self.served.stop()

    def __enter__(self) -> SmsStandinServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def provider(self, timeout: float = 5.0,
                 kind: str = "kavenegar") -> Kavenegar | GenericHttp:
        provider: Kavenegar | GenericHttp = \
            GenericHttp(API_KEY, "10004346", self.url + GENERIC_PREFIX, timeout) \
            if kind == "http" else Kavenegar(API_KEY, "10004346", self.url, timeout)
        self.served.on_stop.append(provider.close)
        return provider

    def set_faults(self, plan: Mapping[str, Any]) -> dict[str, Any]:
        response = requests.post(self.url + "/_faults", json=dict(plan), timeout=5)
        response.raise_for_status()
        return response.json()

    def reset_faults(self) -> dict[str, Any]:
        return requests.delete(self.url + "/_faults", timeout=5).json()

    def stats(self) -> dict[str, Any]:
        return requests.get(self.url + "/_stats", timeout=5).json()

    def messages(self) -> list[dict[str, Any]]:
        return requests.get(self.url + "/_messages", timeout=5).json()


@pytest.fixture(name="sms_standin")
def sms_standin_fixture() -> Iterator[SmsStandinServer]:
    """A running stand-in (no faults, receipts at once), stopped after the test."""
    with SmsStandinServer() as server:
        yield server
