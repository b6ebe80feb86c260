"""Administration on the desk, for admins: staff accounts (add, role, services, disable,
password, end sessions; the second factor's reset is in `desk/two_factor.py`), and the
lobby's devices — counters and kiosks (register with a token shown once, revoke, health)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from counter_server.clock import now
from counter_server.context import kiosk_tokens, session
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.desk.two_factor import NO_STORE
from counter_server.models import User
from counter_server.usecases import (
    audit,
    catalog_versions,
    kiosk_status,
    kiosks,
    lobby_admin,
    staff,
)
from counter_server.usecases.staff import ROLE_LABELS, Role
from shared.text import persian_sort_key, to_ascii_digits


def _user_or_404(user_id: int) -> User:
    return session().get(User, user_id) or abort(404)


def _staff_command(user_id: int, command: Callable[[User, User], Any], done: str) -> Response:
    """Run `command(account, admin)`; a StaffError's Persian message, else `done`."""
    user = _user_or_404(user_id)
    try:
        command(user, current_user._get_current_object())  # type: ignore[attr-defined]
    except staff.StaffError as exc:
        session().rollback()
        flash(exc.message, "error")
    else:
        session().commit()
        flash(done.format(name=user.full_name), "success")
    return redirect(url_for("desk.staff_accounts") + f"#user-{user_id}")


@bp.get("/staff")
@roles_required(Role.admin)
def staff_accounts() -> str:
    """Every account with its commands, and the form to add one."""
    catalog = catalog_versions.current_snapshot(session()).catalog
    users = session().scalars(select(User).order_by(User.role, User.username)).all()
    return render_template(
        "desk/staff.html", users=users, labels=ROLE_LABELS, roles=list(Role),
        services=sorted(catalog.services, key=lambda s: persian_sort_key(s.title)))


@bp.post("/staff/new")
@roles_required(Role.admin)
def staff_add() -> Response:
    form = request.form
    try:
        user = staff.create_user(session(), form.get("username", ""), form.get("full_name", ""),
                                 Role(form.get("role", "clerk")), form.get("password", ""),
                                 form.getlist("services"))
    except (staff.StaffError, ValueError) as exc:
        session().rollback()
        flash(getattr(exc, "message", "نقش انتخاب‌شده شناخته نیست."), "error")
        return redirect(url_for("desk.staff_accounts"))
    _audit("staff.created", username=user.username, role=user.role)
    session().commit()
    flash(f"حساب {user.full_name} ساخته شد.", "success")
    return redirect(url_for("desk.staff_accounts") + f"#user-{user.id}")


@bp.post("/staff/<int:user_id>/role")
@roles_required(Role.admin)
def staff_role(user_id: int) -> Response:
    role = request.form.get("role", "")
    return _staff_command(user_id, lambda u, admin: staff.set_role(
        session(), u.username, role, by=admin), "نقش {name} تغییر کرد.")


@bp.post("/staff/<int:user_id>/services")
@roles_required(Role.admin)
def staff_services(user_id: int) -> Response:
    slugs = request.form.getlist("services")
    return _staff_command(user_id, lambda u, admin: staff.set_services(
        session(), u.username, slugs, by=admin), "خدمت‌های {name} ثبت شد.")


@bp.post("/staff/<int:user_id>/active")
@roles_required(Role.admin)
def staff_active(user_id: int) -> Response:
    active = request.form.get("active") == "yes"
    return _staff_command(user_id, lambda u, admin: staff.set_active(
        session(), u.username, active, by=admin),
        "حساب {name} فعال شد." if active else "حساب {name} غیرفعال شد و نشست‌هایش بسته شد.")


@bp.post("/staff/<int:user_id>/password")
@roles_required(Role.admin)
def staff_password(user_id: int) -> Response:
    password = request.form.get("password", "")
    return _staff_command(user_id, lambda u, admin: staff.set_password(
        session(), u.username, password, by=admin),
        "گذرواژهٔ {name} عوض شد و همهٔ نشست‌هایش بسته شد.")


