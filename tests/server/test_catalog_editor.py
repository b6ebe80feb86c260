"""The catalog editor on the desk: drafts checked by the schema with errors beside the fields,
the citizen's preview, publishing a new version with its diff, history and roll back, the
review flag, who may reach it, and the round trip with the YAML import and export."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update

from counter_server.context import database
from counter_server.db import utcnow
from counter_server.models import AuditEntry, CatalogDraft, Service
from counter_server.usecases import catalog_editor
from counter_server.usecases.staff import Role, create_user
from shared.catalog.loader import load_catalog, yaml_text
from tests.conftest import TEST_PASSWORD, csrf_token, login

SERVICE = "tour-guide-card"
PART = f"service:{SERVICE}"
EDIT = f"/desk/catalog/edit/{PART}"


@pytest.fixture
def editor(app: Flask, client: FlaskClient) -> FlaskClient:
    """A member of staff with the editor role, logged in (second factor and all)."""
    with app.app_context(), database().transaction() as session:
        create_user(session, "writer", "Writer", Role.editor, TEST_PASSWORD)
    login(client, "writer")
    return client


def _fields(page: str) -> dict[str, str]:
    """The common fields' form as the page fills it in."""
    form = page.split('name="mode" value="fields"', 1)[1].split("</form>", 1)[0]
    values = {name: html.unescape(value) for name, value in
              re.findall(r'<input(?![^>]*checkbox)[^>]*name="([^"]+)" value="([^"]*)"', form)}
    values.update({name: html.unescape(text) for name, text in
                   re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form)})
    values.update(dict(re.findall(r'<select[^>]*name="([^"]+)"[^>]*>.*?<option value="([^"]+)" '
                                  r'selected', form, re.S)))
    if re.search(r'name="fees.free" value="yes" checked', form):
        values["fees.free"] = "yes"
    values.pop("csrf_token", None)
    return values


def _save_fields(client: FlaskClient, **changes: str):  # type: ignore[no-untyped-def]
    page = client.get(EDIT).get_data(as_text=True)
    form = {**_fields(page), **changes, "mode": "fields",
            "csrf_token": csrf_token(client, EDIT)}
    return client.post(EDIT, data=form)


def _api_fee(client: FlaskClient) -> int:
    catalog = client.get("/api/v1/catalog").get_json()
    service = next(s for s in catalog["services"] if s["slug"] == SERVICE)
    return service["fees"]["items"][0]["amount_rials"]


def _post(client: FlaskClient, path: str, page: str = EDIT,  # type: ignore[no-untyped-def]
          **form: str):
    return client.post(path, data={**form, "csrf_token": csrf_token(client, page)})


def test_save_check_preview_publish_diff_and_roll_back(app: Flask, editor: FlaskClient) -> None:
    assert _api_fee(editor) == 3_500_000
    saved = _save_fields(editor, **{"fees.items[0].amount_rials": "۴٬۲۰۰٬۰۰۰",
                                   "national_id": "۱۲۳۴۵۶۷۸"})
    assert saved.status_code == 302
    page = editor.get(EDIT).get_data(as_text=True)
    assert "تفاوت با نسخهٔ کنونی" in page
    assert "fees.items[0].amount_rials" in page and "۳۵۰۰۰۰۰" in page and "۴۲۰۰۰۰۰" in page
    assert _api_fee(editor) == 3_500_000, "a draft is not published"

    preview = editor.get(f"{EDIT}/preview").get_data(as_text=True)
    assert "پیش‌نمایش پیش‌نویس" in preview and "۴٬۲۰۰٬۰۰۰ ریال" in preview
    assert "۴٬۲۰۰٬۰۰۰" not in editor.get(f"/services/{SERVICE}").get_data(as_text=True)

    published = _post(editor, f"{EDIT}/publish")
    assert published.headers["Location"].endswith("/desk/catalog/versions/2")
    assert _api_fee(editor) == 4_200_000
    assert "۴٬۲۰۰٬۰۰۰" in editor.get(f"/services/{SERVICE}").get_data(as_text=True)
    version = editor.get("/desk/catalog/versions/2").get_data(as_text=True)
    assert f"services.{SERVICE}.fees.items[0].amount_rials" in version
    assert f"services.{SERVICE}.national_id" in version and "۱۲۳۴۵۶۷۸" in version
    with app.app_context(), database().session() as session:
        assert session.scalar(select(CatalogDraft)) is None
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
                   if e.action.startswith("catalog.")]
    assert actions == ["catalog.draft_opened", "catalog.draft_saved", "catalog.published"]

    rolled = _post(editor, "/desk/catalog/versions/1/rollback", page="/desk/catalog/versions")
    assert rolled.headers["Location"].endswith("/desk/catalog/versions/3")
    assert _api_fee(editor) == 3_500_000
    history = editor.get("/desk/catalog/versions").get_data(as_text=True)
    assert "rollback to 1 by writer" in history and "editor writer: service:tour-guide-card" \
        in history


