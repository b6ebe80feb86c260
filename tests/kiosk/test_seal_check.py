"""Delivered documents checked at the kiosk with no network: the sync learns revocations and
pins the seal keys beside the catalog (durable, idempotent, never un-revoked by a catalog);
`python -m kiosk verify` says valid, revoked, expired or refused, with the exit status."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.__main__ import EXIT_EXPIRED, EXIT_OK, EXIT_REFUSED, EXIT_REVOKED, main
from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.local.store import REVOCATIONS_CURSOR, KioskStore
from kiosk.usecases.seal_check import check
from shared.catalog.schema import Catalog
from shared.seals import OutputKind, SealFacts, new_document_id, read_seal, seal_text
from tests.kiosk.live import LiveServer
from tests.kiosk.test_sync import config_for, engine_for, file_some, make_kiosk

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Catalog
           ) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("seal-server"), demo_catalog)
    live.start()
    yield live
    live.close()


@pytest.fixture
def kiosk_parts(server: LiveServer, tmp_path: Path) -> Iterator[tuple[KioskConfig, KioskStore]]:
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        yield config, store


def delivered(server: LiveServer, config: KioskConfig, store: KioskStore,
              catalog: Catalog, now: datetime | None = None) -> tuple[str, str]:
    """A request filed at the kiosk, synced, approved and its document issued."""
    [code] = file_some(make_kiosk(config, store), catalog, 1)
    assert engine_for(config, store).run_once().ok
    return server.deliver(code, now)


def changed(text: str) -> str:
    """The seal with one digit of its fragment changed."""
    head, digits = text.split("#")
    at = len(digits) // 2
    return f"{head}#{digits[:at]}{(int(digits[at]) + 1) % 10}{digits[at + 1:]}"


def test_the_sync_learns_revocations_and_pins_the_key_idempotently(
        server: LiveServer, kiosk_parts: tuple[KioskConfig, KioskStore],
        demo_catalog: Catalog) -> None:
    config, store = kiosk_parts
    public_id, seal = delivered(server, config, store, demo_catalog)
    assert check(config, store, seal, NOW).code == "no_seal_key"  # before the first pull
    report = engine_for(config, store).run_once()
    assert report.ok and report.revoked == store.revocation_count()  # earlier tests' ones
    known = store.revocation_count()
    pinned = store.seal_keys()
    assert list(pinned.values()) == [server.seal_public_key()]
    assert check(config, store, seal, NOW).outcome == "valid"
    server.revoke(public_id, "نام دارنده اشتباه چاپ شده بود.")
    assert engine_for(config, store).run_once().revoked == 1
    cursor = store.state(REVOCATIONS_CURSOR)
    assert cursor and engine_for(config, store).run_once().revoked == 0  # nothing new
    store.set_state({REVOCATIONS_CURSOR: None})  # a replay from the first changes nothing
    assert engine_for(config, store).run_once().revoked == 0
    assert store.revocation_count() == known + 1 and store.state(REVOCATIONS_CURSOR) == cursor
    verdict = check(config, store, seal, NOW)
    assert verdict.outcome == "revoked"
    assert verdict.reason == "دلیل ابطال: نام دارنده اشتباه چاپ شده بود."
    # A catalog rolled back to an older version never un-revokes.
    store.save_catalog(store.cached_catalog().__class__(
        body=store.cached_catalog().body, etag='"an-older-one"', version=1,
        fetched_at=NOW, server_time=None))
    engine_for(config, store).run_once()
    assert check(config, store, seal, NOW).outcome == "revoked"
    # Reopened after a power cut, it still knows.
    store.close()
    with KioskStore(config.data_dir) as again:
        assert check(config, again, seal, NOW).outcome == "revoked"


def test_a_bad_cursor_starts_again_from_the_first(
        server: LiveServer, kiosk_parts: tuple[KioskConfig, KioskStore],
        demo_catalog: Catalog) -> None:
    config, store = kiosk_parts
    public_id, _ = delivered(server, config, store, demo_catalog)
    server.revoke(public_id, "ابطال آزمایشی")
    store.set_state({REVOCATIONS_CURSOR: "not-a-cursor"})
    report = engine_for(config, store).run_once()
    assert report.ok and store.revocation(public_id) is not None
    assert any("cursor was refused" in p for p in report.problems)


def test_keys_pinned_at_the_first_sync_are_not_replaced(
        server: LiveServer, kiosk_parts: tuple[KioskConfig, KioskStore],
        demo_catalog: Catalog) -> None:
    config, store = kiosk_parts
    delivered(server, config, store, demo_catalog)
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert store.pin_seal_keys({"00000000": other}, NOW) is False  # already pinned
    assert list(store.seal_keys().values()) == [server.seal_public_key()]


def run_verify(config: KioskConfig, text: str, capsys: pytest.CaptureFixture[str]
               ) -> tuple[int, str]:
    status = main(["verify", text, "--config", str(config.source)])
    return status, capsys.readouterr().out


def test_the_verify_command_by_outcome(
        server: LiveServer, kiosk_parts: tuple[KioskConfig, KioskStore],
        demo_catalog: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    config, store = kiosk_parts
    public_id, seal = delivered(server, config, store, demo_catalog)
    _, old_seal = delivered(server, config, store, demo_catalog,
                            now=NOW - timedelta(days=3 * 365))
    engine_for(config, store).run_once()
    store.close()
    facts = read_seal(seal, [server.seal_public_key()])

    status, out = run_verify(config, seal, capsys)
    assert status == EXIT_OK and out.startswith("valid: این سند معتبر است.")
    assert f"دارنده: {facts.holder}" in out and "نوع سند: کارت" in out
    assert re.search(r"کد ملی دارنده: [۰-۹]{3}\*{5}[۰-۹]{2}", out)

    status, out = run_verify(config, changed(seal), capsys)
    assert status == EXIT_REFUSED and "(seal_signature_invalid)" in out
    assert "دارنده" not in out  # no facts of a seal not to be believed

    forger = ec.generate_private_key(ec.SECP256R1())
    forged = seal_text(SealFacts(new_document_id(), "1405-000001", OutputKind.card,
                                 facts.holder, facts.masked_national_code, date.today(), None),
                       forger, "https://miz.chht-isfahan.example")
    status, out = run_verify(config, forged, capsys)
    assert status == EXIT_REFUSED and "(seal_unknown_key)" in out

    status, out = run_verify(config, "https://miz.chht-isfahan.example/t/1234", capsys)
    assert status == EXIT_REFUSED and "(seal_malformed)" in out

    status, out = run_verify(config, old_seal, capsys)
    assert status == EXIT_EXPIRED and out.startswith("expired: مهلت اعتبار این سند گذشته است.")

    server.revoke(public_id, "صادرشده برای درخواست دیگر")
    with KioskStore(config.data_dir) as again:
        assert engine_for(config, again).run_once().revoked == 1
    status, out = run_verify(config, seal, capsys)
    assert status == EXIT_REVOKED and "دلیل ابطال: صادرشده برای درخواست دیگر" in out


def test_a_key_in_the_configuration_is_trusted_instead_of_the_servers(
        server: LiveServer, kiosk_parts: tuple[KioskConfig, KioskStore], tmp_path: Path,
        demo_catalog: Catalog) -> None:
    config, store = kiosk_parts
    _, seal = delivered(server, config, store, demo_catalog)
    engine_for(config, store).run_once()  # pins the server's key too
    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    for name, pem, outcome in (("theirs.pem", other, "refused"),
                               ("ours.pem", server.seal_public_key(), "valid")):
        (tmp_path / name).write_text(pem)
        pinned = replace(load_config(_with_key(config, name)), data_dir=config.data_dir)
        assert check(pinned, store, seal, NOW).outcome == outcome
    (tmp_path / "broken.pem").write_text("not a key")
    with pytest.raises(ConfigError, match="seal_public_key"):
        load_config(_with_key(config, "broken.pem"))


def _with_key(config: KioskConfig, name: str) -> Path:
    """The kiosk's TOML file again, with `seal_public_key` naming `name` beside it."""
    text = config.source.read_text(encoding="utf-8")
    path = config.source.parent.parent / f"with-{name}.toml"
    path.write_text(f'seal_public_key = "{name}"\n' + text, encoding="utf-8")
    path.chmod(0o600)  # it holds the token
    return path
