"""The catalog edited in the browser: drafts of one part each, checked by the catalog's own
schema, published as a new catalog version with a readable diff, rolled back, reviewed.

A part is what one draft replaces: `service:<slug>`, `offices`, `lobby` (queues and
priority classes) or `calendar` (working hours and holidays). Publishing puts the draft's
part into the current catalog, validates the whole, and imports it through
`catalog_versions.import_catalog`, so a version the editor publishes is the same kind of
snapshot a YAML import publishes (and `catalog export` writes it back to YAML).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.db import utcnow
from counter_server.models import CatalogDraft, CatalogVersion, Service, User
from counter_server.models.catalog import ACTIVE
from counter_server.usecases import audit, catalog_versions
from counter_server.usecases.catalog_versions import ImportResult
from shared.catalog.loader import QueuesFile
from shared.catalog.schema import CalendarSpec, Catalog, Office, ServiceSpec
from shared.text import to_persian_digits

SERVICE = "service:"
SECTIONS = {"offices": "شعبه‌ها", "lobby": "صف‌ها و قاعده‌های اولویت",
            "calendar": "ساعت کاری و تعطیلات"}
_PART_MODELS: dict[str, type[BaseModel] | TypeAdapter[Any]] = {
    "offices": TypeAdapter(list[Office]), "lobby": QueuesFile, "calendar": CalendarSpec,
    "service": ServiceSpec,
}
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class EditorError(Exception):
    """An editor's command that cannot be carried out: a stable `code` and a Persian
    `message`."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with a draft: where (a path inside the part, "" for the whole part)
    and what, in Persian."""

    path: str
    message: str


@dataclass(frozen=True)
class Change:
    """One value that a new version changes: its path, before and after (None: absent)."""

    path: str
    before: str | None
    after: str | None


def part_label(part: str, catalog: Catalog | None = None) -> str:
    """The part's name for a page: the service's title, or the section's."""
    if part.startswith(SERVICE):
        slug = part.removeprefix(SERVICE)
        spec = catalog.service(slug) if catalog else None
        return f"خدمت «{spec.title}»" if spec else f"خدمت تازهٔ {slug}"
    return SECTIONS.get(part, part)


def check_part_name(part: str) -> None:
    """EditorError unless `part` names a service slug or a known section."""
    if part in SECTIONS:
        return
    if part.startswith(SERVICE) and _SLUG.match(part.removeprefix(SERVICE)) \
            and 2 <= len(part.removeprefix(SERVICE)) <= 80:
        return
    raise EditorError("unknown_part", "این بخش از شناسنامه خدمات شناخته نیست.")


def _plain(catalog: Catalog) -> dict[str, Any]:
    return catalog.model_dump(mode="json", exclude_none=True)


def part_content(catalog: Catalog, part: str) -> Any:
    """The part as the catalog has it now (None: a service not in it yet)."""
    data = _plain(catalog)
    if part.startswith(SERVICE):
        slug = part.removeprefix(SERVICE)
        return next((s for s in data["services"] if s["slug"] == slug), None)
    if part == "lobby":
        return {"priority_classes": data.get("priority_classes", []),
                "queues": data.get("queues", [])}
    return data.get(part)


def _with_part(catalog: Catalog, part: str, content: Any) -> dict[str, Any]:
    data = copy.deepcopy(_plain(catalog))
    if part.startswith(SERVICE):
        slug = part.removeprefix(SERVICE)
        services = data["services"]
        index = next((i for i, s in enumerate(services) if s["slug"] == slug), None)
        if index is None:
            services.append(content)
        else:
            services[index] = content
    elif part == "lobby":
        data["priority_classes"] = content.get("priority_classes", [])
        data["queues"] = content.get("queues", [])
    else:
        data[part] = content
    return data


def new_service_content(slug: str, category: str) -> dict[str, Any]:
    """The skeleton of a new service: every required key, to be filled in."""
    return {"slug": slug, "title": "", "category": category, "summary": "",
            "channels": ["online", "kiosk", "counter"],
            "steps": [{"id": "submit", "title": "", "description": "", "actor": "citizen"}],
            "laws": [{"title": "", "reference": ""}], "faq": [{"question": "", "answer": ""}],
            "duration": {"value": 5, "unit": "working_days"}, "fees": {"free": True},
            "complaint": {"how": "", "follow_up": "", "authority": ""},
            "responsible": {"name": "", "title": "", "unit": "", "phone": "", "hours": ""}}


