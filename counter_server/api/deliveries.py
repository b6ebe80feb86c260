"""What kiosks need of delivered documents: the revocations and seal keys they check seals
with offline (`GET /revocations`), and, after the national-code check, the documents of a
request for the holder's slip (`POST /requests/<code>/deliverables`) and the signed PDF
(`POST /requests/<code>/deliverables/<id>/pdf`). Kiosk token only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, current_app, request

from counter_server import clock
from counter_server.api import bp
from counter_server.api.auth import current_kiosk
from counter_server.api.bodies import parse_body
from counter_server.api.errors import ApiError
from counter_server.api.openapi import operation, query_param
from counter_server.api.requests import _request_or_404
from counter_server.api.schemas import (
    DOCUMENT_ID_PATH,
    TRACKING_CODE_PATH,
    ErrorBody,
    HolderCheckIn,
    HolderDocumentsOut,
    RevocationsOut,
    ValidationErrorBody,
)
from counter_server.context import session
from counter_server.delivery import keys
from counter_server.models import Deliverable, ServiceRequest
from counter_server.usecases import delivery
from counter_server.usecases.kiosks import Caller
from shared import jalali


def _kiosk_only() -> Caller:
    kiosk = current_kiosk()
    if kiosk is None:
        raise ApiError(401, "kiosk_token_required", "این نشانی فقط برای کیوسک‌هاست.")
    return kiosk


@bp.get("/revocations")
@operation(
    "Revocations after a cursor, and the seal keys kiosks trust",
    {200: ("Revocations, oldest first, the next cursor and the seal keys", RevocationsOut),
     400: ("`invalid_cursor`: not a cursor this server gave", ErrorBody),
     401: ("Kiosks only", ErrorBody)},
    tag="kiosks",
    parameters=[query_param("since", "The cursor of the last answer (none: from the first)",
                            {"type": "string", "maxLength": 40,
                             "pattern": r"^([0-9]{1,19}\.[0-9]{1,18})?$"})],
    description="Kept beside the catalog, never inside it: a revocation is final, so a "
    "kiosk that keeps every one it was given never un-revokes a document. Ask again at once "
    "while `more` is true. A revocation is given once it is `REVOCATION_SETTLE_SECONDS` "
    "old (30 s by default), so none can fall behind a cursor already handed out.",
)
def revocations() -> dict[str, Any]:
    _kiosk_only()
    since = request.args.get("since") or None
    settle = timedelta(seconds=float(current_app.config["REVOCATION_SETTLE_SECONDS"]))
    try:
        page = delivery.revocations_since(session(), since, clock.now(), settle)
    except delivery.InvalidCursor:
        raise ApiError(400, "invalid_cursor",
                       "نشانگر ادامهٔ فهرست ابطال‌ها نادرست است؛ بدون آن دوباره بخواهید.") from None
    return {"revocations": [delivery.revocation_json(d) for d in page.items],
            "cursor": page.cursor, "more": page.more,
            "seal_keys": delivery.seal_public_keys(keys.KeySettings.from_config(
                current_app.config))}


def _holders(code: str) -> tuple[ServiceRequest, list[Deliverable]]:
    """The request and its documents once the body's national code is the applicant's."""
    _kiosk_only()
    body = parse_body(HolderCheckIn)
    item = _request_or_404(code)
    try:
        found = delivery.for_the_holder(session(), item, body.national_code, clock.now())
    except delivery.DeliveryRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    finally:
        session().commit()  # a failed check counts
    return item, found


@bp.post("/requests/<code>/deliverables")
@operation(
    "The documents delivered for a request, for the holder's slip at a kiosk",
    {200: ("The documents, with their seals' text", HolderDocumentsOut),
     400: ("Not a well-formed tracking code", ErrorBody),
     401: ("Kiosks only", ErrorBody),
     403: ("`not_the_applicant`: the national code is not the applicant's", ErrorBody),
     404: ("No request has this code", ErrorBody),
     422: ("Invalid body", ValidationErrorBody),
     429: ("`check_locked` after too many failed checks", ErrorBody)},
    tag="kiosks", body=HolderCheckIn, path_schemas={"code": TRACKING_CODE_PATH},
    description="The kiosk scanned the receipt's QR (the tracking code) and the citizen typed "
    "the national code; failed checks count toward the same lock as the tracking page's.",
)
def holder_documents(code: str) -> dict[str, Any]:
    item, found = _holders(code)
    today = jalali.to_local(clock.now()).date()
    return {"tracking_code": item.tracking_code,
            "deliverables": [delivery.holder_json(d, today) for d in found]}


@bp.post("/requests/<code>/deliverables/<public_id>/pdf")
@operation(
    "The signed PDF of a delivered document, for a kiosk's A4 printer",
    {200: ("The signed PDF (application/pdf)", None),
     400: ("Not a well-formed tracking code", ErrorBody), 401: ("Kiosks only", ErrorBody),
     403: ("`not_the_applicant`", ErrorBody),
     404: ("No such request, or no such document of it", ErrorBody),
     422: ("Invalid body", ValidationErrorBody), 429: ("`check_locked`", ErrorBody)},
    tag="kiosks", body=HolderCheckIn,
    path_schemas={"code": TRACKING_CODE_PATH, "public_id": DOCUMENT_ID_PATH},
    description="Written in the audit log as a download by the applicant.",
)
def holder_pdf(code: str, public_id: str) -> Response:
    _, found = _holders(code)
    document = next((d for d in found if d.public_id == public_id), None)
    if document is None:
        raise ApiError(404, "document_not_found", "سندی با این شناسه برای این درخواست نیست.")
    data = delivery.signed_pdf(session(), current_app.extensions["miz.storage"], document,
                               None, address=request.remote_addr)
    session().commit()
    return Response(data, mimetype="application/pdf")
