"""The catalog editor in Chromium: an admin changes a service's fee, sees the citizen's preview
and publishes; the public page and the API serve the new version and a kiosk takes it on its
next sync. Also screenshots of the editor, administration, the fleet's alerts and reception.

It runs on a server of its own: publishing changes the catalog every other browser test reads.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from counter_server import create_app, migrate
from counter_server.context import database
from counter_server.demo import seed
from counter_server.usecases import catalog_editor, catalog_versions, kiosks
from counter_server.usecases.catalog_versions import import_catalog
from kiosk.local.store import KioskStore
from kiosk.sync.engine import SyncEngine
from kiosk.sync.policy import KioskPolicy
from shared.catalog.loader import yaml_text
from shared.catalog.schema import Catalog
from tests.browser.conftest import screenshot, staff_login
from tests.conftest import ONLINE_FILING
from tests.kiosk.live import kiosk_config

SERVICE = "tour-guide-card"
POLICY = KioskPolicy(enforce_queue_hours=False, inline_timeout=2.0, lease_size=2,
                     lease_low_water=1, max_backoff=1.0, interval=0.2)


@pytest.fixture(scope="module")
def editor_app(tmp_path_factory: pytest.TempPathFactory, demo_catalog: Catalog) -> Flask:
    folder = tmp_path_factory.mktemp("editor")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'miz.sqlite3'}",
                      "SECRET_KEY": "editor-tests", "INSTANCE_PATH": str(folder),
                      "SESSION_COOKIE_SECURE": False, "SMS_QUIET_HOURS": "", **ONLINE_FILING})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, demo_catalog, source="browser tests")
            seed(session, app.extensions["miz.storage"], "http://127.0.0.1")
    return app


@pytest.fixture(scope="module")
def editor_server(editor_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, editor_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _fee_in_api(page: Page, server: str) -> tuple[int, int]:
    catalog = page.request.get(f"{server}/api/v1/catalog").json()
    service = next(s for s in catalog["services"] if s["slug"] == SERVICE)
    return catalog["version"], service["fees"]["items"][0]["amount_rials"]


def _kiosk_sync(editor_app: Flask, server: str, folder: Path,
                name: str = "editor-test-kiosk") -> Iterator[tuple[str, int, dict[str, Any]]]:
    """A lobby kiosk against the live server: each step syncs once and reports what it
    did with the catalog, and the cached catalog's version and services by slug."""
    with editor_app.app_context(), database().transaction() as session:
        registration = kiosks.register_kiosk(session, name)
        kiosk_id, token = registration.kiosk.id, registration.token
    config = kiosk_config(folder, server, kiosk_id, token, data_dir=folder / "data")
    with KioskStore(config.data_dir) as store:
        engine = SyncEngine(config, store, policy=POLICY)
        while True:
            result = engine.run_once()
            cached = store.cached_catalog()
            assert cached is not None
            body = json.loads(cached.body)
            yield result.catalog, cached.version, {s["slug"]: s for s in body["services"]}


def _kiosk_fee(step: tuple[str, int, dict[str, Any]]) -> tuple[str, int, int]:
    """A kiosk's sync step, with the fee of the service whose fee the test changes."""
    result, version, services = step
    return result, version, services[SERVICE]["fees"]["items"][0]["amount_rials"]


