"""The API holds to its own contract: Schemathesis generates requests from
`/api/openapi.json` (ones that fit the document and ones it rules out), in every phase — the
document's examples, coverage of each constraint's edges, fuzzing, chains of calls — and checks
every answer: no server error, only documented statuses, bodies, content types and headers as
documented (`Allow` too), what the document rules out refused and what it allows accepted.
A kiosk token comes with every call; then a receptionist's session cookie, with its
X-CSRFToken header, over the operations staff call."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from counter_server.usecases import kiosks
from tests.conftest import csrf_token, login
from tests.server.test_queue import MORNING, OFFICE, run

EXAMPLES_PER_OPERATION = 20
SEED = 1405  # a fixed seed: CI runs the same cases each time, and a failure replays
# Codes by which the server says a request breaks the document itself; a request that fits it
# must never get one. Its other refusals (400 `tracking_code_check_failed`, 422
# `service_not_found`, `national_code_invalid`, a closed queue …) apply rules a JSON Schema
# cannot state — a check digit, the published catalog, the registry — so Schemathesis's own
# "valid data accepted" check lets 400 and 422 through and this one stands in for it.
MALFORMED_CODES = {"invalid_json", "invalid_body", "bad_request", "tracking_code_malformed",
                   "invalid_document_id", "query_too_long"}


class SchemaValidRefusedAsMalformed(AssertionError):
    """A request that fits the document was refused as if it did not."""


@schemathesis.check
def schema_valid_requests_are_not_malformed(ctx, response, case) -> None:  # noqa: ANN001
    """A request generated to fit the document is never refused as breaking it."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code not in (400, 422):
        return
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        code = None
    if code in MALFORMED_CODES or code is None:
        raise SchemaValidRefusedAsMalformed(
            f"{case.method} {case.formatted_path} fits the document but was refused "
            f"{response.status_code} {code}: {response.content[:500]!r}")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this checks the contract, not the database."""
    return f"sqlite:///{tmp_path / 'miz-contract.sqlite3'}"


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """One kiosk token makes every generated call, faster than a kiosk ever would: its own
    limit (tested in test_abuse_limits.py) is raised so that it never answers for the
    contract."""
    return {"KIOSK_RATE_LIMIT": "100000 per minute"}


@pytest.fixture
def morning_app(app: Flask) -> Flask:
    """The app at a working morning: the queues are open, so tickets are issued too."""
    app.config["CLOCK"] = lambda: MORNING
    return app


def contract_failures(app: Flask, headers: dict[str, str],
                      paths: str | None = None) -> tuple[list[str], Counter[int]]:
    """Every check that failed in a Schemathesis run over the app's document (operation, check,
    what was wrong, how to replay it), and how many answers had each status; only over the
    operations whose path matches `paths` when it is given."""
    config = SchemathesisConfig.from_dict({
        "seed": SEED, "headers": headers,
        "generation": {"max-examples": EXAMPLES_PER_OPERATION},
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "422",
                                  "429"]}},
    })
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)
    if paths is not None:
        schema = schema.include(path_regex=paths)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.FatalError):
            raise event.exception
        if not isinstance(event, events.ScenarioFinished):
            continue
        statuses.update(interaction.response.status_code
                        for interaction in event.recorder.interactions.values()
                        if interaction.response is not None)
        for checks in event.recorder.checks.values():
            for check in checks:
                if check.status == Status.FAILURE and check.failure_info is not None:
                    failure = check.failure_info.failure
                    failures.append(f"{event.recorder.label} [{check.name}] {failure.title}: "
                                    f"{failure.message}\n{check.failure_info.code_sample}")
    return sorted(set(failures)), statuses


def test_api_holds_to_its_document_with_a_kiosk_token(morning_app: Flask) -> None:
    token = run(morning_app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE)).token
    failures, statuses = contract_failures(morning_app, {"Authorization": f"Bearer {token}"})
    assert statuses.total() > 500 and statuses[201] > 0
    assert failures == [], "\n\n".join(failures)


def test_api_holds_to_its_document_with_a_staff_session(
    morning_app: Flask, client: FlaskClient, staff_users: dict[str, int]
) -> None:
    login(client, "front")
    cookie = morning_app.config["SESSION_COOKIE_NAME"]
    headers = {"X-CSRFToken": csrf_token(client, "/desk/tickets"),
               "Cookie": f"{cookie}={client.get_cookie(cookie).value}"}
    failures, statuses = contract_failures(morning_app, headers,
                                           paths="^/api/v1/(tickets|requests)$")
    # Issued, or replayed (200): either way the session was taken as the receptionist's.
    assert statuses.total() > 50 and statuses[200] + statuses[201] > 0
    assert failures == [], "\n\n".join(failures)
