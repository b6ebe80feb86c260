"""Withdrawing a service in the catalog editor, and bringing it back: a draft with its reason
and its diff, published; the public pages, the API and kiosks stop offering it while the
requests filed for it stay trackable and processable; a roll back or a restore brings it
back. Refused, with a stable code, for the last service or one a queue still names."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import AuditEntry, CatalogDraft, ServiceRequest
from counter_server.usecases import catalog_editor
from counter_server.usecases.catalog_versions import import_catalog
from counter_server.usecases.staff import Role, create_user
from shared.catalog.loader import yaml_text
from shared.catalog.schema import Catalog
from tests.conftest import TEST_PASSWORD, csrf_token, login
from tests.server.test_catalog_editor import editor  # noqa: F401 (fixture)
from tests.server.test_desk import act, file_online

SERVICE = "tour-guide-card"
TITLE = "صدور کارت راهنمای گردشگری"
HOME = "/desk/catalog"
WITHDRAW = f"/desk/catalog/edit/withdraw:{SERVICE}"
LOBBY = "/desk/catalog/edit/lobby"


def _post(client: FlaskClient, path: str, page: str = HOME,  # type: ignore[no-untyped-def]
          **form: str):
    return client.post(path, data={**form, "csrf_token": csrf_token(client, page)})


def _listed(client: FlaskClient) -> bool:
    """Whether the public catalog (API, list of services, home page) offers the service."""
    api = SERVICE in [s["slug"] for s in client.get("/api/v1/catalog").get_json()["services"]]
    pages = [TITLE in client.get(path).get_data(as_text=True) for path in ("/", "/services")]
    assert pages == [api, api]
    return api


def _out_of_its_queue(client: FlaskClient, catalog: Catalog) -> None:
    """Publish the lobby without the service in its walk-in queue."""
    lobby = catalog_editor.part_content(catalog, "lobby")
    for queue in lobby["queues"]:
        queue["services"] = [s for s in queue["services"] if s != SERVICE]
    assert _post(client, LOBBY, page=LOBBY, mode="yaml", yaml=yaml_text(lobby)).status_code == 302
    _post(client, f"{LOBBY}/publish", page=LOBBY)


def _withdraw(client: FlaskClient, reason: str = "ادغام در خدمت تمدید") -> Any:
    return _post(client, f"/desk/catalog/withdraw/{SERVICE}",
                 page=f"/desk/catalog/edit/service:{SERVICE}", reason=reason)


def test_a_withdrawn_service_leaves_the_catalog_its_requests_stay_and_it_comes_back(
        app: Flask, client: FlaskClient, staff_users: dict,  # type: ignore[type-arg]
        demo_catalog: Catalog) -> None:
    code = file_online(client, demo_catalog)
    with app.app_context(), database().transaction() as session:
        create_user(session, "writer", "Writer", Role.editor, TEST_PASSWORD)
    login(client, "writer")

    refused = _withdraw(client)
    assert refused.headers["Location"].endswith(f"/desk/catalog/edit/service:{SERVICE}")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "صف «راهنمایان و آزمون‌های گردشگری» هنوز این خدمت را نوبت می‌دهد" in page

    _out_of_its_queue(client, demo_catalog)
    assert _withdraw(client).headers["Location"].endswith(WITHDRAW)
    page = client.get(WITHDRAW).get_data(as_text=True)
    assert f"کنار گذاشتن خدمت «{TITLE}»" in page and "ادغام در خدمت تمدید" in page
    changes = page.split("catalog-diff", 1)[1].split("</table>", 1)[0]
    assert f"services.{SERVICE}" in changes and TITLE in changes and "(حذف شد)" in changes
    assert changes.count("<tr>") == 2, "the service leaves whole: one line under the head"
    assert _listed(client), "a draft changes nothing yet"

    published = _post(client, f"{WITHDRAW}/publish", page=WITHDRAW)
    assert published.headers["Location"].endswith("/desk/catalog/versions/3")
    assert not _listed(client)
    assert client.get(f"/services/{SERVICE}").status_code == 410
    assert client.get(f"/api/v1/services/{SERVICE}").get_json()["code"] == "service_withdrawn"
    assert f"services.{SERVICE}" in client.get("/desk/catalog/versions/3").get_data(as_text=True)
    tracked = client.get(f"/api/v1/track/{code}")
    assert tracked.status_code == 200 and tracked.get_json()["status"] == "submitted"
    with app.app_context(), database().session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "catalog.published").order_by(AuditEntry.id.desc())).first()
        assert entry.details["part"] == f"withdraw:{SERVICE}"
        assert entry.details["reason"] == "ادغام در خدمت تمدید"

    home = client.get(HOME).get_data(as_text=True)
    withdrawn = home.split('id="withdrawn-title"', 1)[1].split("</section>", 1)[0]
    assert TITLE in withdrawn and f"/desk/catalog/restore/{SERVICE}" in withdrawn
    refused_slug = _post(client, "/desk/catalog/new", slug=SERVICE, category="tour-guides")
    assert refused_slug.headers["Location"].endswith(HOME)
    assert "به خدمت دیگری داده نمی‌شود" in client.get(HOME).get_data(as_text=True)

    restored = _post(client, f"/desk/catalog/restore/{SERVICE}")
    edit = f"/desk/catalog/edit/service:{SERVICE}"
    assert restored.headers["Location"].endswith(edit)
    assert f"بازگرداندن خدمت «{TITLE}»" in client.get(edit).get_data(as_text=True)
    assert "پیش‌نویس بازگرداندن" in client.get(HOME).get_data(as_text=True)
    assert not _listed(client)
    _post(client, f"{edit}/publish", page=edit)
    assert _listed(client)
    assert 'id="withdrawn-title"' in client.get(HOME).get_data(as_text=True)
    assert "هیچ خدمتی کنار گذاشته نشده است." in client.get(HOME).get_data(as_text=True)


def _status(app: Flask, code: str) -> str:
    with app.app_context(), database().session() as session:
        return session.scalar(select(ServiceRequest.status)
                              .where(ServiceRequest.tracking_code == code))


def test_a_request_for_a_withdrawn_service_is_still_processed_and_a_roll_back_restores_it(
        app: Flask, client: FlaskClient, staff_users: dict,  # type: ignore[type-arg]
        demo_catalog: Catalog) -> None:
    code = file_online(client, demo_catalog)
    with app.app_context(), database().transaction() as session:
        create_user(session, "writer", "Writer", Role.editor, TEST_PASSWORD)
    login(client, "writer")
    _out_of_its_queue(client, demo_catalog)
    _withdraw(client)
    _post(client, f"{WITHDRAW}/publish", page=WITHDRAW)
    assert not _listed(client)

    clerk = app.test_client()
    login(clerk, "guides")
    assert clerk.get(f"/desk/requests/{code}").status_code == 200
    act(clerk, code, "claim")
    assert _status(app, code) == "in_review"
    tracked = client.get(f"/api/v1/track/{code}")
    assert tracked.status_code == 200 and tracked.get_json()["status"] == "in_review"

    rolled = _post(client, "/desk/catalog/versions/2/rollback", page="/desk/catalog/versions")
    assert rolled.headers["Location"].endswith("/desk/catalog/versions/4")
    assert _listed(client)
    assert client.get(f"/services/{SERVICE}").status_code == 200


def test_a_withdrawal_needs_a_reason_shown_beside_its_field(
        app: Flask, editor: FlaskClient, demo_catalog: Catalog) -> None:  # noqa: F811
    _out_of_its_queue(editor, demo_catalog)
    _withdraw(editor, reason="  ")
    page = editor.get(WITHDRAW).get_data(as_text=True)
    reason = page.split('name="reason"', 1)[0].rsplit('<div class="field', 1)[1]
    assert "field-error" in reason and "خالی نماند." in reason
    assert "منتشر نمی‌شود" in page
    _post(editor, f"{WITHDRAW}/publish", page=WITHDRAW)
    assert _listed(editor)
    _post(editor, f"{WITHDRAW}/discard", page=WITHDRAW)
    with app.app_context(), database().session() as session:
        assert session.scalar(select(CatalogDraft)) is None


def test_the_last_service_or_one_a_queue_names_cannot_be_withdrawn(
        app: Flask, demo_catalog: Catalog) -> None:
    with app.app_context(), database().transaction() as session:
        writer = create_user(session, "writer", "Writer", Role.editor, TEST_PASSWORD)
        with pytest.raises(catalog_editor.EditorError) as in_queue:
            catalog_editor.propose_withdrawal(session, SERVICE, "دلیل", writer)
        assert in_queue.value.code == "service_in_queue"
        with pytest.raises(catalog_editor.EditorError) as unknown:
            catalog_editor.propose_withdrawal(session, "no-such-service", "دلیل", writer)
        assert unknown.value.code == "no_such_part"
        with pytest.raises(catalog_editor.EditorError) as not_withdrawn:
            catalog_editor.propose_restore(session, SERVICE, writer)
        assert not_withdrawn.value.code == "not_withdrawn"
        alone = demo_catalog.model_copy(update={
            "services": [demo_catalog.service(SERVICE)], "queues": [], "offices": []})
        import_catalog(session, Catalog.model_validate(alone.model_dump()))
        with pytest.raises(catalog_editor.EditorError) as last:
            catalog_editor.propose_withdrawal(session, SERVICE, "دلیل", writer)
        assert last.value.code == "last_service"
        assert "تنها خدمت شناسنامه" in last.value.message


@pytest.mark.parametrize("role", [Role.clerk, Role.supervisor])
def test_staff_other_than_editors_cannot_reach_the_new_parts(
        app: Flask, client: FlaskClient, role: Role) -> None:
    with app.app_context(), database().transaction() as session:
        create_user(session, "someone", "Someone", role, TEST_PASSWORD,
                    [SERVICE] if role == Role.clerk else [])
    login(client, "someone")
    for part in ("agency", "categories", "survey", f"withdraw:{SERVICE}"):
        assert client.get(f"/desk/catalog/edit/{part}").status_code == 403, part
    token = csrf_token(client, "/desk/walk-in")
    for path in (f"/desk/catalog/withdraw/{SERVICE}", f"/desk/catalog/restore/{SERVICE}",
                 "/desk/catalog/edit/agency", "/desk/catalog/edit/categories/publish",
                 "/desk/catalog/edit/survey/preview"):
        method = client.get if path.endswith("preview") else client.post
        assert method(path, data={"csrf_token": token, "reason": "x"}).status_code == 403, path