def test_an_admin_edits_a_fee_previews_and_publishes_and_a_kiosk_takes_it(
        page: Page, editor_app: Flask, editor_server: str, tmp_path: Path) -> None:
    kiosk = _kiosk_sync(editor_app, editor_server, tmp_path / "kiosk")
    assert _kiosk_fee(next(kiosk)) == ("updated", 1, 3_500_000)
    assert _fee_in_api(page, editor_server) == (1, 3_500_000)

    staff_login(page, editor_server, "admin")
    page.get_by_role("link", name="شناسنامه خدمات").click()
    expect(page.get_by_role("heading", name="شناسنامه خدمات", exact=True)).to_be_visible()
    screenshot(page, "catalog-editor-home")
    page.get_by_role("link", name="صدور کارت راهنمای گردشگری").click()
    fields = page.locator("form:has(input[name=mode][value=fields])")

    fields.get_by_label("مبلغ به ریال ۱").fill("چهار میلیون")
    fields.get_by_role("button", name="ذخیرهٔ پیش‌نویس").click()
    expect(page.locator("#error-summary")).to_contain_text("منتشر نمی‌شود")
    expect(fields.locator("td.field-error")).to_contain_text("باید عدد صحیح باشد.")
    expect(page.get_by_role("button", name="انتشار نسخهٔ تازه")).to_be_disabled()
    screenshot(page, "catalog-editor-errors")

    fields.get_by_label("مبلغ به ریال ۱").fill("۴٬۲۰۰٬۰۰۰")
    fields.get_by_label("شناسهٔ خدمت در فهرست ملی خدمات (اختیاری)").fill("۱۲۳۴۵۶۷۸")
    fields.get_by_role("button", name="ذخیرهٔ پیش‌نویس").click()
    expect(page.locator(".flash-success")).to_contain_text("پیش‌نویس ذخیره شد")
    diff = page.locator("table.catalog-diff")
    expect(diff).to_contain_text("fees.items[0].amount_rials")
    expect(diff).to_contain_text("۴۲۰۰۰۰۰")
    screenshot(page, "catalog-editor-draft-diff")

    edit_url = page.url
    preview = page.get_by_role("link", name="پیش‌نمایش برای شهروند").get_attribute("href")
    page.goto(f"{editor_server}{preview}")
    expect(page.locator(".flash-info")).to_contain_text("پیش‌نمایش پیش‌نویس")
    expect(page.locator(".facts")).to_contain_text("۴٬۲۰۰٬۰۰۰ ریال")
    screenshot(page, "catalog-editor-preview")
    assert _fee_in_api(page, editor_server) == (1, 3_500_000)

    page.goto(edit_url)
    page.get_by_role("button", name="انتشار نسخهٔ تازه").click()
    expect(page.get_by_role("heading", name="نسخهٔ ۲ شناسنامه خدمات (کنونی)")).to_be_visible()
    expect(page.locator("table.catalog-diff")).to_contain_text(
        f"services.{SERVICE}.fees.items[0].amount_rials")
    screenshot(page, "catalog-editor-published-version")

    assert _fee_in_api(page, editor_server) == (2, 4_200_000)
    page.goto(f"{editor_server}/services/{SERVICE}")
    expect(page.locator(".facts")).to_contain_text("۴٬۲۰۰٬۰۰۰ ریال")
    assert _kiosk_fee(next(kiosk)) == ("updated", 2, 4_200_000)

    page.goto(f"{editor_server}/desk/catalog/versions")
    screenshot(page, "catalog-editor-history")
    kiosk.close()


def test_administration_alerts_and_reception_pages(
        page: Page, editor_app: Flask, editor_server: str) -> None:
    """Screenshots of the pages around the editor, each checked for its Persian heading."""
    staff_login(page, editor_server, "admin")
    page.goto(f"{editor_server}/desk/staff")
    page.locator("details summary").first.click()
    expect(page.get_by_role("heading", name="حساب تازه")).to_be_visible()
    screenshot(page, "admin-staff-accounts")
    page.goto(f"{editor_server}/desk/devices")
    page.get_by_text("ثبت کیوسک").click()
    page.get_by_label("نام کیوسک").fill("سالن شمالی")
    page.get_by_role("button", name="ثبت و ساخت توکن").click()
    expect(page.locator(".kiosk-token")).to_contain_text("دیگر نمایش داده نمی‌شود")
    screenshot(page, "admin-devices")
    editor_app.config["KIOSK_SILENT_MINUTES"] = 0  # the kiosk just registered is silent
    page.goto(f"{editor_server}/desk/")
    expect(page.locator(".kiosk-alerts")).to_contain_text("سالن شمالی")
    screenshot(page, "desk-kiosk-alerts")
    page.goto(f"{editor_server}/desk/walk-in")
    page.get_by_label("جست‌وجوی خدمت").fill("راهنما")
    expect(page.get_by_role("heading", name="صدور کارت راهنمای گردشگری")).to_be_visible()
    expect(page.get_by_role("heading", name="صدور پروانه تولید انفرادی صنایع‌دستی")).to_be_hidden()
    screenshot(page, "reception-service-search")