@bp.post("/staff/<int:user_id>/end-sessions")
@roles_required(Role.admin)
def staff_end_sessions(user_id: int) -> Response:
    return _staff_command(user_id, lambda u, admin: staff.end_sessions_of(
        session(), u.username, by=admin), "همهٔ نشست‌های باز {name} بسته شد.")


# -- counters and kiosks ----------------------------------------------------------------

def _devices_page(token: kiosks.Registration | None = None) -> Any:
    db = session()
    snapshot = catalog_versions.current_snapshot(db)
    moment = now()
    page = render_template(
        "desk/devices.html", counters=lobby_admin.all_counters(db),
        kiosks=[kiosk_status.health(k, moment) for k in kiosks.all_kiosks(db)],
        offices=snapshot.catalog.offices, queues=snapshot.catalog.queues,
        office_names={o.slug: o.name for o in snapshot.catalog.offices},
        queue_titles={q.slug: q.title for q in snapshot.catalog.queues},
        registration=token)
    return (page, 200, NO_STORE)


@bp.get("/devices")
@roles_required(Role.admin)
def devices() -> Any:
    return _devices_page()


@bp.post("/devices/counters")
@roles_required(Role.admin)
def counter_add() -> Response:
    form = request.form
    number = to_ascii_digits(form.get("number", "")).strip()
    try:
        if not number.isdigit():
            raise lobby_admin.LobbyAdminError("bad number", "شمارهٔ باجه را با رقم بنویسید.")
        counter = lobby_admin.add_counter(session(), form.get("office", ""), int(number),
                                          form.get("name", "").strip() or None,
                                          form.getlist("queues"),
                                          form.get("printer", "").strip() or None)
    except lobby_admin.LobbyAdminError as exc:
        session().rollback()
        flash(exc.message, "error")
    else:
        _audit("counter.added", counter=counter.id, office=counter.office_slug)
        session().commit()
        flash(f"{counter.name} افزوده شد.", "success")
    return redirect(url_for("desk.devices"))


@bp.post("/devices/counters/<int:counter_id>/active")
@roles_required(Role.admin)
def counter_active(counter_id: int) -> Response:
    active = request.form.get("active") == "yes"
    try:
        counter = lobby_admin.set_counter_active(session(), counter_id, active)
    except lobby_admin.LobbyAdminError as exc:
        flash(exc.message, "error")
    else:
        _audit("counter.enabled" if active else "counter.disabled", counter=counter.id)
        session().commit()
        flash(f"{counter.name} {'به کار برگشت' if active else 'از کار کنار رفت'}.", "success")
    return redirect(url_for("desk.devices"))


@bp.post("/devices/kiosks")
@roles_required(Role.admin)
def kiosk_register() -> Any:
    try:
        registration = kiosks.register_kiosk(session(), request.form.get("name", ""),
                                             request.form.get("office") or None)
    except kiosks.KioskError as exc:
        session().rollback()
        flash(exc.message, "error")
        return redirect(url_for("desk.devices"))
    _audit("kiosk.registered", kiosk=registration.kiosk.id)
    session().commit()
    return _devices_page(registration)


@bp.post("/devices/kiosks/<int:kiosk_id>/revoke")
@roles_required(Role.admin)
def kiosk_revoke(kiosk_id: int) -> Response:
    try:
        kiosk = kiosks.revoke(session(), str(kiosk_id))
    except kiosks.KioskError as exc:
        flash(exc.message, "error")
    else:
        _audit("kiosk.revoked", kiosk=kiosk.id)
        session().commit()
        kiosk_tokens().forget(kiosk.id)
        flash(f"کیوسک {kiosk.name} باطل شد؛ توکن آن دیگر پذیرفته نمی‌شود.", "success")
    return redirect(url_for("desk.devices"))


def _audit(action: str, **details: Any) -> None:
    audit.record(session(), current_user, action,  # type: ignore[arg-type]
                 address=request.remote_addr, **details)
