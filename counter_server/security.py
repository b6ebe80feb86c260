"""Security headers on every response, the proxies whose forwarded headers are trusted, and
the settings production refuses to start without."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "frame-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
])
HSTS = "max-age=31536000; includeSubDomains"
PRODUCTION = "production"


class UnsafeConfiguration(RuntimeError):
    """A production server configured in a way that would undo its protections."""


def is_production(config: Mapping[str, Any]) -> bool:
    return str(config.get("ENV", "")).lower() == PRODUCTION


def check_production(config: Mapping[str, Any]) -> None:
    """Refuse production settings that only hold in one process: the rate limits (and the
    filing and kiosk quotas) kept in memory would be counted by each process on its own."""
    if not is_production(config):
        return
    if str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
        raise UnsafeConfiguration(
            "MIZ_ENV=production needs a shared rate-limit store: set "
            "MIZ_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379 (or another Redis).")


def response_headers(config: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The headers every response carries (HSTS in production), as (name, value) pairs: what
    the app adds after each request and what `lobby_reads` sends without the app."""
    headers = (
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "SAMEORIGIN"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    )
    return headers + (("Strict-Transport-Security", HSTS),) if is_production(config) else headers


def init_app(app: Flask) -> None:
    """Trust `PROXY_HOPS` proxies' X-Forwarded-For and -Proto (so `request.remote_addr` is the
    client's, for the rate limits and the audit log), and add the headers."""
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    headers = response_headers(app.config)

    def add_headers(response: Response) -> Response:
        for name, value in headers:
            response.headers.setdefault(name, value)
        return response

    app.after_request(add_headers)
