"""The catalog editor's agency, categories and default survey: each a draft of its own, with
errors beside the field, a preview, and published, diffed and audited like a service."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from counter_server.context import database
from counter_server.models import AuditEntry
from tests.conftest import csrf_token
from tests.server.test_catalog_editor import editor  # noqa: F401 (fixture)

AGENCY = "/desk/catalog/edit/agency"
CATEGORIES = "/desk/catalog/edit/categories"
SURVEY = "/desk/catalog/edit/survey"


def _form(page: str) -> dict[str, str]:
    """The fields form as the page fills it in (inputs, text areas, chosen options, ticks)."""
    form = page.split('name="mode" value="fields"', 1)[1].split("</form>", 1)[0]
    values = {name: html.unescape(value) for name, value in
              re.findall(r'<input(?![^>]*checkbox)[^>]*name="([^"]+)" value="([^"]*)"', form)}
    values.update({name: html.unescape(text) for name, text in
                   re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form)})
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options) or \
            re.search(r'<option value="([^"]*)"', options)
        values[name] = chosen.group(1) if chosen else ""
    for name in re.findall(r'<input type="checkbox" name="([^"]+)" value="yes"[^>]*checked', form):
        values[name] = "yes"
    return values


def _save(client: FlaskClient, path: str, **changes: str):  # type: ignore[no-untyped-def]
    """Post the fields form of `path` as shown, with `changes` typed in (None-like "" to
    empty a field; a key ending in `.remove` set to "" unticks it)."""
    values = {**_form(client.get(path).get_data(as_text=True)), **changes}
    values = {k: v for k, v in values.items() if not (k.endswith(".remove") and not v)}
    return client.post(path, data={**values, "mode": "fields",
                                   "csrf_token": csrf_token(client, path)})


def _publish(client: FlaskClient, path: str) -> str:
    response = client.post(f"{path}/publish", data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    return response.headers["Location"]


def _field(page: str, anchor: str) -> str:
    """The markup of the field (div or table cell) holding `anchor`, to its input's end."""
    before, after = page.split(anchor, 1)
    start = max(before.rfind('<div class="field'), before.rfind("<td"))
    return before[start:] + anchor + after.split(">", 1)[0]


def _catalog(client: FlaskClient) -> dict:  # type: ignore[type-arg]
    return client.get("/api/v1/catalog").get_json()


def test_the_agency_is_edited_with_errors_beside_its_fields_previewed_and_published(
        app: Flask, editor: FlaskClient) -> None:  # noqa: F811
    bad = _save(editor, AGENCY, **{"name": "", "contact.phone": "تلفن ندارد",
                                   "public_base_url": "miz"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "این مورد لازم است." in _field(page, 'name="name"')
    assert "قالب آن درست نیست." in _field(page, 'name="contact.phone"')
    assert "نشانی وب درست نیست." in _field(page, 'name="public_base_url"')
    assert "منتشر نمی‌شود" in page

    good = _save(editor, AGENCY, **{"name": "اداره کل میراث فرهنگی استان یزد",
                                    "contact.phone": "۰۳۵-۳۶۲۶۰۰۰۰", "contact.email": "",
                                    "public_base_url": "https://miz.chht-isfahan.example/"})
    assert good.status_code == 302, good.get_data(as_text=True)[:3000]
    changes = editor.get(AGENCY).get_data(as_text=True).split("catalog-diff", 1)[1]
    changes = changes.split("</table>", 1)[0]
    assert "contact.phone" in changes and "۰۳۵-۳۶۲۶۰۰۰۰" in changes
    assert "contact.email" in changes and "(حذف شد)" in changes
    preview = editor.get(f"{AGENCY}/preview").get_data(as_text=True)
    assert "پیش‌نمایش پیش‌نویس" in preview and "اداره کل میراث فرهنگی استان یزد" in preview
    assert "استان یزد" not in editor.get("/").get_data(as_text=True)

    assert _publish(editor, AGENCY).endswith("/desk/catalog/versions/2")
    agency = _catalog(editor)["agency"]
    assert agency["name"] == "اداره کل میراث فرهنگی استان یزد"
    assert agency["contact"]["phone"] == "035-36260000" and agency["contact"]["email"] is None
    assert "استان یزد" in editor.get("/").get_data(as_text=True)
    version = editor.get("/desk/catalog/versions/2").get_data(as_text=True)
    assert "agency.name" in version and "agency.contact.email" in version
    with app.app_context(), database().session() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "catalog.published")).one()
    assert entry.details["part"] == "agency" and "name" in entry.details["changes"]


