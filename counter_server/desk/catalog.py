"""The catalog editor (`/desk/catalog`, admins and editors): the services and sections, their
drafts with errors beside the fields, the citizen's preview, publishing with a diff, the
versions' history and roll back, withdrawing and restoring services, and the services due
for review."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from counter_server.config import ASSETS_DIR
from counter_server.context import session
from counter_server.db import utcnow
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.desk.catalog_forms import MAX_SURVEY_QUESTIONS, READERS
from counter_server.usecases import catalog_editor, catalog_versions
from counter_server.usecases.catalog_editor import (
    AGENCY_SECTIONS,
    LOBBY_SECTIONS,
    SERVICE,
    EditorError,
    FieldProblem,
)
from counter_server.usecases.staff import CATALOG_EDITORS
from counter_server.web.survey_pages import SCALE, SurveyForm
from shared.catalog.loader import CatalogError, read_yaml_text, yaml_text
from shared.catalog.schema import Catalog, DurationUnit
from shared.text import persian_sort_key, to_persian_digits

EDITORS = tuple(CATALOG_EDITORS)
# The public page each part's preview shows; parts not named have none.
PREVIEW_PAGES = {"service": "service", "agency": "home", "categories": "home",
                 "survey": "survey", "withdraw": "home"}


@bp.get("/catalog")
@roles_required(*EDITORS)
def catalog_home() -> str:
    db = session()
    snapshot = catalog_versions.current_snapshot(db)
    months = current_app.config["CATALOG_REVIEW_MONTHS"]
    drafts = catalog_editor.drafts(db)
    return render_template(
        "desk/catalog_home.html", snapshot=snapshot, drafts=drafts,
        drafted={d.part for d in drafts},
        services=sorted(snapshot.catalog.services, key=lambda s: persian_sort_key(s.title)),
        stale=catalog_editor.stale_services(db, months, utcnow()), months=months,
        section_groups=(("دستگاه، گروه‌ها و نظرسنجی", AGENCY_SECTIONS),
                        ("سالن انتظار و زمان کار", LOBBY_SECTIONS)),
        withdrawn=catalog_editor.withdrawn_services(db),
        label=lambda part: catalog_editor.page_label(db, part, snapshot.catalog))


@bp.post("/catalog/new")
@roles_required(*EDITORS)
def catalog_new_service() -> Response:
    slug = request.form.get("slug", "").strip().lower()
    try:
        draft = catalog_editor.start_new_service(
            session(), slug, request.form.get("category", ""), current_user)  # type: ignore[arg-type]
    except EditorError as exc:
        flash(exc.message if exc.code != "unknown_part" else
              "شناسهٔ خدمت را با حروف کوچک لاتین، رقم و خط تیره بنویسید (مانند tour-guide-card).",
              "error")
        return redirect(url_for("desk.catalog_home"))
    session().commit()
    return redirect(url_for("desk.catalog_edit", part=draft.part))


@bp.post("/catalog/withdraw/<slug>")
@roles_required(*EDITORS)
def catalog_withdraw(slug: str) -> Response:
    """Propose taking a service out of the catalog: a draft, published like any other."""
    try:
        draft = catalog_editor.propose_withdrawal(
            session(), slug, request.form.get("reason", ""), current_user)  # type: ignore[arg-type]
    except EditorError as exc:
        session().rollback()
        flash(exc.message, "error")
        return redirect(url_for("desk.catalog_edit", part=f"{SERVICE}{slug}")
                        if exc.code != "no_such_part" else url_for("desk.catalog_home"))
    session().commit()
    return redirect(url_for("desk.catalog_edit", part=draft.part))


@bp.post("/catalog/restore/<slug>")
@roles_required(*EDITORS)
def catalog_restore(slug: str) -> Response:
    """Bring a withdrawn service back: a draft of it as it last was, to check and publish."""
    try:
        draft = catalog_editor.propose_restore(session(), slug, current_user)  # type: ignore[arg-type]
    except EditorError as exc:
        flash(exc.message, "error")
        return redirect(url_for("desk.catalog_home"))
    session().commit()
    return redirect(url_for("desk.catalog_edit", part=draft.part))


def _part_or_404(part: str) -> None:
    try:
        catalog_editor.check_part_name(part)
    except EditorError:
        abort(404)


@bp.get("/catalog/edit/<part>")
@roles_required(*EDITORS)
def catalog_edit(part: str) -> str:
    _part_or_404(part)
    draft = catalog_editor.find_draft(session(), part)
    snapshot = catalog_versions.current_snapshot(session())
    if draft is None:
        content = catalog_editor.starting_content(snapshot.catalog, part)
        if content is None:
            abort(404)
        return _edit_page(part, content, [], None)
    return _edit_page(part, draft.content, catalog_editor.draft_problems(session(), draft),
                      draft)


def _edit_page(part: str, content: Any, problems: list[FieldProblem], draft: Any,
               text: str | None = None, status: int = 200) -> Any:
    snapshot = catalog_versions.current_snapshot(session())
    changes = catalog_editor.draft_changes(session(), draft) if draft is not None else []
    by_path: dict[str, list[str]] = {}
    for problem in problems:
        by_path.setdefault(problem.path, []).append(problem.message)
    kind = catalog_editor.part_kind(part)
    page = render_template(
        "desk/catalog_edit.html", part=part, kind=kind, is_service=kind == "service",
        label=catalog_editor.page_label(session(), part, snapshot.catalog), content=content,
        text=text if text is not None else yaml_text(content), problems=problems,
        errors=by_path, draft=draft, changes=changes, snapshot=snapshot,
        preview=kind in PREVIEW_PAGES, published=catalog_editor.part_content(
            snapshot.catalog, part) is not None,
        units=list(DurationUnit), fee_rows=_rows(content, "fees", "items", extra=1),
        category_rows=_category_rows(snapshot.catalog, content), icons=_icons(),
        questions=_rows(content, "questions", extra=MAX_SURVEY_QUESTIONS,
                        limit=MAX_SURVEY_QUESTIONS),
        removed_path=catalog_editor.removed_category_path)
    return (page, status) if status != 200 else page


def _rows(content: Any, *path: str, extra: int, limit: int | None = None
          ) -> list[dict[str, Any]]:
    """The rows of a list inside `content` for a form's table, with `extra` empty rows to
    fill in (at most `limit` rows in all)."""
    items: Any = content
    for key in path:
        items = items.get(key) if isinstance(items, dict) else None
    rows = [item if isinstance(item, dict) else {} for item in (items or [])]
    rows += [{} for _ in range(extra)]
    return rows[:limit if limit is not None else len(rows)]


def _category_rows(catalog: Catalog, content: Any) -> list[dict[str, Any]]:
    """The categories' table: the draft's, an empty one to add, then those the draft
    removes (ticked for removal, so that a problem shows beside its row)."""
    if not isinstance(content, list):
        return []
    kept = {item.get("slug") for item in content if isinstance(item, dict)}
    published = {c.slug for c in catalog.categories}
    rows = [{**item, "_published": item.get("slug") in published}
            for item in content if isinstance(item, dict)]
    rows.append({})
    rows += [{**c.model_dump(mode="json", exclude_none=True), "_published": True,
              "_removed": True} for c in catalog.categories if c.slug not in kept]
    return rows


def _icons() -> list[str]:
    """The icons a category may show (assets/icons/*.svg)."""
    return sorted(p.stem for p in (ASSETS_DIR / "icons").glob("*.svg"))


@bp.post("/catalog/edit/<part>")
@roles_required(*EDITORS)
def catalog_save(part: str) -> Any:
    _part_or_404(part)
    db = session()
    try:
        draft = catalog_editor.open_draft(db, part, current_user)  # type: ignore[arg-type]
    except EditorError:
        abort(404)
    text = None
    if request.form.get("mode") == "yaml":
        text = request.form.get("yaml", "")
        try:
            content = read_yaml_text(text, part)
        except CatalogError as exc:
            db.rollback()
            first = exc.problems[0]
            line = to_persian_digits(first.path.replace("line", "سطر"))
            reason = first.message.removeprefix("not valid YAML: ")
            problem = FieldProblem("", f"متن YAML خوانده نمی‌شود ({line}): {reason}")
            return _edit_page(part, draft.content, [problem], draft, text=text, status=422)
    elif catalog_editor.part_kind(part) in READERS:
        content = READERS[catalog_editor.part_kind(part)](draft.content, request.form)
    else:
        abort(400)
    problems = catalog_editor.save_draft(db, draft, content, current_user)  # type: ignore[arg-type]
    db.commit()
    if problems:
        return _edit_page(part, content, problems, draft, text=text, status=422)
    flash("پیش‌نویس ذخیره شد و با قاعده‌های شناسنامه می‌خواند.", "success")
    return redirect(url_for("desk.catalog_edit", part=part))


def _draft_or_404(part: str) -> Any:
    _part_or_404(part)
    draft = catalog_editor.find_draft(session(), part)
    if draft is None:
        abort(404)
    return draft


@bp.get("/catalog/edit/<part>/preview")
@roles_required(*EDITORS)
def catalog_preview(part: str) -> Any:
    """The public page the draft changes, as a citizen will see it once published."""
    draft = _draft_or_404(part)
    page = PREVIEW_PAGES.get(catalog_editor.part_kind(part))
    if page is None:
        abort(404)
    try:
        catalog = catalog_editor.draft_catalog(session(), draft)
    except EditorError as exc:
        flash(exc.message, "error")
        return redirect(url_for("desk.catalog_edit", part=part))
    current = catalog_versions.current_snapshot(session())
    snapshot = catalog_versions.Snapshot.of(catalog, current.version, current.published_at)
    shown = {"snapshot": snapshot, "agency": catalog.agency, "preview": part}
    if page == "service":
        spec = catalog.service(catalog_editor.part_slug(part))
        return render_template("service.html", service=spec,
                               category_title=snapshot.category_title(spec.category), **shown)
    if page == "survey":
        example = next((s for s in catalog.services if s.survey is None), catalog.services[0])
        return render_template("survey.html", token="preview", service_title=example.title,
                               survey=catalog.survey, form=SurveyForm(client_id=""),
                               scale=SCALE, **shown)
    return render_template("home.html", **shown)


@bp.post("/catalog/edit/<part>/publish")
@roles_required(*EDITORS)
def catalog_publish(part: str) -> Response:
    draft = _draft_or_404(part)
    try:
        result = catalog_editor.publish(session(), draft, current_user)  # type: ignore[arg-type]
    except EditorError as exc:
        session().rollback()
        flash(exc.message, "error")
        return redirect(url_for("desk.catalog_edit", part=part))
    session().commit()
    if result.published:
        flash(f"نسخهٔ {to_persian_digits(result.version)} شناسنامهٔ خدمات منتشر شد.", "success")
    else:
        flash("پیش‌نویس با نسخهٔ کنونی یکی بود؛ نسخهٔ تازه‌ای لازم نشد.", "info")
    return redirect(url_for("desk.catalog_version", number=result.version))


@bp.post("/catalog/edit/<part>/discard")
@roles_required(*EDITORS)
def catalog_discard(part: str) -> Response:
    draft = _draft_or_404(part)
    catalog_editor.discard_draft(session(), draft, current_user)  # type: ignore[arg-type]
    session().commit()
    flash("پیش‌نویس کنار گذاشته شد.", "info")
    return redirect(url_for("desk.catalog_home"))


@bp.post("/catalog/review/<slug>")
@roles_required(*EDITORS)
def catalog_reviewed(slug: str) -> Response:
    try:
        catalog_editor.mark_reviewed(session(), slug, current_user)  # type: ignore[arg-type]
    except EditorError as exc:
        flash(exc.message, "error")
    else:
        session().commit()
        flash("بازبینی خدمت ثبت شد.", "success")
    return redirect(url_for("desk.catalog_home"))


@bp.get("/catalog/versions")
@roles_required(*EDITORS)
def catalog_history() -> str:
    db = session()
    return render_template("desk/catalog_history.html", versions=catalog_editor.versions(db),
                           current=catalog_versions.current_version(db))


@bp.get("/catalog/versions/<int:number>")
@roles_required(*EDITORS)
def catalog_version(number: int) -> str:
    db = session()
    try:
        changes = catalog_editor.version_changes(db, number)
    except EditorError:
        abort(404)
    row = catalog_versions.version_row(db, number)
    return render_template("desk/catalog_version.html", version=row, changes=changes,
                           current=catalog_versions.current_version(db))


@bp.post("/catalog/versions/<int:number>/rollback")
@roles_required(*EDITORS)
def catalog_rollback(number: int) -> Response:
    try:
        result = catalog_editor.roll_back(session(), number, current_user)  # type: ignore[arg-type]
    except EditorError as exc:
        flash(exc.message, "error")
        return redirect(url_for("desk.catalog_history"))
    session().commit()
    flash(f"نسخهٔ {to_persian_digits(number)} دوباره به عنوان نسخهٔ "
          f"{to_persian_digits(result.version)} منتشر شد.", "success")
    return redirect(url_for("desk.catalog_version", number=result.version))
