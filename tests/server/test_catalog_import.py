"""Importing catalogs: versions, withdrawal, and all-or-nothing on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from counter_server.context import database
from counter_server.models import CatalogVersion, Category, Service
from counter_server.usecases import catalog_versions
from shared.catalog.schema import Catalog
from tests.factories import catalog_data, service_data, write_catalog_dir


def _import(app: Flask, data: dict) -> catalog_versions.ImportResult:
    with app.app_context(), database().transaction() as session:
        return catalog_versions.import_catalog(session, Catalog.model_validate(data))


def _count(app: Flask, model: type) -> int:
    with app.app_context(), database().session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_same_catalog_twice_publishes_one_version(empty_app: Flask) -> None:
    first = _import(empty_app, catalog_data())
    again = _import(empty_app, catalog_data())
    assert (first.version, first.published, sorted(first.added)) == (
        1, True, ["craft-licence", "guide-card"])
    assert (again.version, again.published) == (1, False)
    assert _count(empty_app, CatalogVersion) == 1


def test_changed_service_publishes_a_new_version(empty_app: Flask) -> None:
    _import(empty_app, catalog_data())
    data = catalog_data()
    data["services"][0]["duration"] = {"value": 7, "unit": "working_days"}
    result = _import(empty_app, data)
    assert (result.version, result.changed, result.added, result.withdrawn) == (
        2, ["guide-card"], [], [])
    with empty_app.app_context(), database().session() as session:
        snapshot = catalog_versions.current_snapshot(session)
        assert snapshot.version == 2
        assert snapshot.service("guide-card").duration.value == 7


def test_missing_service_is_withdrawn_not_deleted_and_can_return(empty_app: Flask) -> None:
    _import(empty_app, catalog_data())
    data = catalog_data()
    data["services"] = data["services"][:1]
    assert _import(empty_app, data).withdrawn == ["craft-licence"]
    with empty_app.app_context(), database().session() as session:
        row = session.get(Service, "craft-licence")
        assert (row.status, row.withdrawn_in, row.introduced_in) == ("withdrawn", 2, 1)
        assert session.get(Category, "crafts") is not None
        with pytest.raises(catalog_versions.ServiceWithdrawn):
            catalog_versions.get_service(session, "craft-licence")
    restored = _import(empty_app, catalog_data())
    assert restored.changed == ["craft-licence"]
    with empty_app.app_context(), database().session() as session:
        row = session.get(Service, "craft-licence")
        assert (row.status, row.withdrawn_in, row.updated_in) == ("active", None, 3)


def test_failure_half_way_through_an_import_changes_nothing(
    empty_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(empty_app, catalog_data())
    data = catalog_data(categories=[*catalog_data()["categories"],
                                    {"slug": "museums", "title": "موزه‌ها", "icon": "museum"}])
    data["services"].append(service_data("museum-visit", "museums"))

    def fail(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(catalog_versions, "_store_services", fail)
    with pytest.raises(RuntimeError):
        _import(empty_app, data)
    assert _count(empty_app, CatalogVersion) == 1
    with empty_app.app_context(), database().session() as session:
        assert session.get(Category, "museums") is None
        assert catalog_versions.current_snapshot(session).version == 1


def test_cli_import_of_a_bad_catalog_changes_nothing_and_lists_every_problem(
    runner: FlaskCliRunner, empty_app: Flask, tmp_path: Path
) -> None:
    good = write_catalog_dir(tmp_path / "good", catalog_data())
    assert runner.invoke(args=["catalog", "import", str(good)]).exit_code == 0

    data = catalog_data()
    data["services"].append(service_data("new-service", title="خدمت تازه"))
    data["services"][0]["steps"][0]["actor"] = "robot"
    del data["services"][1]["faq"]
    bad = write_catalog_dir(tmp_path / "bad", data)
    result = runner.invoke(args=["catalog", "import", str(bad)])

    assert result.exit_code == 1
    assert "2 problem(s); nothing was imported" in result.output
    assert "services/guide-card.yaml: steps[0].actor:" in result.output
    assert "services/craft-licence.yaml: faq: required key is missing" in result.output
    assert _count(empty_app, CatalogVersion) == 1
    with empty_app.app_context(), database().session() as session:
        assert session.get(Service, "new-service") is None


def test_cli_import_export_round_trip(runner: FlaskCliRunner, tmp_path: Path) -> None:
    source = write_catalog_dir(tmp_path / "source", catalog_data())
    first = runner.invoke(args=["catalog", "import", str(source)])
    assert "Published catalog version 1: 2 added, 0 changed, 0 withdrawn." in first.output
    for target in ("exported", "exported.yaml"):
        exported = runner.invoke(args=["catalog", "export", str(tmp_path / target)])
        assert exported.exit_code == 0, exported.output
        again = runner.invoke(args=["catalog", "import", str(tmp_path / target)])
        assert "No change: the catalog equals version 1." in again.output


def test_cli_export_before_any_import_fails_clearly(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["catalog", "export", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "No catalog has been imported yet." in result.output


def test_init_db_is_repeatable(runner: FlaskCliRunner) -> None:
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0 and "Database ready" in result.output
