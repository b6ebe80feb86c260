"""Requests: filing (`POST /requests`), documents, public tracking (`GET /track/<code>`) and
the check of a delivered document (`GET /verify/<id>`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from flask import current_app, request
from sqlalchemy.orm import Session

from counter_server.api import bp
from counter_server.api.auth import current_kiosk, current_staff, is_kiosk_call
from counter_server.api.bodies import (
    FIELD_INVALID,
    FIELD_REQUIRED,
    json_array_parts,
    json_part,
    parse_body,
    validate,
)
from counter_server.api.errors import ApiError
from counter_server.api.openapi import operation
from counter_server.api.schemas import (
    DOCUMENT_ID_PATH,
    TRACKING_CODE_PATH,
    DocumentOut,
    DocumentUpload,
    CodeIn,
    ConfirmedOut,
    ErrorBody,
    FilingOut,
    FilingUpload,
    MobileConfirmationIn,
    MobileConfirmationOut,
    RequestIn,
    RequestOut,
    TrackOut,
    ValidationErrorBody,
    VerifyOut,
)
from counter_server import clock, quotas
from counter_server.context import bus, database, public_url, session, unit_of_work
from counter_server.db import utcnow
from counter_server.extensions import limiter
from counter_server.quotas import track_limit
from counter_server.models import RequestDocument, ServiceRequest
from counter_server.usecases import (
    catalog_versions,
    delivery,
    documents,
    filings,
    inquiries,
    mobile_confirmation,
    public_tracking,
    service_requests,
    tracking_reads,
)
from counter_server.usecases.service_requests import Submission, SubmissionRefused
from shared import jalali, tracking_codes
from shared.catalog.schema import Channel, ServiceSpec
from shared.validators import InvalidValue, clean_mobile
from shared.workflow import STATUS_LABELS, Status

TRACK_LIMIT = track_limit
CONFIRMATION_LIMIT = "30 per minute"


def request_json(item: ServiceRequest) -> dict[str, Any]:
    return {
        "tracking_code": item.tracking_code,
        "status": item.status,
        "status_label": STATUS_LABELS[Status(item.status)],
        "service": item.service_slug,
        "channel": item.channel,
        "created_at": item.created_at.isoformat(),
        "due_date": item.due_date.isoformat(),
        "flags": item.flags,
        "tracking_url": f"{public_url()}/t/{item.tracking_code}",
    }


@bp.post("/requests")
@operation(
    "File a request for a service",
    {201: ("Filed", RequestOut), 200: ("A replay of an earlier submission", RequestOut),
     401: ("Kiosk token or staff login needed", ErrorBody),
     403: ("A staff session cookie without its X-CSRFToken header (`csrf_header_required`)",
           ErrorBody),
     409: ("The kiosk's tracking code is already taken", ErrorBody),
     422: ("Invalid body or fields; `idempotency_key_reused` for a reused client_id",
           ValidationErrorBody),
     429: ("`too_many_filings`: online filings per address or per mobile", ErrorBody)},
    tag="requests", body=RequestIn,
    description="Idempotent by `client_id`: the same id and body return the original result "
    "(200); the same id with another body is refused (422, `idempotency_key_reused`).",
)
def submit_request() -> tuple[dict[str, Any], int]:
    body = parse_body(RequestIn)
    submission = _submission(body)
    kiosk, staff = current_kiosk(), current_staff()
    check = None
    online = submission.channel == Channel.online
    if online:
        check = _confirmed_mobile(submission, body.mobile_confirmation)
        _check_filing_quota(submission)

    def work(db: Session) -> service_requests.Filed:
        return service_requests.submit(db, submission, kiosk=kiosk, user=staff,
                                       public_url=public_url(), mobile_check=check)

    with _filing_refusals():
        filed = unit_of_work(work)
    if online and filed.created:
        quotas.count_filing(current_app.config, request.remote_addr or "",
                            filed.request.applicant_mobile)
    return request_json(filed.request), 201 if filed.created else 200


def _submission(body: RequestIn) -> Submission:
    return Submission(
        client_id=str(body.client_id), service=body.service, channel=body.channel,
        applicant=body.applicant.model_dump(), fields=body.fields,
        tracking_code=body.tracking_code, catalog_version=body.catalog_version,
        created_at=body.created_at)


@contextmanager
def _filing_refusals() -> Iterator[None]:
    """A filing's refusals as API errors: 503 without a catalog, the submission's own."""
    try:
        yield
    except catalog_versions.NoCatalog:
        raise ApiError(503, "catalog_unavailable", "فهرست خدمات هنوز منتشر نشده است.") from None
    except SubmissionRefused as exc:
        extra = {"errors": exc.errors} if exc.errors else {}
        raise ApiError(exc.status, exc.code, exc.message, **extra) from None


def _check_filing_quota(submission: Submission) -> None:
    """429 past the online filings per address or per mobile (a replay always passes)."""
    mobile = str(submission.applicant.get("mobile", ""))
    try:
        mobile = clean_mobile(mobile)
    except InvalidValue:
        return  # the filing refuses it with the field's error
    if not quotas.may_file(current_app.config, request.remote_addr or "", mobile) \
            and not service_requests.is_filed(session(), submission.client_id):
        raise ApiError(429, "too_many_filings", quotas.FILINGS_REFUSED)


def _confirmed_mobile(submission: Submission,
                      confirmation: UUID | None) -> inquiries.MobileCheck | None:
    """An online filing's confirmed mobile, and the check to record with it (or the refusal)."""
    try:
        with database().session() as reading:  # nothing locked while the registry answers
            spec = catalog_versions.current_snapshot(reading).service(submission.service)
    except catalog_versions.NoCatalog:
        raise ApiError(503, "catalog_unavailable", "فهرست خدمات هنوز منتشر نشده است.") from None
    if spec is None or Channel.online not in spec.channels or _invalid(spec, submission):
        return None  # the filing refuses it, with every field's error, before anything else
    try:
        check = mobile_confirmation.for_filing(
            database(), bus(), public_id=str(confirmation) if confirmation else None,
            client_id=submission.client_id, spec=spec, applicant=submission.applicant,
            now=utcnow(), policy=mobile_confirmation.policy_from_config(current_app.config))
    except mobile_confirmation.ConfirmationRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message,
                       errors={f"applicant.{exc.field}": exc.message} if exc.field else None
                       ) from None
    if check is not None and check.refused:
        raise ApiError(422, "mobile_not_owned", inquiries.MOBILE_NOT_YOURS,
                       errors={"applicant.mobile": inquiries.MOBILE_NOT_YOURS})
    return check


