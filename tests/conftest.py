"""Fixtures shared by the whole suite.

Database tests run on a SQLite file and, when TEST_DATABASE_URL names a PostgreSQL database,
again on PostgreSQL: the `database_url` fixture is parametrized over both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from counter_server import create_app, migrate
from counter_server.config import DEMO_CATALOG
from counter_server.context import database
from counter_server.db import normalize_url
from counter_server.usecases import staff as staff_accounts
from counter_server.usecases.catalog_versions import import_catalog
from shared.catalog.loader import load_catalog
from shared.catalog.schema import Catalog

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")

# Staff passwords are hashed at OWASP's cost in use, seconds a hash on a busy machine; tests
# make and log in hundreds of accounts, so they hash cheaply (tests/server/test_staff_security.py
# checks the real cost and the rehash at login with the real setting).
OWASP_PASSWORD_METHOD = staff_accounts.PASSWORD_METHOD
staff_accounts.PASSWORD_METHOD = "scrypt:1024:8:1"


# Online filing confirms the mobile with a one-time code; tests file many requests from one
# mobile and one address, so its limits, and the filings' own, are raised (they have tests
# of their own).
ONLINE_FILING = {"SMS_OTP_TEMPLATE": "otp", "MOBILE_CODE_RESEND_SECONDS": 0,
                 "MOBILE_CODES_PER_MOBILE_HOUR": 10_000, "MOBILE_CODES_PER_ADDRESS_HOUR": 10_000,
                 "FILINGS_PER_ADDRESS": "10000 per hour", "FILINGS_PER_MOBILE": "10000 per day"}


def _reset_postgres(url: str) -> None:
    engine = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or the PostgreSQL test database wiped clean."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'miz-test.sqlite3'}"
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def demo_catalog() -> Catalog:
    return load_catalog(DEMO_CATALOG)


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Settings a test module adds to its app's (override this fixture), e.g. `STORAGE`."""
    return {}


@pytest.fixture
def empty_app(database_url: str, tmp_path: Path, app_settings: dict[str, Any]
              ) -> Iterator[Flask]:
    """The app on a migrated database with no catalog yet."""
    instance = tmp_path / "instance"
    # No quiet hours: tests that send SMS must not depend on the hour they run at (the quiet
    # hours have tests of their own, with a clock they set). The lobby's reads ask the database
    # on every call (LOBBY_CACHE_SECONDS 0, and LOBBY_ISSUED_VIEW_SECONDS 0 for the place a
    # new ticket is given): a test reads right after the change it made.
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "INSTANCE_PATH": str(instance), "SESSION_COOKIE_SECURE": False,
                      "SMS_QUIET_HOURS": "", "LOBBY_CACHE_SECONDS": 0,
                      "LOBBY_ISSUED_VIEW_SECONDS": 0,
                      **ONLINE_FILING, **app_settings})
    with app.app_context():
        migrate.upgrade(database())
    yield app
    with app.app_context():
        database().dispose()


@pytest.fixture
def app(empty_app: Flask, demo_catalog: Catalog) -> Flask:
    """The app with the demo catalog published as version 1."""
    with empty_app.app_context(), database().transaction() as session:
        import_catalog(session, demo_catalog, source="tests")
    return empty_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(empty_app: Flask) -> FlaskCliRunner:
    return empty_app.test_cli_runner()


TEST_PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def staff_users(app: Flask) -> dict[str, int]:
    """A clerk for guide services, a clerk for craft services, a supervisor, a receptionist."""
    from counter_server.usecases.staff import Role, create_user

    people = {
        "guides": (Role.clerk, ["tour-guide-card", "tour-guide-card-renewal"]),
        "crafts": (Role.clerk, ["handicraft-production-licence"]),
        "boss": (Role.supervisor, []),
        "front": (Role.receptionist, []),
    }
    ids = {}
    with app.app_context(), database().transaction() as session:
        for username, (role, services) in people.items():
            ids[username] = create_user(session, username, username.title(), role,
                                        TEST_PASSWORD, services).id
    return ids


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on `path` (the session keeps it for later posts)."""
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


TOTP_SECRET_ON_PAGE = re.compile(r"data-totp-secret><code>([A-Z2-7]+)</code>")
RECOVERY_CODE_ON_PAGE = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


def login(client: FlaskClient, username: str, password: str = TEST_PASSWORD) -> None:
    """Log in on the desk as a person would: the password, then (supervisors, admins) the
    second factor — enrolling on the first login from the secret the page shows and keeping
    the recovery codes it hands out, for a third login within one 30-second step."""
    token = csrf_token(client, "/desk/login")
    response = client.post("/desk/login", data={"username": username, "password": password,
                                                "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    if "/desk/two-factor/setup" in location:
        _enrol_second_factor(client, username, location)
    elif "/desk/two-factor" in location:
        token = csrf_token(client, location)
        response = client.post(location, data={"code": _second_factor_code(client, username),
                                                "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _recovery_codes(client: FlaskClient, username: str) -> list[str]:
    kept: dict[str, list[str]] = client.application.extensions.setdefault(
        "tests.recovery_codes", {})
    return kept.setdefault(username, [])


def _enrol_second_factor(client: FlaskClient, username: str, location: str) -> None:
    import pyotp

    page = client.get(location).get_data(as_text=True)
    secret = TOTP_SECRET_ON_PAGE.search(page)
    assert secret, page[:1000]
    response = client.post(location, data={"code": pyotp.TOTP(secret.group(1)).now(),
                                            "csrf_token": CSRF_FIELD.search(page).group(1)})
    codes = RECOVERY_CODE_ON_PAGE.findall(response.get_data(as_text=True))
    assert len(codes) == 10, response.get_data(as_text=True)[:1000]
    _recovery_codes(client, username)[:] = codes


def _second_factor_code(client: FlaskClient, username: str) -> str:
    """A code the server takes: the authenticator's for the first step not used yet (the
    next one if this one was), else a recovery code."""
    import time

    import pyotp

    from sqlalchemy import select

    from counter_server.models import User
    from counter_server.usecases.two_factor import DRIFT_STEPS, STEP_SECONDS

    with client.application.app_context(), database().session() as session:
        secret, last_step = session.execute(select(User.totp_secret, User.totp_last_step)
                                            .where(User.username == username)).one()
    now_step = int(time.time()) // STEP_SECONDS
    step = max(now_step, (last_step or -1) + 1)
    if step <= now_step + DRIFT_STEPS:
        return str(pyotp.TOTP(secret).at(step * STEP_SECONDS))
    return _recovery_codes(client, username).pop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last (the order is otherwise kept): Playwright's synchronous API keeps an
    event loop running in the main thread until the session ends, and tests that sign or
    check PDFs call pyHanko's synchronous API, which runs its own."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/browser/"))
