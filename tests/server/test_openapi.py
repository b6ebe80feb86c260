"""The OpenAPI document: valid, covering every /api/v1 route, and telling the truth about
what the server takes and answers."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from counter_server.api.bodies import FIELD_INVALID
from counter_server.api.openapi import documented_rules, openapi_path, rate_limited
from counter_server.usecases import kiosks
from shared import tracking_codes
from tests.server.test_queue import MORNING, OFFICE, run


def test_openapi_document_is_valid(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.")
    catalog = document["components"]["schemas"]["CatalogBody"]
    assert {"agency", "calendar", "categories", "services", "version"} <= set(
        catalog["properties"])


def test_every_api_route_is_documented(app: Flask, client: FlaskClient) -> None:
    undocumented = [(path, method) for path, method, op in documented_rules(app) if op is None]
    assert undocumented == []
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/v1/catalog", "/api/v1/services", "/api/v1/services/{slug}"} <= set(paths)


# What the contract test (tests/server/test_api_contract.py) found, each held on its own.

@pytest.fixture
def kiosk(app: Flask) -> dict[str, str]:
    registration = run(app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE))
    return {"Authorization": f"Bearer {registration.token}"}


def schema_of(document: dict[str, Any], model: str) -> dict[str, Any]:
    return document["components"]["schemas"][model]


def responses_of(document: dict[str, Any], path: str, method: str = "post") -> set[str]:
    return set(document["paths"][path][method]["responses"])


def test_opening_hours_are_documented_as_the_local_times_the_catalog_sends(
    client: FlaskClient,
) -> None:
    document = client.get("/api/openapi.json").get_json()
    opens = schema_of(document, "OpeningHours")["properties"]["opens"]
    assert "format" not in opens  # JSON Schema's `time` requires an offset
    calendar = client.get("/api/v1/catalog").get_json()["calendar"]
    hours = [time for day in calendar["working_hours"].values()
             for time in (day["opens"], day["closes"])]
    assert "07:30:00" in hours and all(re.fullmatch(opens["pattern"], time) for time in hours)
    assert not re.fullmatch(opens["pattern"], "7:30 AM")


def test_a_body_that_is_not_json_is_a_documented_400(client: FlaskClient,
                                                     kiosk: dict[str, str]) -> None:
    response = client.post("/api/v1/tickets", headers=kiosk)
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_json"
    document = client.get("/api/openapi.json").get_json()
    json_bodies = [(path, method) for path, item in document["paths"].items()
                   for method, op in item.items()
                   if "application/json" in op.get("requestBody", {}).get("content", {})]
    assert ("/api/v1/tickets", "post") in json_bodies
    assert all("400" in document["paths"][p][m]["responses"] for p, m in json_bodies)


def test_unknown_queues_and_ill_formed_ids_are_documented_404s(
    client: FlaskClient, kiosk: dict[str, str]
) -> None:
    lease = client.post("/api/v1/tickets/leases", json={"queue": "no-such-queue"}, headers=kiosk)
    assert lease.status_code == 404 and lease.get_json()["code"] == "queue_not_found"
    code = client.post("/api/v1/mobile-confirmations/not-a-uuid/code", json={"code": "12345"})
    assert code.status_code == 404
    document = client.get("/api/openapi.json").get_json()
    assert "404" in responses_of(document, "/api/v1/tickets/leases")
    confirm = document["paths"]["/api/v1/mobile-confirmations/{confirmation}/code"]["post"]
    assert "404" in confirm["responses"]
    assert confirm["parameters"][0]["schema"] == {"type": "string", "format": "uuid"}


def test_an_empty_service_or_survey_is_refused_as_the_document_says(
    client: FlaskClient, kiosk: dict[str, str]
) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert schema_of(document, "TicketIn")["properties"]["service"]["minLength"] == 1
    assert schema_of(document, "RequestIn")["properties"]["service"]["minLength"] == 1
    assert schema_of(document, "SurveyIn")["properties"]["answers"]["minProperties"] == 1
    ticket = client.post("/api/v1/tickets", headers=kiosk,
                         json={"client_id": str(uuid.uuid4()), "service": ""})
    assert ticket.status_code == 422 and set(ticket.get_json()["errors"]) == {"service"}
    survey = client.post("/api/v1/surveys", headers=kiosk,
                         json={"client_id": str(uuid.uuid4()), "answers": {}})
    assert survey.status_code == 422 and set(survey.get_json()["errors"]) == {"answers"}


@pytest.mark.parametrize("depth", [False, "3", "three", None])
def test_a_heartbeat_takes_only_a_json_integer_depth(
    client: FlaskClient, kiosk: dict[str, str], depth: Any
) -> None:
    beat = {"software_version": "1.0", "outbox_depth": depth, "printer_state": "ok",
            "kiosk_time": "2026-12-01T10:00:00+03:30"}
    refused = client.post("/api/v1/kiosks/heartbeat", json=beat, headers=kiosk)
    assert refused.status_code == 422 and refused.get_json()["errors"] == {
        "outbox_depth": FIELD_INVALID}
    taken = client.post("/api/v1/kiosks/heartbeat", json={**beat, "outbox_depth": 3.0},
                        headers=kiosk)  # JSON Schema's integer: 3.0 is 3
    assert taken.status_code == 200


def test_a_timestamp_is_no_date_time(client: FlaskClient, kiosk: dict[str, str]) -> None:
    beat = {"software_version": "1.0", "outbox_depth": 0, "printer_state": "ok",
            "kiosk_time": 1_764_583_200}
    response = client.post("/api/v1/kiosks/heartbeat", json=beat, headers=kiosk)
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"kiosk_time"}


def test_leases_answer_only_the_methods_the_document_lists(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert set(document["paths"]["/api/v1/tickets/leases"]) == {"post"}
    allowed = client.options("/api/v1/tickets/leases").headers["Allow"]
    assert {m.strip() for m in allowed.split(",")} - {"OPTIONS"} == {"POST"}
    assert client.get("/api/v1/tickets/leases").status_code == 405


def test_a_ticket_is_still_found_by_its_public_id(app: Flask, client: FlaskClient,
                                                  kiosk: dict[str, str]) -> None:
    app.config["CLOCK"] = lambda: MORNING
    issued = client.post("/api/v1/tickets", headers=kiosk, json={
        "client_id": str(uuid.uuid4()), "service": "tour-guide-card"})
    assert issued.status_code == 201, issued.get_json()
    public_id = issued.get_json()["id"]
    assert client.get(f"/api/v1/tickets/{public_id}").get_json()["id"] == public_id


def test_every_rate_limited_operation_documents_429(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    with app.app_context():  # a limit may be read from the configuration (TRACK_RATE_LIMIT)
        limited = [(path, method) for path, method, _ in documented_rules(app)
                   if rate_limited(app, path, method)]
    assert ("/api/v1/track/<code>", "GET") in limited
    assert ("/api/v1/mobile-confirmations/<uuid:confirmation>/code", "POST") in limited
    for path, method in limited:
        assert "429" in responses_of(document, openapi_path(path), method.lower()), path


@pytest.mark.parametrize("typed", ["{code}", "{persian}", "{rtl}", " {code} "])
def test_the_documented_tracking_code_pattern_takes_what_the_server_reads(typed: str) -> None:
    code = tracking_codes.new_code(7)
    text = typed.format(code=code, persian=tracking_codes.format_code(code, persian=True),
                        rtl=tracking_codes.format_code_rtl_safe(code))
    assert tracking_codes.is_valid(text)
    assert re.fullmatch(tracking_codes.INPUT_PATTERN, text)


@pytest.mark.parametrize("typed", ["1234", "۱۲۳۴-۵۶۷۸-abcd-0000", "0" * 17, ""])
def test_the_documented_tracking_code_pattern_refuses_what_the_server_refuses(
    typed: str,
) -> None:
    assert not tracking_codes.is_valid(typed)
    assert not re.fullmatch(tracking_codes.INPUT_PATTERN, typed)
