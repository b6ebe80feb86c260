"""Small, valid catalog data for tests that need a catalog they can bend."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml


def service_data(slug: str = "guide-card", category: str = "guides", **overrides: Any) -> dict:
    data: dict[str, Any] = {
        "slug": slug,
        "title": "صدور کارت راهنمای گردشگری",
        "category": category,
        "summary": "صدور کارت برای راهنمایان دارای گواهی دوره آموزشی.",
        "channels": ["online", "kiosk", "counter"],
        "steps": [
            {"id": "submit", "title": "ثبت درخواست", "description": "متقاضی فرم را پر می‌کند.", "actor": "citizen"},
            {"id": "criminal-record-inquiry", "title": "استعلام سوءپیشینه",
             "description": "استعلام از پلیس.", "actor": "agency",
             "agency": "نیروی انتظامی", "duration": {"value": 3, "unit": "working_days"}},
            {"id": "review", "title": "بررسی", "description": "کارشناس مدارک را بررسی می‌کند.", "actor": "staff",
             "legal_basis": "ماده ۲ آیین‌نامه"},
        ],
        "documents": [
            {"id": "certificate", "name": "گواهی دوره", "description": "گواهی پایان دوره.",
             "kind": "copy", "mandatory": True, "formats": ["pdf", "jpeg"], "count": 1},
        ],
        "laws": [{"title": "قانون توسعه صنعت ایرانگردی و جهانگردی", "reference": "ماده ۲"}],
        "faq": [{"question": "کارت چند سال اعتبار دارد؟", "answer": "سه سال."}],
        "duration": {"value": 5, "unit": "working_days"},
        "fees": {"items": [{"title": "هزینه صدور", "amount_rials": 1500000,
                            "legal_basis": "مصوبه هیئت وزیران", "where_paid": "درگاه الکترونیکی"}]},
        "complaint": {"how": "از طریق سامانه", "follow_up": "با کد رهگیری",
                      "authority": "واحد رسیدگی به شکایات", "phone": "031-32220000"},
        "responsible": {"name": "مریم کاظمی", "title": "رئیس اداره", "unit": "اداره راهنمایان",
                        "phone": "031-32220001", "hours": "شنبه تا چهارشنبه ۸ تا ۱۴"},
        "form": [{"name": "languages", "type": "multiselect", "label": "زبان‌ها",
                  "options": [{"value": "en", "label": "انگلیسی"}, {"value": "fr", "label": "فرانسوی"}]}],
        "keywords": ["راهنما"],
    }
    data.update(overrides)
    return data


def catalog_data(**overrides: Any) -> dict:
    data: dict[str, Any] = {
        "agency": {"name": "اداره کل آزمایشی", "contact": {"address": "اصفهان", "phone": "031-1"},
                   "public_base_url": "https://miz.example.ir"},
        "calendar": {"timezone": "Asia/Tehran",
                     "holidays": [{"date": "1405-09-06", "title": "تعطیل آزمایشی"}]},
        "categories": [
            {"slug": "guides", "title": "راهنمایان", "order": 1, "icon": "guide"},
            {"slug": "crafts", "title": "صنایع‌دستی", "order": 2, "icon": "craft"},
        ],
        "services": [
            service_data(),
            service_data("craft-licence", "crafts", title="صدور پروانه تولید صنایع‌دستی",
                         summary="پروانه تولید انفرادی صنایع‌دستی.", keywords=["پروانه"],
                         fees={"free": True, "note": "رایگان است."}),
        ],
    }
    data.update(overrides)
    return copy.deepcopy(data)


def _dump(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def write_catalog_dir(root: Path, data: dict) -> Path:
    """Lay `data` out as a catalog directory (see shared.catalog.loader)."""
    _dump(data["agency"], root / "agency.yaml")
    calendar = dict(data.get("calendar", {}))
    holidays = calendar.pop("holidays", [])
    _dump(calendar, root / "calendar.yaml")
    for holiday in holidays:
        year_file = root / "holidays" / f"{holiday['date'][:4]}.yaml"
        existing = yaml.safe_load(year_file.read_text()) if year_file.exists() else []
        _dump([*existing, holiday], year_file)
    _dump(data["categories"], root / "categories.yaml")
    for service in data["services"]:
        _dump(service, root / "services" / f"{service['slug']}.yaml")
    return root