def test_an_invalid_draft_shows_errors_beside_the_fields_and_cannot_be_published(
        app: Flask, editor: FlaskClient) -> None:
    refused = _save_fields(editor, **{"fees.items[0].amount_rials": "سه میلیون", "title": ""})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    fee_cell = page.split('name="fees.items[0].amount_rials"', 1)[0].rsplit("<td", 1)[1]
    assert "field-error" in fee_cell and "باید عدد صحیح باشد." in fee_cell
    title_field = page.split('id="f-title"', 1)[0].rsplit('<div class="field', 1)[1]
    assert "این مورد لازم است." in title_field
    assert "منتشر نمی‌شود" in page

    published = _post(editor, f"{EDIT}/publish")
    assert published.status_code == 302
    assert "خطا دارد و منتشر نمی‌شود" in editor.get(EDIT).get_data(as_text=True)
    assert editor.get("/api/v1/catalog").get_json()["version"] == 1
    with app.app_context(), database().session() as session:
        with pytest.raises(catalog_editor.EditorError) as refused_publish:
            draft = catalog_editor.find_draft(session, PART)
            catalog_editor.publish(session, draft, None)  # type: ignore[arg-type]
        assert refused_publish.value.code == "draft_invalid"


def test_the_yaml_editor_reaches_every_field_and_checks_references(
        app: Flask, editor: FlaskClient, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    entry = catalog_editor.part_content(demo_catalog, PART)
    entry["sms"] = {"steps": ["no-such-step"]}
    bad = _post(editor, EDIT, mode="yaml", yaml=yaml_text(entry))
    assert bad.status_code == 422
    assert "پیامک مرحلهٔ ناشناختهٔ no-such-step را اعلام می‌کند." in bad.get_data(as_text=True)

    unreadable = _post(editor, EDIT, mode="yaml", yaml="title: [unclosed")
    assert unreadable.status_code == 422
    assert "متن YAML خوانده نمی‌شود" in unreadable.get_data(as_text=True)

    entry["sms"] = {"steps": [entry["steps"][1]["id"]]}
    entry["faq"].append({"question": "کارت را چگونه تمدید کنم؟", "answer": "با خدمت تمدید."})
    assert _post(editor, EDIT, mode="yaml", yaml=yaml_text(entry)).status_code == 302
    _post(editor, f"{EDIT}/publish")
    api = next(s for s in editor.get("/api/v1/catalog").get_json()["services"]
               if s["slug"] == SERVICE)
    assert api["sms"]["steps"] == [entry["steps"][1]["id"]]
    assert api["faq"][-1]["question"] == "کارت را چگونه تمدید کنم؟"


def test_offices_and_queues_are_drafted_and_published_like_a_service(
        app: Flask, editor: FlaskClient, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    lobby = catalog_editor.part_content(demo_catalog, "lobby")
    lobby["queues"][0]["max_consecutive_priority"] = 2
    lobby["queues"][0]["services"].append("no-such-service")
    page = "/desk/catalog/edit/lobby"
    bad = _post(editor, page, page=page, mode="yaml", yaml=yaml_text(lobby))
    assert bad.status_code == 422
    assert "خدمت ناشناختهٔ no-such-service را نام برده است." in bad.get_data(as_text=True)
    lobby["queues"][0]["services"].pop()
    assert _post(editor, page, page=page, mode="yaml", yaml=yaml_text(lobby)).status_code == 302
    _post(editor, f"{page}/publish", page=page)
    queues = editor.get("/api/v1/catalog").get_json()["queues"]
    assert queues[0]["max_consecutive_priority"] == 2


def test_what_the_editor_publishes_round_trips_through_yaml_export_and_import(
        app: Flask, editor: FlaskClient, runner: FlaskCliRunner, tmp_path: Path) -> None:
    _save_fields(editor, **{"fees.items[0].amount_rials": "4200000", "national_id": "99887766"})
    _post(editor, f"{EDIT}/publish")
    exported = runner.invoke(args=["catalog", "export", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output
    loaded = load_catalog(tmp_path / "out")
    assert loaded.service(SERVICE).national_id == "99887766"
    assert loaded.service(SERVICE).fees.items[0].amount_rials == 4_200_000
    again = runner.invoke(args=["catalog", "import", str(tmp_path / "out")])
    assert "No change: the catalog equals version 2" in again.output


def test_services_not_reviewed_for_months_are_flagged_until_reviewed(
        app: Flask, editor: FlaskClient) -> None:
    with app.app_context(), database().transaction() as session:
        session.execute(update(Service).where(Service.slug == SERVICE)
                        .values(reviewed_at=utcnow() - timedelta(days=400)))
    home = editor.get("/desk/catalog").get_data(as_text=True)
    stale = home.split('id="stale-title"', 1)[1].split("</section>", 1)[0]
    assert "کارت راهنمای گردشگری" in stale and "۱۲ ماه" in home.split('id="stale-title"')[1]
    _post(editor, f"/desk/catalog/review/{SERVICE}", page="/desk/catalog")
    assert 'id="stale-title"' not in editor.get("/desk/catalog").get_data(as_text=True)


def test_a_new_service_starts_as_a_draft_and_needs_filling_in(
        app: Flask, editor: FlaskClient) -> None:
    made = _post(editor, "/desk/catalog/new", page="/desk/catalog", slug="boat-tour-permit",
                 category="tourism")
    assert made.headers["Location"].endswith("/desk/catalog/edit/service:boat-tour-permit")
    page = editor.get("/desk/catalog/edit/service:boat-tour-permit").get_data(as_text=True)
    assert "منتشر نمی‌شود" in page
    assert "boat-tour-permit" not in json.dumps(editor.get("/api/v1/catalog").get_json())


@pytest.mark.parametrize("role", [Role.clerk, Role.supervisor, Role.receptionist])
def test_only_admins_and_editors_reach_the_editor(app: Flask, client: FlaskClient,
                                                  role: Role) -> None:
    with app.app_context(), database().transaction() as session:
        create_user(session, "someone", "Someone", role, TEST_PASSWORD,
                    [SERVICE] if role == Role.clerk else [])
    login(client, "someone")
    for path in ("/desk/catalog", EDIT, "/desk/catalog/versions"):
        assert client.get(path).status_code == 403
    token = csrf_token(client, "/desk/walk-in")
    assert client.post(f"{EDIT}/publish", data={"csrf_token": token}).status_code == 403
    assert client.post("/desk/catalog/versions/1/rollback",
                       data={"csrf_token": token}).status_code == 403


def test_editors_must_have_a_second_factor(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), database().transaction() as session:
        create_user(session, "writer", "Writer", Role.editor, TEST_PASSWORD)
    response = client.post("/desk/login", data={
        "username": "writer", "password": TEST_PASSWORD,
        "csrf_token": csrf_token(client, "/desk/login")})
    assert "/desk/two-factor/setup" in response.headers["Location"]


def test_an_editor_works_on_the_catalog_only(editor: FlaskClient) -> None:
    assert editor.get("/desk/").headers["Location"].endswith("/desk/catalog")
    for path in ("/desk/walk-in", "/desk/tickets", "/desk/kiosks", "/desk/staff",
                 "/desk/reports/satisfaction", "/desk/queue-report"):
        assert editor.get(path).status_code == 403, path
    nav = editor.get("/desk/catalog").get_data(as_text=True).split("</nav>", 1)[0]
    assert "شناسنامه خدمات" in nav and "ثبت درخواست حضوری" not in nav