WITHDRAWN = "records-certificate"
WITHDRAWN_TITLE = "صدور گواهی سوابق و اعتبار مجوزهای گردشگری و صنایع‌دستی"


def _offered(page: Page, server: str) -> bool:
    catalog = page.request.get(f"{server}/api/v1/catalog").json()
    return WITHDRAWN in [s["slug"] for s in catalog["services"]]


def test_an_admin_withdraws_a_service_and_restores_it(
        page: Page, editor_app: Flask, editor_server: str, tmp_path: Path) -> None:
    """Refused while its queue names it; out of the queue, withdrawn with a reason, the diff,
    the public catalog and a kiosk checked; restored from the editor's home."""
    kiosk = _kiosk_sync(editor_app, editor_server, tmp_path / "kiosk", "withdrawal-kiosk")
    assert WITHDRAWN in next(kiosk)[2]
    staff_login(page, editor_server, "admin")
    page.goto(f"{editor_server}/desk/catalog/edit/service:{WITHDRAWN}")
    page.get_by_label("دلیل کنار گذاشتن").fill("ادغام در خدمت درخواست اطلاعات")
    page.get_by_role("button", name="پیشنهاد کنار گذاشتن خدمت").click()
    expect(page.locator(".flash-error")).to_contain_text("هنوز این خدمت را نوبت می‌دهد")
    screenshot(page, "catalog-withdraw-refused")

    page.get_by_role("link", name="شناسنامه خدمات").first.click()
    page.get_by_role("link", name="صف‌ها و قاعده‌های اولویت").click()
    with editor_app.app_context(), database().session() as session:
        catalog = catalog_versions.current_snapshot(session).catalog
    lobby = catalog_editor.part_content(catalog, "lobby")
    for queue in lobby["queues"]:
        queue["services"] = [s for s in queue["services"] if s != WITHDRAWN]
    page.locator("#f-yaml").fill(yaml_text(lobby))
    page.locator("form:has(#f-yaml)").get_by_role("button", name="ذخیرهٔ پیش‌نویس").click()
    page.get_by_role("button", name="انتشار نسخهٔ تازه").click()
    expect(page.locator(".flash-success")).to_contain_text("منتشر شد")

    page.goto(f"{editor_server}/desk/catalog/edit/service:{WITHDRAWN}")
    page.get_by_label("دلیل کنار گذاشتن").fill("ادغام در خدمت درخواست اطلاعات")
    page.get_by_role("button", name="پیشنهاد کنار گذاشتن خدمت").click()
    expect(page.get_by_role("heading", name=f"کنار گذاشتن خدمت «{WITHDRAWN_TITLE}»")) \
        .to_be_visible()
    diff = page.locator("table.catalog-diff")
    expect(diff).to_contain_text(f"services.{WITHDRAWN}")
    expect(diff).to_contain_text("(حذف شد)")
    screenshot(page, "catalog-withdraw-draft")
    assert _offered(page, editor_server)

    page.get_by_role("button", name="انتشار نسخهٔ تازه").click()
    expect(page.get_by_role("heading", name=re.compile("شناسنامه خدمات \\(کنونی\\)"))) \
        .to_be_visible()
    screenshot(page, "catalog-withdraw-published")
    assert not _offered(page, editor_server)
    result, _version, services = next(kiosk)
    assert result == "updated" and WITHDRAWN not in services
    page.goto(f"{editor_server}/services?category=citizen-relations")
    expect(page.locator("main")).not_to_contain_text(WITHDRAWN_TITLE)

    page.goto(f"{editor_server}/desk/catalog")
    withdrawn = page.locator("table.withdrawn-services")
    expect(withdrawn).to_contain_text(WITHDRAWN_TITLE)
    screenshot(page, "catalog-withdrawn-list")
    withdrawn.get_by_role("button", name=f"بازگرداندن {WITHDRAWN_TITLE}").click()
    expect(page.locator("table.catalog-diff")).to_contain_text(WITHDRAWN_TITLE)
    screenshot(page, "catalog-restore-draft")
    page.get_by_role("button", name="انتشار نسخهٔ تازه").click()
    expect(page.locator(".flash-success")).to_contain_text("منتشر شد")
    assert _offered(page, editor_server)
    page.goto(f"{editor_server}/services?category=citizen-relations")
    expect(page.locator("main")).to_contain_text(WITHDRAWN_TITLE)
    assert WITHDRAWN in next(kiosk)[2]
    kiosk.close()


