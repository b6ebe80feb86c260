"""Filing requests through the API: validation, idempotency, kiosks, and public tracking."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import requests as http
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from werkzeug.serving import make_server

from counter_server.context import database
from counter_server.demo import sample_value
from counter_server.models import Notification, RequestEvent, ServiceRequest
from counter_server.usecases import catalog_versions
from counter_server.usecases import kiosks
from shared import tracking_codes
from shared.catalog.schema import Catalog
from tests.online import confirm_mobile, file_online

APPLICANT = {"name": "زهرا احمدی", "national_code": "0499370899", "mobile": "09121234567"}


def guide_fields(demo_catalog: Catalog) -> dict[str, Any]:
    """Valid answers to the tour-guide-card form, built from its field types."""
    spec = demo_catalog.service("tour-guide-card")
    assert spec is not None
    return {f.name: sample_value(f) for f in spec.form}


def body(demo_catalog: Catalog, **overrides: Any) -> dict[str, Any]:
    data = {"client_id": str(uuid.uuid4()), "service": "tour-guide-card", "channel": "online",
            "applicant": dict(APPLICANT), "fields": guide_fields(demo_catalog)}
    data.update(overrides)
    return data


def count(app: Flask, model: type) -> int:
    with app.app_context(), database().session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_online_submission_gets_a_server_code_and_is_announced(
    app: Flask, client: FlaskClient, demo_catalog: Catalog
) -> None:
    response = file_online(client, body(demo_catalog))
    assert response.status_code == 201, response.get_json()
    result = response.get_json()
    code = result["tracking_code"]
    assert tracking_codes.is_valid(code) and tracking_codes.issuer_of(code) == 0
    assert result["status"] == "submitted" and result["tracking_url"].endswith(f"/t/{code}")
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest))
        assert item.service["title"] == demo_catalog.service("tour-guide-card").title
        assert [e.action for e in session.scalars(select(RequestEvent))] == ["submit"]
        message = session.scalar(select(Notification).where(Notification.request_id.is_not(None)))
        assert message.mobile == "09121234567" and code in message.text.replace(" ", "")


def test_a_request_keeps_its_versions_terms_and_reads_them_with_no_query(
    app: Flask, client: FlaskClient, demo_catalog: Catalog
) -> None:
    assert file_online(client, body(demo_catalog)).status_code == 201
    data = demo_catalog.model_dump(mode="json")
    guide = next(s for s in data["services"] if s["slug"] == "tour-guide-card")
    guide["title"], guide["duration"] = "عنوان تازه", {"value": 99, "unit": "working_days"}
    with app.app_context(), database().transaction() as session:
        assert catalog_versions.import_catalog(session, Catalog.model_validate(data)).version == 2
    with app.app_context(), database().session() as session:
        item = session.scalar(select(ServiceRequest))
        statements: list[str] = []
        event.listen(session.get_bind(), "before_cursor_execute",
                     lambda *args: statements.append(args[2]))
        terms = item.service
        assert statements == []
    original = demo_catalog.service("tour-guide-card")
    assert (item.catalog_version, terms["title"]) == (1, original.title)
    assert terms["duration"]["value"] == original.duration.value


def test_replay_returns_the_original_and_a_changed_body_is_refused(
    app: Flask, client: FlaskClient, demo_catalog: Catalog
) -> None:
    data = body(demo_catalog)
    first = file_online(client, data)
    again = file_online(client, data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    changed = file_online(client, {**data, "applicant": {
        **APPLICANT, "name": "نام دیگر"}})
    assert changed.status_code == 422
    assert changed.get_json()["code"] == "idempotency_key_reused"
    assert count(app, ServiceRequest) == 1


def test_concurrent_deliveries_of_one_id_create_one_request(
    app: Flask, demo_catalog: Catalog
) -> None:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/requests"
    data = body(demo_catalog)
    data["mobile_confirmation"] = confirm_mobile(app.test_client(), data["applicant"])
    barrier = threading.Barrier(8)
    results: list[tuple[int, str]] = []

    def deliver() -> None:
        barrier.wait()
        response = http.post(url, json=data, timeout=30)
        results.append((response.status_code, response.json().get("tracking_code", "")))

    workers = [threading.Thread(target=deliver) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    server.shutdown()
    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert len({code for _, code in results}) == 1
    assert count(app, ServiceRequest) == 1
    # One SMS for the filing, beside the one-time code that confirmed the mobile.
    assert count(app, RequestEvent) == 1 and count(app, Notification) == 2


def test_invalid_fields_answer_422_with_persian_messages(
    client: FlaskClient, demo_catalog: Catalog
) -> None:
    data = body(demo_catalog, applicant={**APPLICANT, "national_code": "0499370898",
                                         "mobile": "02112345678"})
    data["fields"] = {}
    response = file_online(client, data)
    result = response.get_json()
    assert response.status_code == 422 and result["code"] == "validation_failed"
    assert "کد ملی" in result["errors"]["applicant.national_code"]
    assert "applicant.mobile" in result["errors"]
    required = [f.name for f in demo_catalog.service("tour-guide-card").form if f.required]
    assert {f"fields.{name}" for name in required} <= set(result["errors"])


@pytest.mark.parametrize(("payload", "code"), [
    ({"client_id": "not-a-uuid"}, "invalid_body"),
    ({"channel": "fax"}, "invalid_body"),
    ({"surprise": 1}, "invalid_body"),
    ({"service": "no-such-service"}, "service_not_found"),
    ({"service": "archaeological-survey-permit", "channel": "kiosk"}, "kiosk_token_required"),
])
def test_malformed_bodies_are_refused_with_stable_codes(
    client: FlaskClient, demo_catalog: Catalog, payload: dict[str, Any], code: str
) -> None:
    response = file_online(client, body(demo_catalog, **payload))
    assert response.status_code in (401, 422) and response.get_json()["code"] == code


def test_not_json_is_a_clear_400(client: FlaskClient) -> None:
    response = client.post("/api/v1/requests", data="<xml/>", content_type="application/xml")
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_json"


@pytest.fixture
def kiosk_token(app: Flask) -> tuple[int, str]:
    with app.app_context(), database().transaction() as session:
        registration = kiosks.register_kiosk(session, "lobby")
        return registration.kiosk.id, registration.token


def kiosk_body(demo_catalog: Catalog, issuer: int, **overrides: Any) -> dict[str, Any]:
    return body(demo_catalog, channel="kiosk", tracking_code=tracking_codes.new_code(issuer),
                catalog_version=1, created_at="2026-11-25T09:30:00+03:30", **overrides)


def test_kiosk_submission_keeps_the_printed_code(
    client: FlaskClient, demo_catalog: Catalog, kiosk_token: tuple[int, str]
) -> None:
    issuer, token = kiosk_token
    data = kiosk_body(demo_catalog, issuer)
    response = file_online(client, data,
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    assert response.get_json()["tracking_code"] == data["tracking_code"]
    assert response.get_json()["flags"] == []


def test_kiosk_code_must_be_of_its_own_series(
    client: FlaskClient, demo_catalog: Catalog, kiosk_token: tuple[int, str]
) -> None:
    issuer, token = kiosk_token
    data = kiosk_body(demo_catalog, issuer + 1)
    response = file_online(client, data,
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    assert response.get_json()["code"] == "tracking_code_issuer_mismatch"


def test_kiosk_submission_on_an_old_catalog_is_filed_and_flagged(
    app: Flask, client: FlaskClient, demo_catalog: Catalog, kiosk_token: tuple[int, str]
) -> None:
    issuer, token = kiosk_token
    data = demo_catalog.model_dump(mode="json")
    guide = next(s for s in data["services"] if s["slug"] == "tour-guide-card")
    guide["form"].append({**guide["form"][0], "name": "new_question", "required": True})
    data["services"] = [s for s in data["services"] if s["slug"] != "tourism-complaint"]
    for lobby_queue in data["queues"]:
        lobby_queue["services"] = [s for s in lobby_queue["services"] if s != "tourism-complaint"]
    with app.app_context(), database().transaction() as session:
        catalog_versions.import_catalog(session, Catalog.model_validate(data))
    headers = {"Authorization": f"Bearer {token}"}
    response = file_online(client, kiosk_body(demo_catalog, issuer),
                           headers=headers)
    assert response.status_code == 201 and response.get_json()["flags"] == ["form_changed"]
    withdrawn = kiosk_body(demo_catalog, issuer, service="tourism-complaint", fields={})
    response = file_online(client, withdrawn, headers=headers)
    assert response.status_code == 201
    assert "service_withdrawn" in response.get_json()["flags"]


def test_revoked_or_unknown_kiosk_tokens_are_refused(
    app: Flask, client: FlaskClient, demo_catalog: Catalog, kiosk_token: tuple[int, str]
) -> None:
    issuer, token = kiosk_token
    with app.app_context(), database().transaction() as session:
        kiosks.revoke(session, str(issuer))
    for bad in (token, "made-up-token"):
        response = file_online(client, kiosk_body(demo_catalog, issuer),
                               headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and response.get_json()["code"] == "invalid_token"
    assert count(app, ServiceRequest) == 0


def _statements(app: Flask) -> list[str]:
    seen: list[str] = []
    with app.app_context():
        engine = database().engine
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


@pytest.mark.parametrize("code", ["1234", "۱۲۳۴-۵۶۷۸-abcd-0000", "0000000000000001"])
def test_malformed_codes_are_answered_without_the_database(
    app: Flask, client: FlaskClient, code: str
) -> None:
    seen = _statements(app)
    response = client.get(f"/api/v1/track/{code}")
    assert response.status_code == 400
    assert response.get_json()["code"].startswith("tracking_code_")
    assert seen == []


def test_tracking_shows_progress_but_no_personal_data(
    client: FlaskClient, demo_catalog: Catalog
) -> None:
    data = body(demo_catalog)
    code = file_online(client, data).get_json()["tracking_code"]
    spaced = tracking_codes.format_code(code, persian=True).replace(" ", "-")
    response = client.get(f"/api/v1/track/{spaced}")
    result = response.get_json()
    assert response.status_code == 200 and result["tracking_code"] == code
    assert result["status"] == "submitted"
    assert (result["channel"], result["documents"]) == ("online", [])
    assert [s["state"] for s in result["steps"]][:2] == ["done", "current"]
    text = response.get_data(as_text=True)
    for secret in (APPLICANT["name"], APPLICANT["national_code"], APPLICANT["mobile"],
                   *[str(v) for v in data["fields"].values() if isinstance(v, str) and v]):
        assert secret not in text
    assert client.get(f"/api/v1/track/{tracking_codes.new_code(0)}").status_code == 404


def test_the_tracking_limit_is_configured(app: Flask, client: FlaskClient) -> None:
    app.config["TRACK_RATE_LIMIT"] = "3 per minute"
    code = tracking_codes.new_code(0)
    answers = [client.get(f"/api/v1/track/{code}") for _ in range(4)]
    pages = [client.get(f"/t/{code}").status_code for _ in range(4)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert pages[-1] == 429 and 429 not in pages[:3]
    assert answers[-1].headers["Retry-After"] == "60"
    assert answers[-1].get_json()["code"] == "rate_limited"


def test_tracking_is_rate_limited_per_address_but_not_for_kiosks(
    client: FlaskClient, kiosk_token: tuple[int, str]
) -> None:
    code = tracking_codes.new_code(0)
    statuses = [client.get(f"/api/v1/track/{code}").status_code for _ in range(61)]
    assert statuses[:60] == [404] * 60 and statuses[60] == 429
    kiosk = client.get(f"/api/v1/track/{code}",
                       headers={"Authorization": f"Bearer {kiosk_token[1]}"})
    assert kiosk.status_code == 404
