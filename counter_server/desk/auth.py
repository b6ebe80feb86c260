"""Staff login: Flask-Login sessions tied to the account's session version (logout, disabling
or a new password ends them all), ended when idle or too old on every route, lockout, the
second factor's hand-over, role checks."""

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
from counter_server.db import utcnow
from counter_server.models import User
from counter_server.usecases import audit, staff, two_factor

F = TypeVar("F", bound=Callable[..., Any])
LAST_SEEN = "last_seen"
LOGGED_IN_AT = "logged_in_at"
SESSION_VERSION = "session_version"
# Between a right password and the second factor: the account and its session version.
PENDING_USER = "pending_user"
PENDING_VERSION = "pending_version"
PENDING_SINCE = "pending_since"
PENDING_MINUTES = 5


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "desk.login"
    login_manager.login_message = "برای دیدن میز کار ابتدا وارد شوید."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_user)
    app.before_request(_expire_session)


def _load_user(user_id: str) -> User | None:
    """The account of this session, while it is active and its session version is the one the
    session began with (a copied cookie dies with the logout that raised it)."""
    user = session().get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active:
        return None
    return user if http_session.get(SESSION_VERSION) == user.session_version else None


def _expire_session() -> Response | None:
    """On every route: log out staff idle for longer than STAFF_IDLE_MINUTES or logged in for
    longer than STAFF_SESSION_HOURS. A session restored from a remember-me cookie has no record
    of activity, so it is logged out too. The desk sends them to the login page; elsewhere
    (`/api/v1`) the call goes on without a staff login. A request with neither a session nor
    a remember-me cookie (a kiosk, a phone, a lobby TV) has no login to look at."""
    if not _may_carry_a_login() or not current_user.is_authenticated:
        return None
    config = current_app.config
    now = datetime.now(UTC)
    last_seen, logged_in_at = http_session.get(LAST_SEEN), http_session.get(LOGGED_IN_AT)
    if (last_seen is None or logged_in_at is None
            or now - _instant(last_seen) > timedelta(minutes=config["STAFF_IDLE_MINUTES"])
            or now - _instant(logged_in_at) > timedelta(hours=config["STAFF_SESSION_HOURS"])):
        logout_user()
        http_session.clear()
        if not request.path.startswith("/desk"):
            return None
        flash("نشست شما به پایان رسید (بی‌کاری طولانی یا گذشت چند ساعت از ورود)؛ "
              "دوباره وارد شوید.", "info")
        return redirect(url_for("desk.login", next=request.full_path))
    http_session[LAST_SEEN] = now.timestamp()
    return None


def _may_carry_a_login() -> bool:
    config = current_app.config
    return (config["SESSION_COOKIE_NAME"] in request.cookies
            or config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies)


def _instant(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def start_session(user: User) -> Response:
    """Log `user` in (the password and, when asked, the second factor are checked) and go on
    to the page they asked for."""
    next_page = safe_next(request.args.get("next"))
    begin_session(user)
    return redirect(next_page)


def begin_session(user: User) -> None:
    """Log `user` in: a fresh session bound to the account's session version, audited."""
    http_session.clear()
    login_user(user, remember=False)
    now = datetime.now(UTC).timestamp()
    http_session.update({SESSION_VERSION: user.session_version, LOGGED_IN_AT: now,
                         LAST_SEEN: now})
    audit.record(session(), user, "staff.login", address=request.remote_addr)
    session().commit()


def pending_user() -> User | None:
    """The account whose password was right and whose second factor is still to come."""
    user_id, since = http_session.get(PENDING_USER), http_session.get(PENDING_SINCE)
    if user_id is None or since is None or \
            datetime.now(UTC) - _instant(since) > timedelta(minutes=PENDING_MINUTES):
        return None
    user = session().get(User, user_id)
    if user is None or not user.active or \
            user.session_version != http_session.get(PENDING_VERSION):
        return None
    return user


def _second_factor_step(user: User) -> Response | None:
    """Where the login goes after a right password, when a second factor is due."""
    every_role = current_app.config["STAFF_TWO_FACTOR_EVERY_ROLE"]
    if not user.has_second_factor and not two_factor.required_for(user, every_role):
        return None
    next_page = request.args.get("next")
    http_session.clear()
    http_session.update({PENDING_USER: user.id, PENDING_VERSION: user.session_version,
                         PENDING_SINCE: datetime.now(UTC).timestamp()})
    session().commit()
    endpoint = "desk.second_factor" if user.has_second_factor else "desk.second_factor_setup"
    return redirect(url_for(endpoint, next=next_page))


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


def safe_next(target: str | None) -> str:
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
                                      request.form.get("password", ""), now=utcnow(),
                                      address=request.remote_addr)
        except staff.LoginFailed as exc:
            error = exc.message
        else:
            return _second_factor_step(user) or start_session(user)
        session().commit()  # keep the failed-login count and its audit entry
    return render_template("desk/login.html", error=error,
                           username=request.form.get("username", ""))


@bp.post("/logout")
@login_required
def logout() -> Response:
    """Log out, ending every session of this account (a copied cookie with it)."""
    user: User = current_user  # type: ignore[assignment]
    staff.end_sessions(user)
    audit.record(session(), user, "staff.logout", address=request.remote_addr)
    session().commit()
    logout_user()
    http_session.clear()
    flash("از میز کار خارج شدید.", "info")
    return redirect(url_for("desk.login"))