# -- checking ---------------------------------------------------------------------------

_TYPE_MESSAGES = {
    "missing": "این مورد لازم است.",
    "extra_forbidden": "چنین کلیدی در شناسنامه تعریف نشده است (نوشتن نادرست؟).",
    "string_too_short": "خالی نماند.",
    "string_too_long": "بلندتر از حد مجاز است.",
    "string_pattern_mismatch": "قالب آن درست نیست.",
    "string_type": "باید متن باشد.",
    "int_parsing": "باید عدد صحیح باشد.",
    "int_type": "باید عدد صحیح باشد.",
    "int_from_float": "باید عدد صحیح باشد.",
    "float_parsing": "باید عدد باشد.",
    "float_type": "باید عدد باشد.",
    "bool_parsing": "باید «true» یا «false» باشد.",
    "bool_type": "باید «true» یا «false» باشد.",
    "list_type": "باید فهرست باشد.",
    "dict_type": "باید مجموعه‌ای از کلید و مقدار باشد.",
    "model_type": "باید مجموعه‌ای از کلید و مقدار باشد.",
    "model_attributes_type": "باید مجموعه‌ای از کلید و مقدار باشد.",
    "url_parsing": "نشانی وب درست نیست.",
    "url_scheme": "نشانی وب باید با http یا https آغاز شود.",
    "time_parsing": "ساعت را به شکل 08:00 بنویسید.",
    "time_type": "ساعت را به شکل 08:00 بنویسید.",
    "literal_error": "یکی از مقدارهای مجاز را بنویسید: {expected}",
    "enum": "یکی از مقدارهای مجاز را بنویسید: {expected}",
    "greater_than": "باید بیشتر از {gt} باشد.",
    "greater_than_equal": "باید دست‌کم {ge} باشد.",
    "less_than": "باید کمتر از {lt} باشد.",
    "less_than_equal": "باید حداکثر {le} باشد.",
    "too_short": "دست‌کم {min_length} مورد لازم است.",
    "too_long": "حداکثر {max_length} مورد مجاز است.",
}
# The schema's own rules, in Persian; any other rule is shown with its English detail.
_RULE_MESSAGES = {
    "list the fee items, or set free: true":
        "اقلام هزینه را بنویسید یا خدمت را رایگان اعلام کنید.",
    "a free service cannot list fee items": "خدمت رایگان قلم هزینه ندارد.",
    "closes must be later than opens": "ساعت پایان باید پس از ساعت آغاز باشد.",
    "a step done by another agency must name it in 'agency'":
        "مرحله‌ای که دستگاه دیگری انجام می‌دهد باید نام آن دستگاه را داشته باشد.",
    "'agency' is only for steps whose actor is 'agency'":
        "نام دستگاه فقط برای مرحله‌ای است که دستگاه دیگری انجام می‌دهد.",
    "a letter needs a body": "نامه باید متن داشته باشد.",
    "min must not exceed max": "کمینه نباید از بیشینه بیشتر باشد.",
}


_LISTED = {"step": "شناسهٔ مرحله", "form field": "نام پرسش فرم", "document": "شناسهٔ مدرک",
           "channel": "راه ارائه", "inquiry": "شناسهٔ استعلام", "category slug": "شناسهٔ گروه",
           "service slug": "شناسهٔ خدمت", "queue slug": "شناسهٔ صف", "queue prefix": "حرف صف",
           "office slug": "شناسهٔ شعبه", "holiday": "تاریخ تعطیل"}
