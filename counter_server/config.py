"""Configuration defaults; each can be overridden by a `MIZ_` environment variable or by the
mapping passed to `create_app`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"
DEMO_CATALOG = ASSETS_DIR / "catalog"


def defaults(instance_path: str) -> dict[str, Any]:
    return {
        "DATABASE_URL": os.environ.get("DATABASE_URL")
        or f"sqlite:///{Path(instance_path) / 'miz.sqlite3'}",
        "SQL_ECHO": False,
        # Database connections per server process: kept open, and opened beyond them when all
        # are busy. A process needs about one per thread that can be inside a request at
        # once; PostgreSQL's max_connections must cover every process of every node
        # (docs/scaling.md).
        "DATABASE_POOL_SIZE": 5,
        "DATABASE_MAX_OVERFLOW": 10,
        "ASSETS_DIR": str(ASSETS_DIR),
        "UPLOADS_DIR": str(Path(instance_path) / "uploads"),
        # Where documents are stored (storage.py): "local" (UPLOADS_DIR, one machine) or
        # "s3", an S3-compatible object store all the nodes share (needs the `s3` extra).
        # The S3 credentials fall back to boto3's usual chain (AWS_ACCESS_KEY_ID, …).
        "STORAGE": "local",
        "S3_ENDPOINT": None,
        "S3_BUCKET": None,
        "S3_REGION": None,
        "S3_PREFIX": "",
        "S3_ACCESS_KEY_ID": None,
        "S3_SECRET_ACCESS_KEY": None,
        # "production" (MIZ_ENV) refuses to start with settings only fit for one process or
        # a developer's machine (security.check_production) and sends HSTS.
        "ENV": "development",
        # Proxies in front of the server whose X-Forwarded-For/-Proto are trusted: 1 for one
        # nginx. The client's address then keys the rate limits and goes in the audit log.
        "PROXY_HOPS": 0,
        # Uploads: each file, the documents of one filing together, and the hard ceiling of
        # any request's body (above the filing's total, so an oversized filing is still read
        # and answered with its form; beyond it the body is not read at all).
        "MAX_DOCUMENT_BYTES": 10 * 1024 * 1024,
        "MAX_FILING_BYTES": 40 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 100 * 1024 * 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
        # No X-RateLimit-* headers: each would cost two more round trips to the limiter's store
        # (Redis) on every limited call; a 429 says Retry-After (errors.py).
        "RATELIMIT_HEADERS_ENABLED": False,
        # Online filings (after the mobile's one-time code) per address and per mobile, and
        # every API call of one kiosk, by its token (counter_server/quotas.py).
        "FILINGS_PER_ADDRESS": "30 per hour",
        "FILINGS_PER_MOBILE": "10 per day",
        "KIOSK_RATE_LIMIT": "1200 per minute",
        # A kiosk's token is looked up at most this often per process (usecases/kiosks.py
        # TokenCache): a revoked or renewed token stops working within it.
        "KIOSK_TOKEN_CACHE_SECONDS": 1.0,
        # Lookups by tracking code per address (a citizen's browser; kiosks are exempt).
        "TRACK_RATE_LIMIT": "60 per minute",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "miz_session",
        "REMEMBER_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "STAFF_IDLE_MINUTES": 30,
        "STAFF_SESSION_HOURS": 12,  # a staff login ends this long after it began, busy or not
        # A second factor for clerks and reception too (supervisors and admins always).
        "STAFF_TWO_FACTOR_EVERY_ROLE": False,
        "APPLICANT_CHECK_MINUTES": 15,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "ENFORCE_QUEUE_HOURS": True,
        "BOARD_POLL_SECONDS": 0.3,
        # The polled reads (a board, a ticket's state) ask whether the office's lobby moved at
        # most this often per process, and serve what they last read in between.
        "LOBBY_CACHE_SECONDS": 1.0,
        # …and a ticket just taken gets its place in line and estimate from a view at most
        # this old — what is printed on paper cannot be corrected, so as fresh as the board by
        # default; raising it spares taking tickets the view's rebuild (it reads the whole
        # day's tickets), at the price of a place in line up to that many seconds stale.
        "LOBBY_ISSUED_VIEW_SECONDS": 1.0,
        "BOARD_HEARTBEAT_SECONDS": 15.0,
        # Live streams (lobby_events.py), per server process, sized for a province: 50 lobby
        # boards and 2,000 phones following their tickets, with room for connections that a
        # dropped network left open; a stream ends after STREAM_MAX_SECONDS and reconnects.
        "STREAM_BOARDS_MAX": 100,
        "STREAM_BOARDS_PER_OFFICE": 10,
        "STREAM_TICKETS_MAX": 3000,
        "STREAM_PER_TICKET": 3,
        "STREAM_MAX_SECONDS": 600,
        "STREAM_RETRY_AFTER_SECONDS": 30,
        # Confirming the mobile of an online filing with a one-time code (usecases/
        # mobile_confirmation.py); SMS_OTP_TEMPLATE names the provider's approved template.
        "SMS_OTP_TEMPLATE": None,
        "MOBILE_CODE_MINUTES": 5,
        "MOBILE_CONFIRMED_MINUTES": 60,
        "MOBILE_CODE_RESEND_SECONDS": 60,
        "MOBILE_CODE_TRIES": 5,
        "MOBILE_CODES_PER_MOBILE_HOUR": 5,
        "MOBILE_CODES_PER_ADDRESS_HOUR": 20,
        # Electronic delivery's keys (counter_server/delivery/keys.py): the seal key, and the
        # agency's PDF signing key and certificate — files, or a PKCS#11 token when
        # PKCS11_MODULE is set; TSA_URL, a time-stamp server, makes signatures PAdES-B-T.
        "SEAL_KEY_FILE": str(Path(instance_path) / "keys" / "seal-key.pem"),
        "SIGNING_KEY_FILE": str(Path(instance_path) / "keys" / "signing-key.pem"),
        "SIGNING_CERT_FILE": str(Path(instance_path) / "keys" / "signing-cert.pem"),
        "PKCS11_MODULE": None,
        "PKCS11_TOKEN_LABEL": None,
        "PKCS11_KEY_LABEL": None,
        "PKCS11_CERT_LABEL": None,
        "PKCS11_PIN": None,
        "TSA_URL": None,
        # Kiosks are given a revocation once it is this old (api/deliveries.py).
        "REVOCATION_SETTLE_SECONDS": 30,
        # The catalog editor flags a service not reviewed for this many months.
        "CATALOG_REVIEW_MONTHS": 12,
        # The desk's home warns of a kiosk not heard from for this long.
        "KIOSK_SILENT_MINUTES": 10,
    }


def load_secret_key(instance_path: str) -> str:
    """The instance's secret key, generated on first start and kept in the instance folder."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()
