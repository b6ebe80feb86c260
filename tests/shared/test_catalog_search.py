"""Persian-aware search: letter forms, digits and ZWNJ match alike; results are ranked."""

from __future__ import annotations

import pytest

from counter_server.config import DEMO_CATALOG
from shared.catalog.loader import load_catalog
from shared.catalog.schema import Catalog
from shared.catalog.search import SearchIndex
from tests.factories import catalog_data, service_data


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    data = catalog_data()
    data["services"].append(service_data(
        "card-renewal", title="تمدید کارت راهنمای گردشگری",
        summary="تمدید کارت پس از ۱۲ ماه فعالیت، ویژه راهنمایان صنایع‌دستی.",
        keywords=[]))
    return SearchIndex(Catalog.model_validate(data))


def _slugs(index: SearchIndex, query: str) -> list[str]:
    return [hit.service.slug for hit in index.search(query)]


def test_arabic_kaf_and_yeh_find_persian_text(index: SearchIndex) -> None:
    assert set(_slugs(index, "كارت راهنماي گردشگري")) == {"guide-card", "card-renewal"}


def test_digits_in_any_script_match(index: SearchIndex) -> None:
    assert _slugs(index, "12 ماه") == ["card-renewal"]
    assert _slugs(index, "١٢ ماه") == ["card-renewal"]


def test_zwnj_space_or_nothing_match_alike(index: SearchIndex) -> None:
    for query in ("صنایع‌دستی", "صنایع دستی", "صنایعدستی"):
        assert "craft-licence" in _slugs(index, query), query


def test_title_match_outranks_summary_match(index: SearchIndex) -> None:
    assert _slugs(index, "صنایع دستی") == ["craft-licence", "card-renewal"]


def test_every_word_must_match(index: SearchIndex) -> None:
    assert _slugs(index, "کارت نهنگ") == []
    assert _slugs(index, "") == []


def test_search_in_one_category(index: SearchIndex) -> None:
    assert index.search("پروانه", category="guides") == []
    assert [h.service.slug for h in index.search("پروانه", category="crafts")] == ["craft-licence"]


def test_demo_catalog_answers_what_citizens_type() -> None:
    index = SearchIndex(load_catalog(DEMO_CATALOG))
    for query in ("آژانس", "راهنمای گردشگری", "بوم گردی", "صنايع دستي"):
        assert index.search(query), query