_RULE_PATTERNS = [(re.compile(pattern), template) for pattern, template in (
    (r"^(?P<what>.+) listed twice: (?P<names>.+)$", "{what} تکراری است: {names}"),
    (r"^service '(?P<a>[^']+)' names unknown category '(?P<b>[^']+)'$",
     "خدمت {a} گروه ناشناختهٔ {b} را نام برده است."),
    (r"^queue '(?P<a>[^']+)' names unknown service '(?P<b>[^']+)'$",
     "صف {a} خدمت ناشناختهٔ {b} را نام برده است."),
    (r"^queue '(?P<a>[^']+)' names unknown priority class '(?P<b>[^']+)'$",
     "صف {a} گروه اولویت ناشناختهٔ {b} را نام برده است."),
    (r"^office '(?P<a>[^']+)' names unknown queue '(?P<b>[^']+)'$",
     "شعبهٔ {a} صف ناشناختهٔ {b} را نام برده است."),
    (r"^service '(?P<a>[^']+)' is in two queues: '(?P<b>[^']+)' and '(?P<c>[^']+)'$",
     "خدمت {a} در دو صف {b} و {c} آمده است."),
    (r"^queues need at least one office", "صف‌ها دست‌کم یک شعبه لازم دارند."),
    (r"^sms announces unknown step '(?P<a>[^']+)'$", "پیامک مرحلهٔ ناشناختهٔ {a} را اعلام می‌کند."),
    (r"^sms announces unknown event '(?P<a>[^']+)'$",
     "پیامک رویداد ناشناختهٔ {a} را اعلام می‌کند."),
    (r"^inquiry '(?P<a>[^']+)' runs at unknown step '(?P<b>[^']+)'$",
     "استعلام {a} در مرحلهٔ ناشناختهٔ {b} انجام می‌شود."),
    (r"^inquiry '(?P<a>[^']+)' replaces unknown document '(?P<b>[^']+)'$",
     "استعلام {a} جای مدرک ناشناختهٔ {b} را می‌گیرد."),
    (r"^inquiry '(?P<a>[^']+)': (?P<b>\w+) comes from unknown '(?P<c>[^']+)'$",
     "ورودی {b} استعلام {a} از منبع ناشناختهٔ {c} می‌آید."),
    (r"^output field '(?P<a>[^']+)' comes from unknown '(?P<b>[^']+)'$",
     "خط «{a}» سند خروجی از منبع ناشناختهٔ {b} می‌آید."),
    (r"^output body names unknown \{(?P<a>\w+)\}",
     "متن سند خروجی جای‌نگهدار ناشناختهٔ {{{a}}} دارد."),
    (r"^a (?P<a>\w+) field needs at least two options$",
     "پرسش چندگزینه‌ای دست‌کم دو گزینه لازم دارد."),
    (r"^a (?P<a>\w+) field takes no options$", "این نوع پرسش گزینه نمی‌گیرد."),
    (r"^option values must be unique$", "مقدار گزینه‌ها نباید تکراری باشد."),
    (r"^working_hours must name at least one working day$",
     "دست‌کم یک روز کاری با ساعت کار لازم است."),
    (r"^unknown time zone", "منطقهٔ زمانی شناخته نیست."),
    (r"^a card has no room for a body", "کارت جای متن ندارد؛ خط‌های آن را بنویسید."),
)]


def _rule_message(detail: str) -> str:
    """One of the schema's own rules in Persian; the English detail when it has no
    translation yet."""
    if detail in _RULE_MESSAGES:
        return _RULE_MESSAGES[detail]
    for pattern, template in _RULE_PATTERNS:
        found = pattern.match(detail)
        if found:
            values = found.groupdict()
            if "what" in values:
                values["what"] = _LISTED.get(values["what"], values["what"])
            return template.format(**values)
    return f"با قاعده‌های شناسنامه نمی‌خواند: {detail}"


def _message(item: Any) -> str:
    kind, context = item["type"], item.get("ctx") or {}
    if kind == "value_error":
        detail = item["msg"].removeprefix("Value error, ")
        return "؛ ".join(_rule_message(part) for part in detail.split("; "))
    template = _TYPE_MESSAGES.get(kind)
    if template is None:
        return f"مقدار پذیرفته نیست: {item['msg']}"
    values = {k: to_persian_digits(v) if isinstance(v, int | float) else str(v)
              for k, v in context.items()}
    try:
        return template.format(**values)
    except KeyError:
        return template


def _path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith("function-"):
            path += f".{part}" if path else str(part)
    return path


def _problems(error: ValidationError, prefix: tuple[Any, ...] = ()) -> list[FieldProblem]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        if loc[:len(prefix)] == prefix:
            loc = loc[len(prefix):]
        elif prefix:
            loc = ()
        problems.append(FieldProblem(_path(loc), _message(item)))
    return problems


