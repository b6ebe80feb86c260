"""The agencies' stand-in served over real HTTP in a thread, for tests that ask inquiries.

Use the fixture by importing it into a test module (or a conftest):

    from tests.agency_standin import agency_standin_fixture  # noqa: F401 (agency_standin)

`agency_standin` is a running `StandinServer` with no latency and no faults, whose 'timeout'
fault hangs 2 s; `.bus()` is a real `HttpBus` with the stand-in's credential and public key
(closed with the server); `.set_faults()`, `.reset_faults()` and `.stats()` go through the
stand-in's admin endpoints over HTTP. Licences expire against the fixed date `TODAY`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from counter_server.agencies.adapter import BusSettings, HttpBus
from counter_server.agencies.demo_data import DEMO_DATA
from counter_server.agencies.signing import Signer
from counter_server.agencies.standin import Standin, create_standin
from tests.served import Served

TOKEN = "test-bus-credential-7f3a"
TODAY = "1405-09-10"
QUIET: dict[str, Any] = {"all": {"latency_ms": 0}, "hang_seconds": 2.0}

# (status, headers, body) → (status, headers, body): what a tampering middlebox does.
Rewrite = Callable[[str, list[tuple[str, str]], bytes], tuple[str, list[tuple[str, str]], bytes]]


class _Rewriting:
    """WSGI middleware applying `rewrite` to every reply to an inquiry."""

    def __init__(self, app: Any, rewrite: Rewrite) -> None:
        self.app, self.rewrite = app, rewrite

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable:
        if not environ.get("PATH_INFO", "").startswith("/inquiries/"):
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)
            return lambda data: None

        reply = self.app(environ, capture)
        try:
            body = b"".join(reply)
        finally:
            getattr(reply, "close", lambda: None)()
        status, headers, body = self.rewrite(captured["status"], captured["headers"], body)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]


class StandinServer:
    """The stand-in on a free port of 127.0.0.1, from `start()` to `stop()`."""

    def __init__(self, *, faults: Mapping[str, Any] | None = None, token: str = TOKEN,
                 today: str = TODAY, data_path: Path = DEMO_DATA,
                 rewrite: Rewrite | None = None) -> None:
        self.token, self.signer = token, Signer.generate()
        self.app = create_standin(data_path, self.signer, {**QUIET, **(faults or {})},
                                  token=token, today=lambda: today)
        self.state: Standin = self.app.extensions["miz.standin"]
        self.served = Served(_Rewriting(self.app, rewrite) if rewrite else self.app,
                             self.state.closing)

    @property
    def url(self) -> str:
        return self.served.url

    def start(self) -> StandinServer:
        self.served.start()
        return self

    def stop(self) -> None:
        self.served.stop()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- Miz's side ------------------------------------------------------------------------

    @property
    def public_keys(self) -> dict[str, Any]:
        return {self.signer.key_id: self.signer.public}

    def settings(self, **overrides: Any) -> BusSettings:
        base: dict[str, Any] = {"url": self.url, "token": self.token, "keys": self.public_keys,
                                "timeout": 5.0}
        return BusSettings(**{**base, **overrides})

    def bus(self, **overrides: Any) -> HttpBus:
        """An HttpBus pointed here: BusSettings with `overrides` (e.g. timeout=0.3)."""
        bus = HttpBus(self.settings(**overrides))
        self.served.on_stop.append(bus.close)
        return bus

    # --- the admin endpoints ---------------------------------------------------------------

    def admin(self, method: str, path: str, json: Any = None) -> requests.Response:
        return requests.request(method, self.url + path, json=json, timeout=5,
                                headers={"Authorization": f"Bearer {self.token}"})

    def set_faults(self, plan: Mapping[str, Any]) -> dict[str, Any]:
        response = self.admin("POST", "/_faults", dict(plan))
        response.raise_for_status()
        return response.json()

    def reset_faults(self) -> dict[str, Any]:
        return self.admin("DELETE", "/_faults").json()

    def stats(self) -> dict[str, dict[str, int]]:
        return self.admin("GET", "/_stats").json()


@pytest.fixture(name="agency_standin")
def agency_standin_fixture() -> Iterator[StandinServer]:
    """A running stand-in (no latency, no faults), stopped after the test."""
    with StandinServer() as server:
        yield server