def _invalid(spec: ServiceSpec, submission: Submission) -> bool:
    try:
        service_requests.validate_fields(spec, submission)
    except SubmissionRefused:
        return True
    return False


@bp.post("/mobile-confirmations")
@limiter.limit(CONFIRMATION_LIMIT)
@operation(
    "Send a one-time code to the applicant's mobile, before filing online",
    {202: ("The code is on its way", MobileConfirmationOut),
     422: ("Invalid national code or mobile; `mobile_not_owned` when the registry says the "
           "mobile is not the national code's", ValidationErrorBody),
     429: ("`code_sent_recently` or `too_many_codes` (per mobile and per address)", ErrorBody)},
    tag="requests", body=MobileConfirmationIn,
    description="When the service checks it, the mobile is first checked against the national "
    "code; then a 5-digit code is sent by SMS. Type it back with "
    "`POST /mobile-confirmations/<id>/code`, then file with `mobile_confirmation: <id>`.",
)
def ask_for_code() -> tuple[dict[str, Any], int]:
    body = parse_body(MobileConfirmationIn)
    try:
        sent = mobile_confirmation.start(
            database(), bus(), service=body.service, national_code=body.national_code,
            mobile=body.mobile, address=request.remote_addr or "", now=utcnow(),
            policy=mobile_confirmation.policy_from_config(current_app.config),
            secret=current_app.config["SECRET_KEY"])
    except mobile_confirmation.ConfirmationRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message,
                       errors={exc.field: exc.message} if exc.field else None) from None
    return {"confirmation": sent.public_id, "mobile": mobile_confirmation.masked(sent.mobile),
            "resend_after": sent.resend_at.isoformat(),
            "expires_at": sent.expires_at.isoformat()}, 202


@bp.post("/mobile-confirmations/<uuid:confirmation>/code")
@limiter.limit(CONFIRMATION_LIMIT)
@operation(
    "Type back the one-time code",
    {200: ("The mobile is confirmed", ConfirmedOut),
     401: ("No such confirmation (`mobile_not_confirmed`)", ErrorBody),
     422: ("`code_wrong` (with the tries left) or `code_expired`", ValidationErrorBody)},
    tag="requests", body=CodeIn,
)
def type_code(confirmation: UUID) -> dict[str, Any]:
    body = parse_body(CodeIn)
    policy = mobile_confirmation.policy_from_config(current_app.config)
    try:
        row = mobile_confirmation.confirm(session(), str(confirmation), body.code, utcnow(),
                                          policy, current_app.config["SECRET_KEY"])
    except mobile_confirmation.ConfirmationRefused as exc:
        session().commit()  # a wrong try counts
        raise ApiError(exc.status, exc.code, exc.message,
                       errors={exc.field: exc.message} if exc.field else None) from None
    session().commit()
    assert row.confirmed_at is not None
    return {"confirmation": row.public_id,
            "confirmed_until": (row.confirmed_at + policy.confirmed_for).isoformat()}


