"""The demo catalog says what Miz really does: no payment gateway, no electronic copy, and
law links that lead to the law, not to a site's home page."""

from __future__ import annotations

import json
from urllib.parse import urlparse

from shared.catalog.schema import Catalog

# Promises of things Miz does not have: fees are paid at the bank and the clerk records the
# payment reference; results are handed over in person or posted.
NOT_OFFERED = ("درگاه پرداخت", "پرداخت الکترونیکی", "پرداخت آنلاین", "نسخه الکترونیکی",
               "در میز خدمت قرار می‌گیرد", "الکترونیکی تحویل", "پرونده الکترونیکی در میز خدمت")


def test_demo_catalog_promises_no_gateway_and_no_electronic_copy(demo_catalog: Catalog) -> None:
    for service in demo_catalog.services:
        text = json.dumps(service.model_dump(mode="json"), ensure_ascii=False)
        found = [phrase for phrase in NOT_OFFERED if phrase in text]
        assert not found, f"{service.slug} promises {found}"


def test_fees_say_where_to_pay_and_that_the_clerk_records_it(demo_catalog: Catalog) -> None:
    for service in demo_catalog.services:
        for item in service.fees.items:
            assert "بانک" in item.where_paid and "شماره پیگیری" in item.where_paid, service.slug


def test_law_links_lead_to_a_page_not_a_home_page(demo_catalog: Catalog) -> None:
    for service in demo_catalog.services:
        for law in service.laws:
            assert law.title and law.reference
            if law.link is not None:
                url = urlparse(str(law.link))
                assert url.path.strip("/") or url.query, f"{service.slug}: {law.link} is a home page"
