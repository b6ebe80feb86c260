"""The catalog schema and its files: whole catalogs load, bad ones name every problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from counter_server.config import DEMO_CATALOG
from shared.catalog.loader import CatalogError, load_catalog, write_catalog
from shared.catalog.schema import Catalog, ServiceSpec
from tests.factories import catalog_data, service_data, write_catalog_dir


def _slug(service: ServiceSpec) -> str:
    return service.slug


def _problems(path: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return [str(p) for p in caught.value.problems]


def test_demo_catalog_fills_every_directive_field_for_every_service() -> None:
    catalog = load_catalog(DEMO_CATALOG)
    assert len(catalog.services) >= 12
    assert {s.category for s in catalog.services} == {c.slug for c in catalog.categories}
    for service in catalog.services:
        assert service.steps and service.documents and service.laws and service.faq, service.slug
        assert service.fees.free or service.fees.items, service.slug
        assert service.complaint.how and service.complaint.authority, service.slug
        assert service.responsible.name and service.responsible.phone, service.slug
        assert service.form, service.slug
    assert any(s.fees.free for s in catalog.services)
    assert any(step.agency for s in catalog.services for step in s.steps), "no inquiry step"


def test_demo_catalog_is_persian_text_without_arabic_letter_forms() -> None:
    for file in DEMO_CATALOG.rglob("*.yaml"):
        content = file.read_text(encoding="utf-8")
        assert "ي" not in content and "ك" not in content, file


def test_demo_icons_and_logo_exist() -> None:
    catalog = load_catalog(DEMO_CATALOG)
    assets = DEMO_CATALOG.parent
    for category in catalog.categories:
        assert (assets / "icons" / f"{category.icon}.svg").is_file(), category.icon
    assert catalog.agency.logo and (assets / catalog.agency.logo).is_file()


def test_directory_and_single_file_load_the_same_catalog(tmp_path: Path) -> None:
    data = catalog_data()
    from_dir = load_catalog(write_catalog_dir(tmp_path / "dir", data))
    single = tmp_path / "catalog.yaml"
    single.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    expected = Catalog.model_validate(data)
    for loaded in (load_catalog(single), from_dir):
        assert loaded.model_copy(update={"services": sorted(loaded.services, key=_slug)}) == \
            expected.model_copy(update={"services": sorted(expected.services, key=_slug)})


@pytest.mark.parametrize("target", ["dir", "catalog.yaml"])
def test_written_catalog_reads_back_equal(tmp_path: Path, target: str) -> None:
    catalog = load_catalog(DEMO_CATALOG)
    write_catalog(catalog, tmp_path / target)
    assert load_catalog(tmp_path / target) == catalog


def test_unknown_key_is_named_with_file_and_path(tmp_path: Path) -> None:
    data = catalog_data()
    data["services"][0]["steps"][1]["colour"] = "آبی"
    problems = _problems(write_catalog_dir(tmp_path, data))
    assert problems == ["services/guide-card.yaml: steps[1].colour: unknown key"]


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    data = catalog_data()
    del data["services"][1]["responsible"]
    del data["agency"]["public_base_url"]
    problems = _problems(write_catalog_dir(tmp_path, data))
    assert "services/craft-licence.yaml: responsible: required key is missing" in problems
    assert "agency.yaml: public_base_url: required key is missing" in problems


def test_every_step_needs_an_id_unique_within_its_service(tmp_path: Path) -> None:
    data = catalog_data()
    del data["services"][0]["steps"][0]["id"]
    data["services"][1]["steps"][1]["id"] = "Not A Slug"
    problems = _problems(write_catalog_dir(tmp_path / "missing", data))
    assert "services/guide-card.yaml: steps[0].id: required key is missing" in problems
    assert any(p.startswith("services/craft-licence.yaml: steps[1].id:") for p in problems)

    data = catalog_data()
    data["services"][1]["steps"][2]["id"] = data["services"][1]["steps"][0]["id"]
    problems = _problems(write_catalog_dir(tmp_path / "twice", data))
    assert any(p.startswith("services/craft-licence.yaml") and "step listed twice: submit" in p
               for p in problems), problems


def test_every_demo_step_has_a_stable_id() -> None:
    for service in load_catalog(DEMO_CATALOG).services:
        ids = [step.id for step in service.steps]
        assert all(ids) and len(set(ids)) == len(ids), service.slug


def test_every_problem_in_every_file_is_listed(tmp_path: Path) -> None:
    data = catalog_data()
    data["services"][0]["fees"] = {"free": True, "items": data["services"][0]["fees"]["items"]}
    data["services"][0]["steps"][0]["actor"] = "agency"  # without naming the agency
    data["services"][1]["duration"] = {"value": 0, "unit": "working_days"}
    data["categories"][0]["slug"] = "Bad Slug"
    problems = _problems(write_catalog_dir(tmp_path, data))
    assert any(p.startswith("services/guide-card.yaml: fees: a free service cannot list")
               for p in problems)
    assert any(p.startswith("services/guide-card.yaml: steps[0]: a step done by another agency")
               for p in problems)
    assert any(p.startswith("services/craft-licence.yaml: duration.value:") for p in problems)
    assert any(p.startswith("categories.yaml: [0].slug:") for p in problems)


def test_service_in_unknown_category(tmp_path: Path) -> None:
    data = catalog_data()
    data["services"][1]["category"] = "museums"
    problems = _problems(write_catalog_dir(tmp_path, data))
    assert problems == ["catalog: service 'craft-licence' names unknown category 'museums'"]


def test_slug_must_match_file_name(tmp_path: Path) -> None:
    root = write_catalog_dir(tmp_path, catalog_data())
    (root / "services" / "guide-card.yaml").rename(root / "services" / "guides.yaml")
    assert _problems(root) == [
        "services/guides.yaml: slug: 'guide-card' differs from the file name 'guides'"
    ]


def test_key_written_twice_is_an_error(tmp_path: Path) -> None:
    root = write_catalog_dir(tmp_path, catalog_data())
    path = root / "services" / "guide-card.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "title: عنوان دوم\n", encoding="utf-8")
    (problem,) = _problems(root)
    assert problem.startswith("services/guide-card.yaml: line ") and "written twice" in problem


def test_holiday_in_the_wrong_year_file(tmp_path: Path) -> None:
    root = write_catalog_dir(tmp_path, catalog_data())
    (root / "holidays" / "1406.yaml").write_text(
        yaml.safe_dump([{"date": "1405-01-01", "title": "نوروز"}], allow_unicode=True)
    )
    assert _problems(root) == [
        "holidays/1406.yaml: [0].date: 1405-01-01 is not in the year 1406"
    ]


def test_form_choice_fields_need_options(tmp_path: Path) -> None:
    data = catalog_data()
    data["services"][0]["form"] = [{"name": "kind", "type": "select", "label": "نوع"},
                                   {"name": "note", "type": "text", "label": "یادداشت",
                                    "options": [{"value": "a", "label": "الف"}]}]
    problems = _problems(write_catalog_dir(tmp_path, data))
    assert any("form[0]: a select field needs at least two options" in p for p in problems)
    assert any("form[1]: a text field takes no options" in p for p in problems)


def test_missing_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "services").mkdir()
    problems = _problems(tmp_path)
    assert "agency.yaml: file is missing" in problems
    assert "categories.yaml: file is missing" in problems
    assert "services/: no service files (services/<slug>.yaml)" in problems


def test_not_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    root = write_catalog_dir(tmp_path, catalog_data(services=[service_data()]))
    (root / "categories.yaml").write_text("- slug: guides\n  title: [unclosed\n", encoding="utf-8")
    (problem,) = _problems(root)
    assert problem.startswith("categories.yaml: line ") and "not valid YAML" in problem


def _with_inquiry(**inquiry: object) -> dict:
    data = catalog_data()
    data["services"][0]["inquiries"] = [{
        "id": "record", "kind": "criminal_record",
        "inputs": {"national_code": "applicant.national_code"}, **inquiry}]
    return data


@pytest.mark.parametrize(("inquiry", "problem"), [
    ({"kind": "horoscope"}, "unknown inquiry kind 'horoscope'"),
    ({"inputs": {}}, "does not say where national_code comes from"),
    ({"inputs": {"national_code": "applicant.national_code", "mobile": "applicant.mobile"}},
     "criminal_record takes no mobile"),
    ({"inputs": {"national_code": "fields.no_such_field"}},
     "national_code comes from unknown 'fields.no_such_field'"),
    ({"at_step": "no-such-step"}, "runs at unknown step 'no-such-step'"),
    ({"replaces_documents": ["passport"]}, "replaces unknown document 'passport'"),
    ({"on_failure": "ignore"}, "on_failure"),
])
def test_a_bad_inquiry_is_named_with_file_and_path(tmp_path: Path, inquiry: dict,
                                                   problem: str) -> None:
    problems = _problems(write_catalog_dir(tmp_path, _with_inquiry(**inquiry)))
    assert len(problems) == 1 and problems[0].startswith("services/guide-card.yaml: ")
    assert problem in problems[0]


def test_an_inquiry_at_a_step_replacing_a_document_loads(tmp_path: Path) -> None:
    data = _with_inquiry(at_step="criminal-record-inquiry", on_failure="block",
                         replaces_documents=["certificate"])
    spec = load_catalog(write_catalog_dir(tmp_path, data)).service("guide-card")
    assert spec is not None
    assert spec.inquiries[0].at_step == "criminal-record-inquiry"
    assert spec.inquiry_replacing("certificate") is spec.inquiries[0]
    assert [d.id for d in spec.documents_to_ask] == []


def test_demo_inquiries_replace_the_papers_they_make_unnecessary() -> None:
    spec = load_catalog(DEMO_CATALOG).service("tour-guide-card")
    assert spec is not None
    asked = [d.id for d in spec.documents_to_ask]
    assert "military_service_card" not in asked and "personal_photo" in asked
    assert {i.kind for i in spec.inquiries} == {"mobile_owner", "criminal_record",
                                                "military_service"}


def _with_output(**output: object) -> dict:
    data = catalog_data()
    data["services"][0]["output"] = {"kind": "letter", "title": "پاسخ",
                                     "body": "{holder} گرامی، پاسخ نامه {tracking_code}.",
                                     **output}
    return data


@pytest.mark.parametrize(("output", "problem"), [
    ({"kind": "passport"}, "output.kind"),
    ({"body": None}, "a letter needs a body"),
    ({"kind": "card"}, "a card has no room for a body"),
    ({"body": "نامه {nope}"}, "output body names unknown {nope}"),
    ({"body": "نامه {holder"}, "write a brace as {{ or }}"),
    ({"body": "نامه {holder:>10}"}, "without ':' or '!'"),
    ({"fields": [{"source": "fields.missing", "label": "ناموجود"}]},
     "output field 'ناموجود' comes from unknown 'fields.missing'"),
    ({"validity_days": 0}, "validity_days"),
])
def test_a_bad_output_is_named_with_file_and_path(tmp_path: Path, output: dict,
                                                  problem: str) -> None:
    problems = _problems(write_catalog_dir(tmp_path, _with_output(**output)))
    assert len(problems) == 1 and problems[0].startswith("services/guide-card.yaml: ")
    assert problem in problems[0]


def test_an_output_names_form_fields_and_applicant_values(tmp_path: Path) -> None:
    data = _with_output(kind="certificate", validity_days=90,
                        body="گواهی می‌شود {holder} به {languages} راهنمایی می‌کند.",
                        fields=[{"source": "applicant.national_code", "label": "کد ملی"},
                                {"source": "fields.languages", "label": "زبان‌ها"}])
    spec = load_catalog(write_catalog_dir(tmp_path, data)).service("guide-card")
    assert spec is not None and spec.output is not None
    assert spec.output.kind.value == "certificate" and spec.output.validity_days == 90
    assert spec.output.placeholders() == ["holder", "languages"]


def test_the_demo_catalog_delivers_cards_licences_certificates_and_letters() -> None:
    catalog = load_catalog(DEMO_CATALOG)
    kinds = {s.slug: s.output.kind.value for s in catalog.services if s.output}
    assert kinds["tour-guide-card"] == "card"
    assert kinds["general-correspondence"] == "letter"
    assert set(kinds.values()) == {"card", "licence", "certificate", "letter"}
