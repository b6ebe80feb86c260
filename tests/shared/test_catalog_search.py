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


@pytest.fixture(scope="module")
def demo_index() -> SearchIndex:
    return SearchIndex(load_catalog(DEMO_CATALOG))


@pytest.mark.parametrize(("query", "first"), [
    ("بوم گردی", ["ecolodge-licence"]),
    ("شکایت", ["tourism-complaint"]),
    ("نماد اعتماد", ["tourism-trust-symbol"]),
    ("تمدید پروانه دفتر خدمات مسافرتی",
     ["travel-agency-licence-renewal", "travel-agency-licence"]),
])
def test_demo_catalog_ranks_the_service_a_citizen_means_first(
        demo_index: SearchIndex, query: str, first: list[str]) -> None:
    assert _slugs(demo_index, query)[:len(first)] == first


@pytest.mark.parametrize(("query", "best"), [
    ("راهنمای گردشگری", {"tour-guide-card", "tour-guide-card-renewal"}),
    ("صنايع دستي", {"handicraft-artisan-id-card", "handicraft-production-licence",
                    "handicraft-quality-mark", "records-certificate"}),
])
def test_demo_catalog_ranks_exactly_the_services_titled_so_at_the_top(
        demo_index: SearchIndex, query: str, best: set[str]) -> None:
    hits = demo_index.search(query)
    assert {h.service.slug for h in hits if h.score == hits[0].score} == best
    assert len(hits) > len(best)  # the query also matches others' text, ranked lower


def test_demo_catalog_finds_agencies_by_the_everyday_word(demo_index: SearchIndex) -> None:
    assert {"travel-agency-licence", "travel-agency-licence-renewal"} <= set(
        _slugs(demo_index, "آژانس"))