def _normalized(code: str) -> str:
    try:
        return tracking_codes.normalize(code)
    except tracking_codes.InvalidCode as exc:
        raise ApiError(400, exc.code, exc.message) from None


def _not_found() -> ApiError:
    return ApiError(404, "request_not_found", "درخواستی با این کد رهگیری پیدا نشد.")


def _request_or_404(code: str, with_history: bool = False) -> ServiceRequest:
    found = service_requests.find_by_code(session(), _normalized(code), with_history)
    if found is None:
        raise _not_found()
    return found


@bp.get("/track/<code>")
@limiter.limit(TRACK_LIMIT, exempt_when=is_kiosk_call)
@operation(
    "Follow a request by its tracking code (no personal data)",
    {200: ("The request's public state", TrackOut),
     400: ("Not a well-formed tracking code (answered without a database lookup)", ErrorBody),
     404: ("No request has this code", ErrorBody), 429: ("Too many lookups", ErrorBody)},
    tag="requests", path_schemas={"code": TRACKING_CODE_PATH},
)
def track(code: str) -> dict[str, Any]:
    normalized = _normalized(code)
    with database().single_read() as connection:
        item = tracking_reads.find(connection, normalized)
    if item is None:
        raise _not_found()
    snapshot = catalog_versions.current_snapshot(session())
    view = public_tracking.public_view(item, snapshot)
    return {**view.as_json(),
            "deliverables": delivery.listed(item.deliverables, snapshot.public_url())}


@bp.get("/verify/<public_id>")
@limiter.limit(TRACK_LIMIT, exempt_when=is_kiosk_call)
@operation(
    "Check a delivered document by the public id in its QR: valid, revoked or expired",
    {200: ("The document's state and what its paper shows (no personal data)", VerifyOut),
     400: ("Not a well-formed document id (answered without a database lookup)", ErrorBody),
     404: ("No document has this id", ErrorBody), 429: ("Too many lookups", ErrorBody)},
    tag="requests", path_schemas={"public_id": DOCUMENT_ID_PATH},
)
def verify(public_id: str) -> dict[str, Any]:
    if not delivery.is_public_id(public_id):
        raise ApiError(400, "invalid_document_id", "شناسه سند درست نیست.")
    found = delivery.find(session(), public_id)
    if found is None:
        raise ApiError(404, "document_not_found", "سندی با این شناسه صادر نشده است.")
    return delivery.verification(found, jalali.to_local(clock.now()).date())


@bp.post("/requests/<code>/documents")
@limiter.limit("20 per minute", exempt_when=is_kiosk_call)
@operation(
    "Hand in a document for one of the request's document slots",
    {201: ("Stored", DocumentOut), 200: ("A replay of an earlier upload", DocumentOut),
     400: ("Not a well-formed tracking code", ErrorBody),
     403: ("Neither the request's kiosk nor its applicant", ErrorBody),
     404: ("No request has this code", ErrorBody),
     422: ("The file was refused (format, size, pages, damage, slot)", ErrorBody),
     429: ("Too many uploads from this address", ErrorBody)},
    tag="requests", body=DocumentUpload, body_media_type="multipart/form-data",
    path_schemas={"code": TRACKING_CODE_PATH},
    description="Idempotent by `client_id`. Files are checked by their bytes against the "
    "slot's formats (PDF, JPEG, PNG, TIFF) and bounded in size.",
)
def upload_document(code: str) -> tuple[dict[str, Any], int]:
    item = _request_or_404(code)
    kiosk = current_kiosk()
    uploaded_by = _uploader(item, kiosk is not None and kiosk.id == item.kiosk_id)
    upload = _upload_from_form()
    storage = current_app.extensions["miz.storage"]

    def work(db: Session) -> tuple[Any, bool]:
        return documents.attach(db, storage, item, upload, uploaded_by,
                                max_bytes=current_app.config["MAX_DOCUMENT_BYTES"])

    try:
        document, created = unit_of_work(work)
    except documents.DocumentRejected as exc:
        raise ApiError(422, exc.code, exc.message) from None
    return document_json(document), 201 if created else 200


