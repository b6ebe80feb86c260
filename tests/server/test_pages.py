"""The online desk's pages: Persian, right-to-left, and every directive field on show."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient

from counter_server.context import database
from counter_server.usecases import catalog_versions
from shared.catalog import labels
from shared.catalog.schema import Catalog
from shared.text import format_duration, format_rials, to_persian_digits
from tests.factories import catalog_data
from tests.online import file_online


def _page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, path
    assert response.mimetype == "text/html"
    return html.unescape(response.get_data(as_text=True))


def test_home_lists_categories_and_services_in_persian_rtl(client: FlaskClient,
                                                           demo_catalog: Catalog) -> None:
    page = _page(client, "/")
    assert '<html lang="fa" dir="rtl">' in page
    assert "Vazirmatn-Regular.woff2" in page
    assert demo_catalog.agency.name in page
    for category in demo_catalog.categories:
        assert category.title in page
    for service in demo_catalog.services:
        assert service.title in page
    assert 'role="search"' in page


def test_service_page_shows_every_directive_field(client: FlaskClient,
                                                  demo_catalog: Catalog) -> None:
    for service in demo_catalog.services:
        page = _page(client, f"/services/{service.slug}")
        expected = [service.title, service.summary, format_duration(
            service.duration.value, service.duration.unit.value)]
        expected += [step.title for step in service.steps]
        expected += [labels.ACTORS[step.actor] for step in service.steps]
        expected += [step.agency for step in service.steps if step.agency]
        expected += [doc.name for doc in service.documents]
        expected += [law.title for law in service.laws] + [law.reference for law in service.laws]
        expected += [q.question for q in service.faq] + [q.answer for q in service.faq]
        expected += [format_rials(item.amount_rials) for item in service.fees.items]
        expected += [item.where_paid for item in service.fees.items]
        expected += [service.complaint.how, service.complaint.follow_up,
                     service.complaint.authority]
        responsible = service.responsible
        expected += [responsible.name, responsible.title, responsible.unit, responsible.hours,
                     to_persian_digits(responsible.phone)]
        expected += [labels.CHANNELS[c] for c in service.channels]
        if service.fees.free:
            expected.append("این خدمت رایگان است.")
        missing = [text for text in expected if text not in page]
        assert not missing, (service.slug, missing)


def test_fees_are_rials_in_persian_digits(client: FlaskClient, demo_catalog: Catalog) -> None:
    service = next(s for s in demo_catalog.services if not s.fees.free)
    page = _page(client, f"/services/{service.slug}")
    amount = service.fees.items[0].amount_rials
    assert format_rials(amount) in page
    assert f"{amount:,}" not in page and str(amount) not in page


def test_services_filtered_by_category(client: FlaskClient, demo_catalog: Catalog) -> None:
    category = demo_catalog.categories[0]
    page = _page(client, f"/services?category={category.slug}")
    for service in demo_catalog.services:
        assert (service.title in page) == (service.category == category.slug), service.slug


def test_search_page_matches_arabic_letter_forms(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), database().transaction() as session:
        catalog_versions.import_catalog(session, Catalog.model_validate(catalog_data()))
    page = _page(client, "/search?q=كارت+راهنماي+گردشگري")
    assert "صدور کارت راهنمای گردشگری" in page
    assert "۱ خدمت برای" in page
    nothing = _page(client, "/search?q=نهنگ")
    assert "خدمتی با عبارت «نهنگ» پیدا نشد" in nothing


def test_search_with_no_results_says_so_once(client: FlaskClient) -> None:
    page = _page(client, "/search?q=نهنگ")
    assert page.count("پیدا نشد") == 1
    assert "پیدا شد" not in page and "۰ خدمت" not in page


def test_tracking_code_typed_into_search_opens_its_tracking_page(client: FlaskClient,
                                                                 demo_catalog: Catalog) -> None:
    from shared.tracking_codes import format_code
    from tests.server.test_requests_api import body

    code = file_online(client, body(demo_catalog)).get_json()["tracking_code"]
    typed = format_code(code, persian=True).replace(" ", "-", 2)  # «۰۰۱۲-۳۴۵۶-۷۸۹۰ ۱۲۳۴»
    response = client.get("/search", query_string={"q": f" {typed} "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/t/{code}")
    page = _page(client, response.headers["Location"])
    assert demo_catalog.service("tour-guide-card").title in page and "ثبت‌شده" in page


def test_tracking_code_with_a_wrong_digit_is_called_a_typo(client: FlaskClient) -> None:
    mistyped = "0000 0000 0000 0001"  # 16 digits, check digit wrong
    page = _page(client, "/search?q=" + mistyped.replace(" ", "+"))
    assert "شبیه کد رهگیری است" in page and "یکی از رقم‌هایش درست نیست" in page
    assert 'href="/t?code=0000+0000+0000+0001"' in page
    assert "پیدا نشد" not in page and "پیدا شد" not in page
    assert "نادرست" in _page(client, "/t?code=0000+0000+0000+0001", status=400)


def test_withdrawn_service_page_says_so(app: Flask, client: FlaskClient,
                                        demo_catalog: Catalog) -> None:
    with app.app_context(), database().transaction() as session:
        catalog_versions.import_catalog(session, Catalog.model_validate(catalog_data()))
    page = _page(client, f"/services/{demo_catalog.services[0].slug}", status=410)
    assert "این خدمت دیگر ارائه نمی‌شود" in page


@pytest.mark.parametrize("path", ["/no-such-page", "/services/no-such-service",
                                  "/services?category=nothing"])
def test_not_found_page_is_persian(client: FlaskClient, path: str) -> None:
    page = _page(client, path, status=404)
    assert "صفحه پیدا نشد" in page and 'dir="rtl"' in page


def test_server_error_page_is_persian_and_hides_the_error(app: Flask) -> None:
    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    response = app.test_client().get("/broken")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "خطا در سامانه" in page and "secret internals" not in page


def test_pages_before_any_catalog_answer_503_in_persian(empty_app: Flask) -> None:
    response = empty_app.test_client().get("/")
    assert response.status_code == 503
    assert "سامانه موقتاً در دسترس نیست" in response.get_data(as_text=True)


def test_assets_serve_fonts_but_not_the_catalog(client: FlaskClient) -> None:
    font = client.get("/assets/fonts/Vazirmatn-Regular.woff2")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"
    assert client.get("/assets/catalog/agency.yaml").status_code == 404
    assert client.get("/assets/fonts/../catalog/agency.yaml").status_code == 404
