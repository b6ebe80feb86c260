"""How errors are answered: JSON with a stable code under /api/, a Persian page elsewhere.

No error ever reaches the client as a bare 500 traceback.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_limiter import RateLimitExceeded
from werkzeug.exceptions import HTTPException, InternalServerError

from counter_server.api.errors import ApiError

API_PREFIX = "/api/"

# (code, Persian message) of each HTTP status, for the API and the pages alike.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "درخواست نامعتبر است."),
    401: ("unauthorized", "برای این کار باید وارد شوید."),
    403: ("forbidden", "اجازه این کار را ندارید."),
    404: ("not_found", "صفحه یا نشانی درخواست‌شده پیدا نشد."),
    405: ("method_not_allowed", "این روش برای این نشانی پشتیبانی نمی‌شود."),
    410: ("gone", "این مورد دیگر در دسترس نیست."),
    413: ("payload_too_large", "حجم درخواست بیش از حد مجاز است."),
    429: ("rate_limited", "تعداد درخواست‌ها بیش از حد مجاز است؛ کمی بعد دوباره تلاش کنید."),
    500: ("internal_error", "خطای پیش‌بینی‌نشده‌ای رخ داد؛ لطفاً دوباره تلاش کنید."),
    503: ("unavailable", "سامانه موقتاً در دسترس نیست؛ لطفاً کمی بعد دوباره تلاش کنید."),
}


def _answer(status: int, exc: HTTPException | None = None) -> Any:
    code, message = HTTP_ERRORS.get(status, HTTP_ERRORS[500 if status >= 500 else 400])
    if request.path.startswith(API_PREFIX):
        response = jsonify(code=code, message=message)
    else:
        response = current_app.make_response(
            render_template("errors/error.html", status=status, message=message)
        )
    response.status_code = status
    if exc is not None and status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    if isinstance(exc, RateLimitExceeded):
        # The limit's whole window: the most a client must wait (the limiter's own headers,
        # which cost two more round trips to its store on every call, are off).
        response.headers["Retry-After"] = str(exc.limit.limit.get_expiry())
    return response


def http_error(exc: HTTPException) -> Any:
    """The standard answer to `exc`: JSON under /api/, else a Persian page."""
    return _answer(exc.code or 500, exc)


def _unexpected(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return http_error(exc)
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _answer(InternalServerError.code)


def register(app: Flask) -> None:
    app.register_error_handler(ApiError, lambda exc: exc.response())
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, _unexpected)