@bp.post("/filings")
@operation(
    "File a kiosk's request together with its documents, in one call",
    {201: ("Filed, or completed: something was added", FilingOut),
     200: ("A replay: the request and every document were already there", FilingOut),
     401: ("Kiosks only: the kiosk's token is needed (`kiosk_token_required`)", ErrorBody),
     403: ("The request was filed by another kiosk (`not_this_kiosks_request`)", ErrorBody),
     409: ("The kiosk's tracking code is already taken", ErrorBody),
     422: ("Invalid parts, the request's refusal, or a document refused (its code, and its "
           "`client_id` as `document`): nothing of the filing is kept", ValidationErrorBody)},
    tag="requests", body=FilingUpload, body_media_type="multipart/form-data",
    body_encoding={"request": {"contentType": "application/json"},
                   "documents": {"contentType": "application/json"}},
    description="What `POST /requests` and `POST /requests/<code>/documents` do, in one "
    "transaction: a document refused refuses the whole filing, and nothing of it is kept. "
    "Idempotent by each part's `client_id`: a replay answers with what exists (200) and adds "
    "only what is missing (201). Files are checked as for a single upload. An older server "
    "answers 404 `not_found`: send the request and each document separately.",
)
def file_with_documents() -> tuple[dict[str, Any], int]:
    kiosk = current_kiosk()
    if kiosk is None:
        raise ApiError(401, "kiosk_token_required",
                       "این درخواست فقط با توکن کیوسک پذیرفته می‌شود.")
    body = validate(FilingUpload, {"request": json_part("request"),
                                   "documents": json_array_parts("documents")})
    uploads = [_upload_part(str(part.client_id), part.slot) for part in body.documents]
    storage, config = current_app.extensions["miz.storage"], current_app.config

    def work(db: Session) -> filings.FiledWithDocuments:
        return filings.file_with_documents(
            db, storage, _submission(body.request), uploads, kiosk=kiosk,
            public_url=public_url(), max_bytes=config["MAX_DOCUMENT_BYTES"],
            max_total=config["MAX_FILING_BYTES"])

    try:
        with _filing_refusals():
            result = unit_of_work(work)
    except filings.DocumentRefused as exc:
        raise ApiError(422, exc.code, exc.message, document=exc.client_id) from None
    except documents.DocumentRejected as exc:
        raise ApiError(422, exc.code, exc.message) from None
    return ({"request": request_json(result.filed.request), "created": result.filed.created,
             "documents": [{**document_json(row), "client_id": row.client_id,
                            "created": created} for row, created in result.documents]},
            201 if result.created else 200)


def _upload_part(client_id: str, slot: str) -> documents.Upload:
    """The document `client_id` of a filing, from the part named by it (422 without one)."""
    file = request.files.get(client_id)
    if file is None:
        raise ApiError(422, "document_file_missing", "پرونده یکی از مدارک فرستاده نشده است.",
                       document=client_id)
    return documents.Upload(client_id=client_id, slot=slot, filename=file.filename or "",
                            data=file.read())


def document_json(document: RequestDocument) -> dict[str, Any]:
    return {"id": document.id, "slot": document.slot, "media_type": document.media_type,
            "size": document.size, "sha256": document.sha256}


def _uploader(item: ServiceRequest, own_kiosk: bool) -> str:
    if own_kiosk:
        return "kiosk"
    form = request.form
    try:
        proven = public_tracking.verify_applicant(item, form.get("national_code", ""),
                                           form.get("mobile", ""))
    except public_tracking.CheckLocked:
        raise ApiError(429, "check_locked",
                       "به دلیل چند تلاش ناموفق، بررسی هویت برای این کد موقتاً قفل است.") from None
    finally:
        session().commit()  # keep the failure count even when refusing
    if not proven:
        raise ApiError(403, "not_the_applicant",
                       "کد ملی و شماره همراه با اطلاعات این درخواست یکسان نیست.")
    if item.status != Status.waiting_citizen:
        raise ApiError(422, "not_waiting_for_documents",
                       "این درخواست اکنون منتظر مدرکی از متقاضی نیست.")
    return "citizen"


def _upload_from_form() -> documents.Upload:
    file = request.files.get("file")
    client_id = request.form.get("client_id", "")
    try:
        UUID(client_id)
    except ValueError:
        raise ApiError(422, "invalid_body", "شناسه بارگذاری (client_id) باید UUID باشد.",
                       errors={"client_id": FIELD_INVALID}) from None
    if file is None:
        raise ApiError(422, "invalid_body", "پرونده‌ای فرستاده نشده است.",
                       errors={"file": FIELD_REQUIRED})
    return documents.Upload(client_id=client_id, slot=request.form.get("slot", ""),
                            filename=file.filename or "", data=file.read())
