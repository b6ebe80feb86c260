"""The catalog editor (`/desk/catalog`, admins and editors): the services and sections, their
drafts with errors beside the fields, the citizen's preview, publishing with a diff, the
versions' history and roll back, and the services due for review."""

from __future__ import annotations

import copy
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from counter_server.context import session
from counter_server.db import utcnow
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.usecases import catalog_editor, catalog_versions
from counter_server.usecases.catalog_editor import SECTIONS, SERVICE, EditorError, FieldProblem
from counter_server.usecases.staff import CATALOG_EDITORS
from shared.catalog.loader import CatalogError, read_yaml_text, yaml_text
from shared.catalog.schema import DurationUnit
from shared.text import persian_sort_key, to_ascii_digits, to_persian_digits

EDITORS = tuple(CATALOG_EDITORS)
TEXT_FIELDS = ("title", "summary", "national_id", "category")
FEE_FIELDS = ("title", "amount_rials", "legal_basis", "where_paid")
MAX_FEE_ROWS = 30


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
        sections=SECTIONS, label=lambda part: catalog_editor.part_label(part, snapshot.catalog))


@bp.post("/catalog/new")
@roles_required(*EDITORS)
def catalog_new_service() -> Response:
    slug = request.form.get("slug", "").strip().lower()
    part = f"{SERVICE}{slug}"
    try:
        catalog_editor.check_part_name(part)
        content = catalog_editor.new_service_content(slug, request.form.get("category", ""))
        catalog_editor.open_draft(session(), part, current_user, content)  # type: ignore[arg-type]
    except EditorError as exc:
        flash(exc.message if exc.code != "unknown_part" else
              "شناسهٔ خدمت را با حروف کوچک لاتین، رقم و خط تیره بنویسید (مانند tour-guide-card).",
              "error")
        return redirect(url_for("desk.catalog_home"))
    session().commit()
    return redirect(url_for("desk.catalog_edit", part=part))


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
        content = catalog_editor.part_content(snapshot.catalog, part)
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
    page = render_template(
        "desk/catalog_edit.html", part=part, is_service=part.startswith(SERVICE),
        label=catalog_editor.part_label(part, snapshot.catalog), content=content,
        text=text if text is not None else yaml_text(content), problems=problems,
        errors=by_path, draft=draft, changes=changes, snapshot=snapshot,
        units=list(DurationUnit), fee_rows=_fee_rows(content))
    return (page, status) if status != 200 else page


def _fee_rows(content: Any) -> list[dict[str, Any]]:
    if not isinstance(content, dict) or not isinstance(content.get("fees"), dict):
        return [{}]
    items = content["fees"].get("items") or []
    return [item if isinstance(item, dict) else {} for item in items] + [{}]


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
    elif part.startswith(SERVICE):
        content = apply_fields(draft.content, request.form)
    else:
        abort(400)
    problems = catalog_editor.save_draft(db, draft, content, current_user)  # type: ignore[arg-type]
    db.commit()
    if problems:
        return _edit_page(part, content, problems, draft, text=text, status=422)
    flash("پیش‌نویس ذخیره شد و با قاعده‌های شناسنامه می‌خواند.", "success")
    return redirect(url_for("desk.catalog_edit", part=part))


def _number(value: str) -> int | str:
    """A number typed in any digits, with or without thousands separators; else as typed,
    for the schema to refuse."""
    plain = to_ascii_digits(value).replace(",", "").replace("٬", "").strip()
    return int(plain) if plain.isdigit() else plain


def apply_fields(content: Any, form: MultiDict[str, str]) -> Any:
    """The draft with the common fields' form applied: texts, duration and fees."""
    data = copy.deepcopy(content) if isinstance(content, dict) else {}
    for key in TEXT_FIELDS:
        value = form.get(key, "").strip()
        if value:
            data[key] = to_ascii_digits(value) if key == "national_id" else value
        else:
            data.pop(key, None)
    data["duration"] = {"value": _number(form.get("duration.value", "")),
                        "unit": form.get("duration.unit", "working_days")}
    items = []
    for index in range(MAX_FEE_ROWS):
        row = {f: form.get(f"fees.items[{index}].{f}", "").strip() for f in FEE_FIELDS}
        if any(row.values()):
            items.append({**row, "amount_rials": _number(row["amount_rials"])})
    fees: dict[str, Any] = {"free": form.get("fees.free") == "yes"}
    if items:
        fees["items"] = items
    if form.get("fees.note", "").strip():
        fees["note"] = form["fees.note"].strip()
    data["fees"] = fees
    return data


def _draft_or_404(part: str) -> Any:
    _part_or_404(part)
    draft = catalog_editor.find_draft(session(), part)
    if draft is None:
        abort(404)
    return draft


@bp.get("/catalog/edit/<part>/preview")
@roles_required(*EDITORS)
def catalog_preview(part: str) -> Any:
    """The draft's service as a citizen will see its page."""
    draft = _draft_or_404(part)
    try:
        spec = catalog_editor.draft_spec(session(), draft)
    except EditorError as exc:
        flash(exc.message, "error")
        return redirect(url_for("desk.catalog_edit", part=part))
    snapshot = catalog_versions.current_snapshot(session())
    return render_template("service.html", snapshot=snapshot, service=spec, preview=part,
                           category_title=snapshot.category_title(spec.category))


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