def check(catalog: Catalog, part: str, content: Any) -> list[FieldProblem]:
    """What is wrong with `content` as `part` of `catalog`: first the part on its own,
    then the whole catalog with it (references between parts). Empty: it can be
    published."""
    kind = "service" if part.startswith(SERVICE) else part
    model = _PART_MODELS[kind]
    try:
        if isinstance(model, TypeAdapter):
            model.validate_python(content)
        else:
            model.model_validate(content)
    except ValidationError as exc:
        return _problems(exc)
    if kind == "service" and content.get("slug") != part.removeprefix(SERVICE):
        return [FieldProblem("slug", "شناسهٔ خدمت همیشگی است و تغییر نمی‌کند.")]
    data = _with_part(catalog, part, content)
    try:
        Catalog.model_validate(data)
    except ValidationError as exc:
        return _problems(exc, _location(data, part))
    return []


def _location(data: dict[str, Any], part: str) -> tuple[Any, ...]:
    if part.startswith(SERVICE):
        slug = part.removeprefix(SERVICE)
        return ("services", next(i for i, s in enumerate(data["services"])
                                 if s.get("slug") == slug))
    return (part,)


# -- drafts -----------------------------------------------------------------------------

def drafts(session: Session) -> list[CatalogDraft]:
    return list(session.scalars(select(CatalogDraft).order_by(CatalogDraft.updated_at.desc())))


def find_draft(session: Session, part: str) -> CatalogDraft | None:
    return session.scalar(select(CatalogDraft).where(CatalogDraft.part == part))


def open_draft(session: Session, part: str, user: User,
               content: Any = None) -> CatalogDraft:
    """The part's draft: the one being edited, or a new one from the current catalog (or
    from `content`, for a new service)."""
    check_part_name(part)
    draft = find_draft(session, part)
    if draft is not None:
        return draft
    snapshot = catalog_versions.current_snapshot(session)
    current = part_content(snapshot.catalog, part)
    if current is None and content is None:
        raise EditorError("no_such_part", "این خدمت در شناسنامه نیست.")
    if current is not None and content is not None:
        raise EditorError("service_exists", "خدمتی با این شناسه پیش‌تر ثبت شده است.")
    draft = CatalogDraft(part=part, base_version=snapshot.version,
                         content=current if current is not None else content,
                         author_id=user.id, updated_at=utcnow())
    session.add(draft)
    session.flush()
    audit.record(session, user, "catalog.draft_opened", part=part)
    return draft


def save_draft(session: Session, draft: CatalogDraft, content: Any,
               user: User) -> list[FieldProblem]:
    """Keep `content` as the draft, valid or not; what is wrong with it."""
    draft.content, draft.author_id, draft.updated_at = content, user.id, utcnow()
    session.flush()
    audit.record(session, user, "catalog.draft_saved", part=draft.part)
    return check(catalog_versions.current_snapshot(session).catalog, draft.part, content)


def discard_draft(session: Session, draft: CatalogDraft, user: User) -> None:
    audit.record(session, user, "catalog.draft_discarded", part=draft.part)
    session.delete(draft)
    session.flush()


def draft_problems(session: Session, draft: CatalogDraft) -> list[FieldProblem]:
    return check(catalog_versions.current_snapshot(session).catalog, draft.part, draft.content)


def draft_spec(session: Session, draft: CatalogDraft) -> ServiceSpec:
    """The service as the draft describes it, for the preview; EditorError if invalid."""
    if not draft.part.startswith(SERVICE) or draft_problems(session, draft):
        raise EditorError("draft_invalid", "پیش‌نمایش پس از رفع خطاهای پیش‌نویس آماده است.")
    return ServiceSpec.model_validate(draft.content)


def draft_changes(session: Session, draft: CatalogDraft) -> list[Change]:
    """What publishing the draft would change in the current catalog."""
    current = part_content(catalog_versions.current_snapshot(session).catalog, draft.part)
    return diff(current, draft.content)


def _conflict(session: Session, draft: CatalogDraft, current: Catalog) -> bool:
    """Has the part changed in the catalog since the draft was opened from it?"""
    if draft.base_version is None:
        return False
    row = catalog_versions.version_row(session, draft.base_version)
    if row is None:
        return False
    base = catalog_versions.Snapshot.from_row(row).catalog
    return part_content(base, draft.part) != part_content(current, draft.part)