def _row_of(page: str, slug: str) -> int:
    """The categories table's row showing `slug`."""
    return int(re.search(rf'name="\[(\d+)\]\.slug" value="{slug}"', page).group(1))


def test_categories_are_renamed_reordered_and_added_but_one_in_use_is_not_removed(
        app: Flask, editor: FlaskClient) -> None:  # noqa: F811
    page = editor.get(CATEGORIES).get_data(as_text=True)
    assert 'name="[0].slug" value="travel-agencies"' in page
    assert "readonly" in _field(page, 'name="[0].slug"')
    assert _row_of(page, "heritage") == 3 and 'name="[5].slug" value=""' in page

    refused = _save(editor, CATEGORIES, **{"[3].remove": "yes", "[5].slug": "Museums",
                                           "[5].title": "موزه‌ها", "[5].icon": "monument"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "قالب آن درست نیست." in _field(page, 'name="[4].slug" value="Museums"')
    heritage = _row_of(page, "heritage")
    row = page.split(f'name="[{heritage}].slug"', 1)[1].split("</tbody>", 1)[0]
    assert 'name="[6].remove" value="yes"' in row and "checked" in row
    assert "گروه «میراث فرهنگی و آثار تاریخی» هنوز خدمت‌های «" in row
    assert "نخست گروه آن خدمت‌ها را تغییر دهید." in row
    assert 'row-removed field-error' in page.split(f'name="[{heritage}].slug"', 1)[0][-700:]

    saved = _save(editor, CATEGORIES, **{"[6].remove": "", "[4].slug": "museums",
                                         "[4].order": "۰", "[0].title": "دفاتر مسافرتی",
                                         "[0].order": "۹"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    draft = editor.get(CATEGORIES).get_data(as_text=True).split("catalog-diff", 1)[1]
    assert "travel-agencies.title" in draft and "museums.slug" in draft
    assert "heritage" not in draft.split("</table>", 1)[0], "a row kept is no change"
    preview = editor.get(f"{CATEGORIES}/preview").get_data(as_text=True)
    assert preview.index("موزه‌ها") < preview.index("راهنمایان و آموزش") \
        < preview.index("دفاتر مسافرتی")

    _publish(editor, CATEGORIES)
    categories = sorted(_catalog(editor)["categories"], key=lambda c: c["order"])
    assert categories[0]["slug"] == "museums"
    assert categories[-1] == {**categories[-1], "slug": "travel-agencies",
                              "title": "دفاتر مسافرتی", "order": 9}

    page = editor.get(CATEGORIES).get_data(as_text=True)
    removed = _save(editor, CATEGORIES, **{f"[{_row_of(page, 'museums')}].remove": "yes"})
    assert removed.status_code == 302  # no service is in it
    _publish(editor, CATEGORIES)
    assert "museums" not in [c["slug"] for c in _catalog(editor)["categories"]]


def test_the_default_survey_is_edited_previewed_and_published(
        app: Flask, editor: FlaskClient) -> None:  # noqa: F811
    bad = _save(editor, SURVEY, **{"questions[0].id": "Satisfaction!", "questions[1].id": "",
                                   "questions[1].text": ""})
    assert bad.status_code == 422
    assert "قالب آن درست نیست." in _field(bad.get_data(as_text=True), 'name="questions[0].id"')
    empty = _save(editor, SURVEY, **{"questions[0].id": "", "questions[0].text": "",
                                     "questions[1].id": "", "questions[1].text": ""})
    assert empty.status_code == 422
    assert "دست‌کم ۱ مورد لازم است." in empty.get_data(as_text=True)

    good = _save(editor, SURVEY, **{
        "questions[0].id": "satisfaction", "questions[0].text": "از خدمت چقدر راضی بودید؟",
        "questions[1].id": "staff_conduct", "questions[1].text": "برخورد کارکنان چگونه بود؟",
        "questions[2].id": "waiting", "questions[2].text": "زمان انتظار چگونه بود؟",
        "questions[2].scale": "stars"})
    assert good.status_code == 302
    preview = editor.get(f"{SURVEY}/preview").get_data(as_text=True)
    assert "زمان انتظار چگونه بود؟" in preview and "disabled" in preview
    _publish(editor, SURVEY)
    questions = _catalog(editor)["survey"]["questions"]
    assert [q["id"] for q in questions] == ["satisfaction", "staff_conduct", "waiting"]
    assert questions[2]["scale"] == "stars"
    version = editor.get("/desk/catalog/versions/2").get_data(as_text=True)
    assert "survey.questions[2].text" in version