def test_the_agency_categories_and_survey_pages(page: Page, editor_server: str) -> None:
    """Screenshots of the new sections, each with a problem shown beside its field, and
    their previews."""
    staff_login(page, editor_server, "admin")
    page.goto(f"{editor_server}/desk/catalog")
    screenshot(page, "catalog-editor-home-sections")
    page.get_by_role("link", name="مشخصات دستگاه").click()
    page.get_by_label("تلفن (مانند ۰۳۱-۳۲۲۲۰۰۰۰)").fill("تلفن ندارد")
    page.locator("form:has(#f-name)").get_by_role("button", name="ذخیرهٔ پیش‌نویس").click()
    expect(page.locator("form:has(#f-name) .field-error")).to_contain_text("قالب آن درست نیست.")
    screenshot(page, "catalog-agency-error")
    page.get_by_label("تلفن (مانند ۰۳۱-۳۲۲۲۰۰۰۰)").fill("۰۳۱-۳۲۲۲۰۰۰۱")
    page.locator("form:has(#f-name)").get_by_role("button", name="ذخیرهٔ پیش‌نویس").click()
    expect(page.locator("table.catalog-diff")).to_contain_text("۰۳۱-۳۲۲۲۰۰۰۱")
    screenshot(page, "catalog-agency-draft")
    page.get_by_role("button", name="کنار گذاشتن پیش‌نویس").click()

    page.get_by_role("link", name="گروه‌های خدمات").click()
    page.get_by_label("برداشتن گروه ۴").check()
    page.get_by_label("عنوان گروه ۱").fill("دفاتر مسافرتی و تأسیسات")
    page.locator("form:has(table.category-rows)").get_by_role(
        "button", name="ذخیرهٔ پیش‌نویس").click()
    expect(page.locator("table.category-rows")).to_contain_text("برداشته نمی‌شود")
    screenshot(page, "catalog-categories-error")
    page.get_by_role("button", name="کنار گذاشتن پیش‌نویس").click()

    page.get_by_role("link", name="نظرسنجی پیش‌فرض رضایت").click()
    page.get_by_label("نام پرسش ۳").fill("waiting")
    page.get_by_label("متن پرسش ۳").fill("زمان انتظار را چگونه ارزیابی می‌کنید؟")
    page.get_by_label("شکل پاسخ ۳").select_option("stars")
    page.locator("form:has(table.survey-questions)").get_by_role(
        "button", name="ذخیرهٔ پیش‌نویس").click()
    expect(page.locator(".flash-success")).to_contain_text("پیش‌نویس ذخیره شد")
    screenshot(page, "catalog-survey-draft")
    preview = page.get_by_role("link", name="پیش‌نمایش برای شهروند").get_attribute("href")
    page.goto(f"{editor_server}{preview}")
    expect(page.locator("main")).to_contain_text("زمان انتظار را چگونه ارزیابی می‌کنید؟")
    screenshot(page, "catalog-survey-preview")
    page.go_back()
    page.get_by_role("button", name="کنار گذاشتن پیش‌نویس").click()