def publish(session: Session, draft: CatalogDraft, user: User) -> ImportResult:
    """Publish the draft as a new catalog version; the draft is then gone. EditorError when
    it has problems or its part changed since it was opened (another publish or an import)."""
    snapshot = catalog_versions.current_snapshot(session)
    if check(snapshot.catalog, draft.part, draft.content):
        raise EditorError("draft_invalid",
                          "پیش‌نویس خطا دارد و منتشر نمی‌شود؛ خطاهای کنار هر بخش را رفع کنید.")
    if _conflict(session, draft, snapshot.catalog):
        raise EditorError("draft_outdated",
                          "این بخش پس از آغاز پیش‌نویس در نسخهٔ تازه‌تری تغییر کرده است؛ "
                          "پیش‌نویس را کنار بگذارید و از نو آغاز کنید.")
    changes = diff(part_content(snapshot.catalog, draft.part), draft.content)
    catalog = Catalog.model_validate(_with_part(snapshot.catalog, draft.part, draft.content))
    result = catalog_versions.import_catalog(
        session, catalog, source=f"editor {user.username}: {draft.part}")
    audit.record(session, user, "catalog.published", part=draft.part, version=result.version,
                 published=result.published, changes=[c.path for c in changes][:100])
    session.delete(draft)
    session.flush()
    return result


# -- history ----------------------------------------------------------------------------

def versions(session: Session, limit: int = 100) -> list[CatalogVersion]:
    return list(session.scalars(select(CatalogVersion)
                                .order_by(CatalogVersion.number.desc()).limit(limit)))


def _catalog_of(session: Session, number: int) -> Catalog:
    row = catalog_versions.version_row(session, number)
    if row is None:
        raise EditorError("no_such_version", "چنین نسخه‌ای از شناسنامه نیست.")
    return catalog_versions.Snapshot.from_row(row).catalog


def version_changes(session: Session, number: int) -> list[Change]:
    """What version `number` changed against the one before it (everything, for the first)."""
    new = _plain(_catalog_of(session, number))
    old = _plain(_catalog_of(session, number - 1)) if number > 1 else None
    return diff(_by_slug(old), _by_slug(new))


def _by_slug(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """Lists of slugged entries keyed by slug, so that a diff names services, not positions."""
    if data is None:
        return None
    keyed = dict(data)
    for key in ("services", "categories", "queues", "offices", "priority_classes"):
        if key in keyed:
            keyed[key] = {item["slug"]: item for item in keyed[key]}
    return keyed


def roll_back(session: Session, number: int, user: User) -> ImportResult:
    """Publish version `number`'s catalog again, as a new version."""
    catalog = _catalog_of(session, number)
    if number == catalog_versions.current_version(session):
        raise EditorError("already_current", "این نسخه همان نسخهٔ کنونی است.")
    result = catalog_versions.import_catalog(
        session, catalog, source=f"rollback to {number} by {user.username}")
    audit.record(session, user, "catalog.rolled_back", to=number, version=result.version)
    return result


# -- review -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Stale:
    slug: str
    title: str
    reviewed_at: datetime | None


def stale_services(session: Session, months: int, now: datetime) -> list[Stale]:
    """Active services last reviewed more than `months` months ago, the oldest first."""
    limit = now - timedelta(days=30 * months)
    rows = session.scalars(select(Service).where(Service.status == ACTIVE)).all()
    old = [r for r in rows if r.reviewed_at is None or r.reviewed_at < limit]
    return [Stale(r.slug, r.title, r.reviewed_at)
            for r in sorted(old, key=lambda r: (r.reviewed_at is not None, r.reviewed_at))]


def mark_reviewed(session: Session, slug: str, user: User) -> None:
    """An editor confirms a service's entry is still right, unchanged."""
    row = session.get(Service, slug)
    if row is None or row.status != ACTIVE:
        raise EditorError("no_such_part", "این خدمت در شناسنامه نیست.")
    row.reviewed_at = utcnow()
    audit.record(session, user, "catalog.service_reviewed", service=slug)


# -- diff -------------------------------------------------------------------------------

def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", out)
    else:
        out[path] = value


def diff(before: Any, after: Any) -> list[Change]:
    """Every leaf value that differs, by its path (e.g. `fees.items[0].amount_rials`)."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    if before is not None:
        _flatten(before, "", old)
    if after is not None:
        _flatten(after, "", new)
    paths = list(dict.fromkeys([*old, *new]))
    return [Change(path, _shown(old[path]) if path in old else None,
                   _shown(new[path]) if path in new else None)
            for path in paths if old.get(path, _MISSING) != new.get(path, _MISSING)]


_MISSING = object()
