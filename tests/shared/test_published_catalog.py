"""The published catalog on a client older than the server: keys it does not know are left
out at every level, while a catalog file with the same keys is still refused, key by key."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from shared.catalog.loader import CatalogError, load_catalog
from shared.catalog.published import parse_published_catalog
from shared.catalog.schema import Catalog
from tests.factories import catalog_data


def with_new_keys(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as a newer server might send it: a new key at the top, in a service, in a step."""
    grown = copy.deepcopy(data)
    grown["announcement"] = {"text": "ساعت کار تابستانی"}
    grown["services"][0]["video_url"] = "https://miz.example.ir/v/1"
    grown["services"][0]["steps"][0]["icon"] = "stamp"
    return grown


def published(catalog: Catalog) -> dict[str, Any]:
    """The body of `GET /api/v1/catalog`: the catalog as JSON, with its version."""
    return {"version": 7, "published_at": "2026-03-01T09:30:00+03:30",
            **json.loads(catalog.model_dump_json())}


def test_a_published_catalog_with_new_keys_is_read_without_them(demo_catalog: Catalog) -> None:
    body = with_new_keys(published(demo_catalog))
    body["calendar"]["working_hours"]["saturday"]["note"] = "deeper: a model in a dict"
    body["survey"]["questions"][0]["hint"] = "deeper: a model in an optional field"
    assert parse_published_catalog(body) == demo_catalog


def test_what_a_published_catalog_does_declare_is_still_checked(demo_catalog: Catalog) -> None:
    body = with_new_keys(published(demo_catalog))
    body["services"][0]["duration"]["value"] = 0
    with pytest.raises(ValidationError, match="duration.value"):
        parse_published_catalog(body)
    del body["agency"]
    with pytest.raises(ValidationError, match="agency"):
        parse_published_catalog(body)


def test_the_same_new_keys_in_a_catalog_file_are_errors_naming_each(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(with_new_keys(catalog_data()), allow_unicode=True),
                    encoding="utf-8")
    with pytest.raises(CatalogError) as refused:
        load_catalog(path)
    assert sorted(p.path for p in refused.value.problems) == [
        "announcement", "services[0].steps[0].icon", "services[0].video_url"]
    assert {p.message for p in refused.value.problems} == {"unknown key"}
