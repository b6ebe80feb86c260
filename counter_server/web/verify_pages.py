"""`/v/<id>`: anyone checks a delivered document — its facts, its state, and whether a PDF
in hand is byte for byte the one issued. Rate-limited like tracking; ids are unguessable.

`/v/offline`: a page that, once loaded, checks a seal's text in the browser with the seal
keys it carries (`static/seals.js`, `static/verify-offline.js`), with no request to the
server; its service worker (`/v/offline-worker.js`) keeps it for the next visit offline.
"""

from __future__ import annotations

from base64 import b64encode
from typing import Any

from cryptography.hazmat.primitives import serialization
from flask import Response, abort, current_app, render_template, request, url_for

from counter_server import clock
from counter_server.api.auth import is_kiosk_call
from counter_server.context import session
from counter_server.delivery import keys
from counter_server.extensions import limiter
from counter_server.models import Deliverable
from counter_server.usecases import delivery
from counter_server.web import bp
from shared import jalali, seals
from shared.seals import KIND_LABELS, STATE_LABELS, OutputKind

VERIFY_LIMIT = "60 per minute"
NOT_FOUND = "سندی با این شناسه صادر نشده است. نشانی را دوباره از رمزینه سند بخوانید."
NO_SEAL_KEY = ("کلید مهر این اداره هنوز ساخته نشده است؛ تا ساخته نشود، مهری را در این صفحه "
               "نمی‌توان بررسی کرد.")
# The offline page may use the camera (BarcodeDetector); every other page may not.
OFFLINE_PERMISSIONS = "camera=(self), microphone=(), geolocation=()"
# The id in the address of a document's page, replaced by the script with a seal's id.
ID_PLACEHOLDER = "document-id"


def _deliverable(public_id: str) -> Deliverable:
    found = delivery.find(session(), public_id) if delivery.is_public_id(public_id) else None
    if found is None:
        abort(Response(render_template("verify.html", document=None, message=NOT_FOUND), 404))
    return found


def _page(document: Deliverable, check: str | None = None, status: int = 200
          ) -> tuple[str, int]:
    state = delivery.state(document, jalali.to_local(clock.now()).date())
    return render_template("verify.html", document=document, state=state,
                           state_label=STATE_LABELS[state],
                           kind_label=KIND_LABELS[OutputKind(document.kind)],
                           check=check), status


@bp.get("/v/<public_id>")
@limiter.limit(VERIFY_LIMIT, exempt_when=is_kiosk_call)
def verify_document(public_id: str) -> tuple[str, int]:
    return _page(_deliverable(public_id))


@bp.post("/v/<public_id>")
@limiter.limit(VERIFY_LIMIT, exempt_when=is_kiosk_call)
def verify_file(public_id: str) -> tuple[str, int]:
    document = _deliverable(public_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(document, "missing", 422)
    same = delivery.is_the_issued_file(document, upload.read())
    return _page(document, "same" if same else "different")


def _offline_keys() -> list[dict[str, str]]:
    """The seal keys the offline page checks with: each key's id (hex) and its public key
    (SubjectPublicKeyInfo, DER, base64), which WebCrypto imports as "spki"; none when the
    key has not been made yet."""
    try:
        public_key = keys.seal_key(keys.KeySettings.from_config(current_app.config)).public_key()
    except keys.KeysMissing:
        return []
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return [{"id": seals.key_id(public_key).hex(), "spki": b64encode(der).decode("ascii")}]


def _offline_settings(seal_keys: list[dict[str, str]]) -> dict[str, Any]:
    """What the offline page's script needs besides its code: the keys, and the words and
    names it shows, taken from the same place as the server's and the kiosk's."""
    return {
        "keys": seal_keys,
        "kinds": {str(kind.code): label for kind, label in KIND_LABELS.items()},
        "months": list(jalali.MONTHS),
        "errors": {"seal_malformed": seals.MALFORMED, "seal_unknown_key": seals.UNKNOWN_KEY,
                   "seal_signature_invalid": seals.SIGNATURE_INVALID},
        "documentUrl": url_for("web.verify_document", public_id=ID_PLACEHOLDER),
        "idPlaceholder": ID_PLACEHOLDER,
        "worker": url_for("web.verify_offline_worker"),
    }


@bp.get("/v/offline")
def verify_offline() -> Response:
    seal_keys = _offline_keys()
    response = Response(render_template(
        "verify_offline.html", settings=_offline_settings(seal_keys),
        message=None if seal_keys else NO_SEAL_KEY))
    response.headers["Permissions-Policy"] = OFFLINE_PERMISSIONS
    return response


@bp.get("/v/offline-worker.js")
def verify_offline_worker() -> Response:
    """The offline page's service worker, from the static folder but served under /v/ so
    that it may keep `/v/offline` (a worker controls only pages under its own folder)."""
    response = current_app.send_static_file("verify-offline-worker.js")
    response.headers["Cache-Control"] = "no-cache"
    return response
