"""Command line: kiosks, staff accounts and the demo data."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from counter_server import demo
from counter_server.config import REPO_ROOT
from counter_server.context import database
from counter_server.models import ServiceRequest, Ticket
from counter_server.usecases import kiosks
from kiosk.config import ConfigError, load_config


def test_kiosk_add_list_revoke(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["kiosk", "add", "lobby-1", "--json"])
    second = runner.invoke(args=["kiosk", "add", "lobby-2", "--json"])
    registered = [json.loads(r.output) for r in (first, second)]
    assert [r["id"] for r in registered] == [1, 2]
    assert all(len(r["token"]) >= 40 for r in registered)
    with app.app_context(), database().session() as session:
        assert kiosks.authenticate(session, registered[0]["token"]).name == "lobby-1"
        stored = kiosks.find(session, "lobby-1").token_hash
        assert registered[0]["token"] not in stored

    assert "a kiosk named 'lobby-1' already exists" in runner.invoke(
        args=["kiosk", "add", "lobby-1"]).output
    revoked = runner.invoke(args=["kiosk", "revoke", "lobby-1"])
    assert "Kiosk 01 (lobby-1) revoked." in revoked.output
    listing = runner.invoke(args=["kiosk", "list"]).output
    assert "01  lobby-1  (revoked" in listing and "02  lobby-2  (active)" in listing
    with app.app_context(), database().session() as session:
        assert kiosks.authenticate(session, registered[0]["token"]) is None
    third = json.loads(runner.invoke(args=["kiosk", "add", "lobby-3", "--json"]).output)
    assert third["id"] == 3  # a revoked kiosk's issuer number is never handed out again


def test_user_create(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["user", "create", "Maryam", "--name", "مریم کاظمی", "--role",
                                 "clerk", "--service", "tour-guide-card", "--password",
                                 "a long enough secret"])
    assert result.exit_code == 0 and "User 'Maryam' created as clerk." in result.output
    short = runner.invoke(args=["user", "create", "ali", "--name", "علی", "--role", "clerk",
                                "--password", "short"])
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    unknown = runner.invoke(args=["user", "create", "reza", "--name", "رضا", "--role", "clerk",
                                  "--service", "nope", "--password", "a long enough secret"])
    assert unknown.exit_code != 0 and "unknown services: nope" in unknown.output


def test_demo_seed_creates_requests_in_several_states(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo-seed"])
    assert result.exit_code == 0, result.output
    assert "Demo data created:" in result.output
    for status in ("submitted", "in_review", "waiting_citizen", "in_progress", "approved",
                   "completed", "rejected"):
        assert f": {status})" in result.output


def test_demo_seed_run_again_prints_the_codes_the_token_and_the_addresses(
    app: Flask, runner: FlaskCliRunner
) -> None:
    first = runner.invoke(args=["demo-seed", "--port", "8765"])
    again = runner.invoke(args=["demo-seed", "--port", "8765"])
    assert (first.exit_code, again.exit_code) == (0, 0), again.output
    assert "Demo data already present." in again.output
    with app.app_context(), database().session() as session:
        codes = [r.tracking_code for r in demo.demo_requests(session)]
        assert len(codes) == len(demo.REQUESTS)
        token = demo.token_in(Path(app.instance_path) / "kiosk-demo.toml")
        assert token and kiosks.authenticate(session, token).name == demo.KIOSK_NAME
    with app.app_context(), database().session() as session:
        [document] = demo.demo_deliverables(session)
        completed = session.get(ServiceRequest, document.request_id)
        assert completed.status == "completed" and document.source == "template"
        stored = app.extensions["miz.storage"].read(document.stored_name)
        assert hashlib.sha256(stored).hexdigest() == document.sha256
    assert "document " + document.number in first.output
    for output in (first.output, again.output):
        assert f"http://127.0.0.1:8765/v/{document.public_id}" in output
        assert all(f"request {code} (" in output for code in codes)
        assert f"Demo kiosk 01, token: {token}" in output
        assert demo.PASSWORD in output
        for address in ("http://127.0.0.1:8765/", "http://127.0.0.1:8765/desk",
                        "http://127.0.0.1:8765/display/isfahan-hq"):
            assert address in output


def test_demo_seed_gives_the_kiosk_a_new_token_when_its_file_is_gone(
    app: Flask, runner: FlaskCliRunner
) -> None:
    runner.invoke(args=["demo-seed"])
    config = Path(app.instance_path) / "kiosk-demo.toml"
    old = demo.token_in(config)
    config.unlink()
    assert runner.invoke(args=["demo-seed"]).exit_code == 0
    new = demo.token_in(config)
    assert new and new != old
    with app.app_context(), database().session() as session:
        assert kiosks.authenticate(session, old) is None
        assert kiosks.authenticate(session, new).name == demo.KIOSK_NAME


@pytest.mark.parametrize(("host", "port", "server_url"), [
    ("127.0.0.1", "5000", "http://127.0.0.1:5000"),
    ("0.0.0.0", "8000", "http://127.0.0.1:8000"),
    ("192.168.10.7", "8080", "http://192.168.10.7:8080"),
])
def test_demo_kiosk_config_points_at_the_served_address(
    app: Flask, runner: FlaskCliRunner, host: str, port: str, server_url: str
) -> None:
    result = runner.invoke(args=["demo-seed", "--host", host, "--port", port])
    assert result.exit_code == 0, result.output
    path = Path(app.instance_path) / "kiosk-demo.toml"
    config = tomllib.loads(path.read_text("utf-8"))
    assert config["server_url"] == server_url
    assert config["kiosk_id"] == 1 and config["token"] in result.output
    assert f"Online desk:   {server_url}/" in result.output
    assert path.stat().st_mode & 0o777 == 0o600  # it holds the token
    if host == "192.168.10.7":  # plain http to another address: the kiosk refuses it
        with pytest.raises(ConfigError, match="server_url: must start with https://"):
            load_config(path)
    else:
        assert load_config(path).token == config["token"]


def test_make_demo_hands_host_and_port_to_the_demo() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(["make", "-n", "demo", "HOST=10.1.2.3", "PORT=8765"], cwd=REPO_ROOT,
                          capture_output=True, text=True, check=True).stdout
    assert "HOST=10.1.2.3 PORT=8765 bash scripts/demo.sh" in plan
    script = (REPO_ROOT / "scripts" / "demo.sh").read_text()
    assert 'demo-seed --host "$HOST" --port "$PORT"' in script
    assert 'run --host "$HOST" --port "$PORT"' in script


def test_the_demo_lobby_just_after_midnight_is_all_today(app: Flask) -> None:
    """Seeded at 00:20 in Tehran, the lobby's story (95 minutes long) is squeezed into the
    twenty minutes of today: no ticket of yesterday, the served ones served."""
    after_midnight = datetime(2026, 11, 30, 20, 50, tzinfo=UTC)  # 00:20 on 1 December
    with app.app_context(), database().transaction() as session:
        demo.seed(session, app.extensions["miz.storage"], "http://127.0.0.1:5000",
                  now=after_midnight)
        tickets = session.query(Ticket).all()
    assert {t.day for t in tickets} == {date(2026, 12, 1)}
    assert sorted(t.status for t in tickets).count("done") == 5
    assert all(t.issued_at <= after_midnight for t in tickets)
