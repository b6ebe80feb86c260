"""Staff login: Flask-Login sessions that expire when idle, lockout, role checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import (
    session as http_session,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from counter_server.context import session
from counter_server.desk import bp
from counter_server.extensions import limiter, login_manager
from counter_server.models import User
from counter_server.usecases import audit, staff

F = TypeVar("F", bound=Callable[..., Any])
LAST_SEEN = "last_seen"


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "desk.login"
    login_manager.login_message = "برای دیدن میز کار ابتدا وارد شوید."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    app.before_request(_expire_idle_session)


def _load_user(user_id: str) -> User | None:
    user = session().get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def _expire_idle_session() -> Response | None:
    """Log out staff idle for longer than STAFF_IDLE_MINUTES. A session restored from a
    remember-me cookie has no record of activity, so it is logged out too."""
    if not request.path.startswith("/desk") or not current_user.is_authenticated:
        return None
    idle = timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])
    now = datetime.now(UTC)
    last_seen = http_session.get(LAST_SEEN)
    if last_seen is None or now - datetime.fromtimestamp(last_seen, UTC) > idle:
        logout_user()
        http_session.clear()
        flash("به دلیل بی‌کاری طولانی از میز کار خارج شدید؛ دوباره وارد شوید.", "info")
        return redirect(url_for("desk.login", next=request.full_path))
    http_session[LAST_SEEN] = now.timestamp()
    return None


def roles_required(*roles: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/desk") and not urlsplit(target).netloc:
        return target
    return url_for("desk.inbox")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("desk.inbox"))
    error = None
    if request.method == "POST":
        try:
            user = staff.authenticate(session(), request.form.get("username", ""),
                                      request.form.get("password", ""))
        except staff.LoginFailed as exc:
            error = exc.message
        else:
            http_session.clear()
            login_user(user, remember=False)
            http_session[LAST_SEEN] = datetime.now(UTC).timestamp()
            audit.record(session(), user, "staff.login", address=request.remote_addr)
            session().commit()
            return redirect(_safe_next(request.args.get("next")))
        session().commit()  # keep the failed-login count
    return render_template("desk/login.html", error=error,
                           username=request.form.get("username", ""))


@bp.post("/logout")
@login_required
def logout() -> Response:
    audit.record(session(), current_user, "staff.logout", address=request.remote_addr)
    session().commit()
    logout_user()
    http_session.clear()
    flash("از میز کار خارج شدید.", "info")
    return redirect(url_for("desk.login"))
