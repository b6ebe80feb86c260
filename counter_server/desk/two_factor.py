"""The second factor on the desk: the code after the password, enrolment with a QR code and
recovery codes, and an admin's reset of a colleague's factor (on the staff accounts page,
`desk/admin.py`)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask import session as http_session
from flask_login import current_user
from werkzeug.wrappers import Response

from counter_server.context import session
from counter_server.db import utcnow
from counter_server.desk import bp
from counter_server.desk.auth import begin_session, pending_user, roles_required, safe_next, \
    start_session
from counter_server.extensions import limiter
from counter_server.models import User
from counter_server.usecases import catalog_versions, two_factor
from counter_server.usecases.staff import Role
from counter_server.web.qr import qr_data_uri

ENROL_SECRET = "enrol_secret"
NO_STORE = {"Cache-Control": "private, no-store"}


def _back_to_login() -> Response:
    flash("مهلت ورود گذشت؛ دوباره نام کاربری و گذرواژه را وارد کنید.", "info")
    return redirect(url_for("desk.login"))


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def second_factor() -> str | Response:
    user = pending_user()
    if user is None or not user.has_second_factor:
        return _back_to_login()
    error = None
    if request.method == "POST":
        try:
            two_factor.verify(session(), user, request.form.get("code", ""), utcnow(),
                              address=request.remote_addr)
        except two_factor.SecondFactorError as exc:
            error = exc.message
            session().commit()  # the failure counts towards the lockout
        else:
            return start_session(user)
    return render_template("desk/two_factor.html", error=error)


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def second_factor_setup() -> str | Response | tuple[str, int, dict[str, str]]:
    user = pending_user()
    if user is None or user.has_second_factor:
        return _back_to_login()
    secret = http_session.setdefault(ENROL_SECRET, two_factor.new_secret())
    error = None
    if request.method == "POST":
        try:
            codes = two_factor.enrol(session(), user, secret, request.form.get("code", ""),
                                     utcnow(), address=request.remote_addr)
        except two_factor.SecondFactorError as exc:
            error = exc.message
        else:
            next_page = safe_next(request.args.get("next"))
            begin_session(user)
            return (render_template("desk/recovery_codes.html", codes=codes,
                                    next_page=next_page), 200, NO_STORE)
    uri = two_factor.provisioning_uri(secret, user.username, _issuer())
    return (render_template("desk/two_factor_setup.html", error=error, secret=secret,
                            qr=qr_data_uri(uri)), 200, NO_STORE)


def _issuer() -> str:
    """The name authenticator apps show next to the account: the agency's short name."""
    try:
        agency = catalog_versions.current_snapshot(session()).catalog.agency
    except catalog_versions.NoCatalog:
        return "Miz"
    return f"Miz {agency.short_name or agency.name}"


@bp.post("/staff/<int:user_id>/reset-second-factor")
@roles_required(Role.admin)
def reset_second_factor(user_id: int) -> Response:
    user = session().get(User, user_id) or abort(404)
    try:
        two_factor.reset(session(), current_user, user,  # type: ignore[arg-type]
                         address=request.remote_addr)
    except two_factor.SecondFactorError as exc:
        flash(exc.message, "error")
    else:
        session().commit()
        flash(f"عامل دوم {user.full_name} بازنشانی شد؛ در ورود بعدی دوباره ثبت می‌کند.",
              "success")
    return redirect(url_for("desk.staff_accounts"))
