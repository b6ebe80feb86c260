"""Command line: kiosks and staff accounts."""

from __future__ import annotations

import json

from flask import Flask
from flask.testing import FlaskCliRunner

from counter_server.context import database
from counter_server.usecases import kiosks


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
    for status in ("submitted", "in_review", "waiting_citizen", "in_progress", "approved",
                   "completed", "rejected"):
        assert f": {status})" in result.output
    assert "Demo data already present." in runner.invoke(args=["demo-seed"]).output
