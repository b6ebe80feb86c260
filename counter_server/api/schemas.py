"""Bodies of the API, as pydantic models: they validate and they generate the OpenAPI schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from counter_server.usecases.filings import MAX_DOCUMENTS as MAX_FILING_DOCUMENTS
from shared.catalog.schema import Catalog, Channel, Duration, ServiceSpec
from shared.tracking_codes import INPUT_PATTERN, MAX_INPUT_LENGTH

# A ticket's public id, as printed in its QR (/q/<id>): the server's are 12 characters.
TICKET_ID = r"[A-Za-z0-9_-]{12,16}"
# Path parameters the server checks before any lookup (400 when they do not fit).
TRACKING_CODE_TEXT = ("A 16-digit tracking code (ASCII, Persian or Arabic-Indic digits; spaces, "
                      "dashes and bidi marks are ignored). Its last digit is a check digit: a "
                      "code that fails it is refused (`tracking_code_check_failed`).")
TRACKING_CODE_PATH = {"type": "string", "maxLength": MAX_INPUT_LENGTH, "pattern": INPUT_PATTERN,
                      "description": TRACKING_CODE_TEXT, "examples": ["0012345678901236"]}
DOCUMENT_ID_PATH = {"type": "string", "pattern": "^[a-z2-7]{24}$",
                    "description": "A delivered document's public id, as in /v/<id>"}
Slug = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Required = Annotated[str, StringConstraints(min_length=1, max_length=30)]
TrackingCode = Annotated[str, StringConstraints(max_length=MAX_INPUT_LENGTH,
                                                pattern=INPUT_PATTERN)]
# A tracking code in a body, where an empty one means none.
LinkedCode = Annotated[str, StringConstraints(max_length=MAX_INPUT_LENGTH,
                                              pattern=f"^$|{INPUT_PATTERN}")]


class ErrorBody(BaseModel):
    """Every API error: a stable machine-readable code and a Persian message."""

    code: str = Field(examples=["service_not_found"])
    message: str = Field(examples=["خدمتی با این شناسه وجود ندارد."])
    errors: dict[str, str] | None = Field(None, description="Per-field messages, when validating")


class CatalogBody(Catalog):
    """The whole published catalog."""

    version: int
    published_at: datetime


class ServiceBody(ServiceSpec):
    """One service, as published in the current catalog version."""

    catalog_version: int
    category_title: str


class ServiceSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    title: str
    category: str
    category_title: str
    summary: str
    channels: list[Channel]
    duration: Duration
    free: bool
    total_fee_rials: int
    score: int | None = Field(None, description="Search rank (higher is better); only with q")


class ServiceList(BaseModel):
    catalog_version: int
    query: str | None
    category: str | None
    count: int
    services: list[ServiceSummary]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]
    catalog_version: int | None


class ApplicantIn(BaseModel):
    """The applicant; validated by the same rules as every form (shared.forms)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["زهرا احمدی"])
    national_code: Required = Field(examples=["0499370899"])
    mobile: Required = Field(examples=["09121234567"])


class RequestIn(BaseModel):
    """A request for a service. Kiosks also send the code they printed, the catalog version
    the form was filled against, and their clock's time."""

    model_config = ConfigDict(extra="forbid")

    client_id: UUID = Field(description="Idempotency key: a new UUID per request, kept on retry")
    service: Slug
    channel: Literal["online", "kiosk", "counter"]
    applicant: ApplicantIn
    fields: dict[str, Any] = Field(default_factory=dict)
    tracking_code: TrackingCode | None = Field(
        None, description=f"Kiosks only (and required there): the code the kiosk printed. "
                          f"{TRACKING_CODE_TEXT}")
    catalog_version: int | None = Field(None, ge=1, description="Kiosks only")
    created_at: AwareDatetime | None = Field(None, description="Kiosks only: the kiosk's clock")
    mobile_confirmation: UUID | None = Field(
        None, description="Online only (and required there): the id of the mobile confirmation "
        "whose code was typed back (`POST /mobile-confirmations`)")


class MobileConfirmationIn(BaseModel):
    """Ask for a one-time code to the applicant's mobile, before filing online."""

    model_config = ConfigDict(extra="forbid")

    service: Slug = Field(description="The service about to be filed")
    national_code: Required
    mobile: Required


class MobileConfirmationOut(BaseModel):
    confirmation: UUID
    mobile: str = Field(description="Masked, in Persian digits: where the code went")
    resend_after: datetime = Field(description="Before this, another code is refused (429)")
    expires_at: datetime


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=20,
                      description="The code from the SMS (any digits)")


class ConfirmedOut(BaseModel):
    confirmation: UUID
    confirmed_until: datetime = Field(description="Until when it can file online")


class RequestOut(BaseModel):
    tracking_code: str
    status: str
    status_label: str
    service: str
    channel: str
    created_at: datetime
    due_date: date
    flags: list[str]
    tracking_url: str


class ValidationErrorBody(ErrorBody):
    errors: dict[str, str] | None = Field(None, description="Field → Persian message")


class DocumentOut(BaseModel):
    id: int
    slot: str
    media_type: str
    size: int
    sha256: str


class DocumentUpload(BaseModel):
    """multipart/form-data: `client_id` (UUID), `slot` (document id) and `file`; an
    applicant without a kiosk token also sends `national_code` and `mobile`."""

    client_id: UUID
    slot: str
    file: bytes = Field(json_schema_extra={"format": "binary"})
    national_code: str | None = None
    mobile: str | None = None


class FilingDocumentIn(BaseModel):
    """One document of a filing; its file comes in the part named by its `client_id`."""

    model_config = ConfigDict(extra="forbid")

    client_id: UUID = Field(description="Idempotency key of the document, and the name of the "
                            "multipart part that carries its file")
    slot: str = Field(min_length=1, max_length=80, description="The document's id in the "
                      "service's terms")


class FilingUpload(BaseModel):
    """multipart/form-data: `request`, the JSON body of `POST /requests`; `documents`, a
    JSON array of each document's `client_id` and `slot`; and each document's file in a part
    named by its `client_id`."""

    model_config = ConfigDict(json_schema_extra={
        "additionalProperties": {"type": "string", "format": "binary"}})

    request: RequestIn
    documents: list[FilingDocumentIn] = Field(max_length=MAX_FILING_DOCUMENTS)


class FiledDocumentOut(DocumentOut):
    client_id: UUID
    created: bool = Field(description="False when an earlier delivery had stored it")


class FilingOut(BaseModel):
    request: RequestOut
    created: bool = Field(description="False when an earlier delivery had filed the request")
    documents: list[FiledDocumentOut]


class StepNoteOut(BaseModel):
    at: datetime
    event: str = Field(description="The action that wrote it, e.g. advance")
    label: str = Field(description="That action in Persian")
    text: str


class StepOut(BaseModel):
    id: str = Field(description="The step's stable id within its service")
    index: int = Field(description="Its place in the workflow, 0 first")
    title: str
    actor: str
    state: Literal["done", "current", "pending"]
    completed_at: datetime | None
    notes: list[StepNoteOut] = Field(
        description="The notes to the applicant written while the request was at this step")


class AskedDocumentOut(BaseModel):
    id: str = Field(description="The document's id in the service's list")
    name: str


class InquiryStateOut(BaseModel):
    kind: str = Field(description="The inquiry's kind, e.g. mobile_owner")
    title: str = Field(description="«استعلام از شاهکار»")
    status: Literal["pending", "done", "failed", "manual"]
    status_label: str
    advice: str | None = Field(description="What the citizen should do, when it blocks")


class DeliverableRef(BaseModel):
    """A document delivered for the request; its page shows whether it is still valid."""

    id: str = Field(description="The document's public id, as in /v/<id>")
    title: str
    issued_at: datetime
    verify_url: str


class VerifyOut(BaseModel):
    """A delivered document's state and what its paper shows; no personal data."""

    status: Literal["valid", "revoked", "expired"]
    kind: Literal["card", "licence", "certificate", "letter"]
    number: str
    issued_at: datetime
    expires_at: date | None
    sha256: str = Field(description="Of the signed PDF: a file is the one issued if it matches")


class TrackOut(BaseModel):
    """The public state of a request: no personal data."""

    tracking_code: str
    service: dict[str, str]
    status: str
    status_label: str
    current_step: str = Field(description="The id of the step the request is at")
    steps: list[StepOut]
    submitted_at: datetime
    updated_at: datetime
    due_date: date
    elapsed_working_days: int
    promised: Duration
    overdue: bool
    note: str | None = Field(description="The note to the applicant written since the request "
                             "reached its status (never an earlier step's)")
    asked_documents: list[AskedDocumentOut] = Field(
        description="While waiting for the applicant: the documents staff asked for (empty "
        "when the ask named none and `note` says what is needed)")
    citizen_action: str | None = Field(description="While waiting for the applicant: what to "
                                       "do, in Persian (the documents asked for and the note)")
    decision: str | None = Field(description="`note` when the request is approved, rejected "
                                 "or completed")
    channel: Literal["online", "kiosk", "counter"]
    documents: list[str] = Field(description="Titles of the documents received (no files)")
    inquiries: list[InquiryStateOut] = Field(
        description="The inquiries made of other agencies, and their state (never the data)")
    deliverables: list[DeliverableRef] = Field(
        description="The documents delivered for the request (signed PDFs), oldest first")


class TicketIn(BaseModel):
    """A queue ticket. A kiosk that numbered the ticket itself (from a lease, e.g. offline)
    also sends `number` and `issued_at`."""

    model_config = ConfigDict(extra="forbid")

    client_id: UUID = Field(description="Idempotency key: a new UUID per ticket, kept on retry")
    service: Slug = Field(examples=["tour-guide-card"])
    priority: str | None = Field(None, max_length=40, description="A priority class slug")
    tracking_code: LinkedCode | None = Field(
        None, description=f"The request this ticket is for, if any. {TRACKING_CODE_TEXT}")
    number: int | None = Field(None, ge=1, le=100000, description="Kiosks only: a leased number")
    issued_at: AwareDatetime | None = Field(
        None, description="Only with `number` (a kiosk's leased number): when it was taken; "
        "a time later than the server's now is taken as now")
    office: str | None = Field(None, max_length=80, examples=["isfahan-hq"],
                               description="Staff only: the office (kiosks belong to one)")
    id: str | None = Field(None, pattern=f"^{TICKET_ID}$",
                           description="Kiosks only: the public id the kiosk printed in the "
                           "ticket's QR (/q/<id>), for a ticket it numbered itself")
    mobile: str | None = Field(
        None, max_length=30, examples=["09121234567"],
        description="Optional: the holder's mobile, for «… نفر جلوی شما هستند» and «نوبت شما: "
        "باجه ۴» by SMS and the survey's link after the visit. Any digits (Persian too); an "
        "invalid one is refused (422 `mobile_invalid` or `mobile_landline`), never dropped. "
        "Part of the body a replay must repeat; never echoed back.")


class TicketOut(BaseModel):
    id: str = Field(description="Public id, in the ticket's QR: /q/<id>")
    number: str = Field(examples=["A-023"])
    number_fa: str = Field(examples=["الف-۰۲۳"])
    queue: str
    queue_title: str
    service: str
    office: str
    priority: str | None
    status: str
    status_label: str
    ahead: int
    estimated_wait_minutes: int | None
    estimated_wait_range: list[int] | None = Field(
        None, description="[low, high] minutes, when no service time has been measured yet")
    issued_at: datetime
    day: date
    tracking_code: str | None = Field(
        description="The request the ticket is for: only to the kiosk or staff issuing it; "
        "null from the public `GET /tickets/{id}`")
    url: str


class LeaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: Slug
    size: int = Field(50, ge=1, le=200)
    day: date | None = Field(None, description="Today when absent; at most 7 days ahead")


class LeaseOut(BaseModel):
    """Numbers `first`..`last` of `queue` on `day` are this kiosk's to hand out, even offline."""

    office: str
    queue: str
    prefix: str
    prefix_fa: str
    day: date
    first: int
    last: int


class BoardOut(BaseModel):
    office: dict[str, str]
    version: int
    serving: list[dict[str, str]]
    calls: list[dict[str, Any]]
    waiting: list[dict[str, Any]]


class SurveyIn(BaseModel):
    """Answers to the satisfaction survey, about a request or a ticket (or neither)."""

    model_config = ConfigDict(extra="forbid")

    client_id: UUID
    service: str | None = Field(None, max_length=80)
    tracking_code: LinkedCode | None = Field(None, description=TRACKING_CODE_TEXT)
    ticket_id: str | None = Field(None, max_length=16)
    answers: dict[Annotated[str, StringConstraints(min_length=1, max_length=60)],
                  Annotated[int, Field(ge=1, le=5)]] = Field(
        min_length=1, description="Question id → 1 (worst) … 5 (best); at least one")
    comment: str | None = Field(None, max_length=500)
    created_at: AwareDatetime | None = None
    survey_token: str | None = Field(
        None, max_length=64,
        description="The one-time token of an SMS invitation (`/s/<token>`); or send it in "
                    "the `X-Survey-Token` header. Required unless a kiosk token is sent.")


class SurveyOut(BaseModel):
    id: int
    received_at: datetime


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    software_version: str = Field(max_length=40)
    outbox_depth: int = Field(ge=0)
    last_sync_at: AwareDatetime | None = None
    printer_state: str = Field(max_length=20)
    kiosk_time: AwareDatetime


class HeartbeatOut(BaseModel):
    server_time: datetime
    office: str | None = Field(None, description="The office the kiosk stands in")
    clock_offset_seconds: float = Field(description="Server time minus the kiosk's clock")


class RevocationOut(BaseModel):
    """A revoked document, as kiosks keep it to refuse its seal offline."""

    id: str = Field(description="The document's public id, as in /v/<id>")
    number: str
    revoked_at: datetime
    reason: str | None


class RevocationsOut(BaseModel):
    """Revocations after the cursor, oldest first, and the seal keys kiosks trust."""

    revocations: list[RevocationOut]
    cursor: str | None = Field(description="Send it back as `since` next time (opaque)")
    more: bool = Field(description="More revocations follow: ask again at once")
    seal_keys: list[str] = Field(description="The seal keys' public keys (PEM)")


class HolderCheckIn(BaseModel):
    """The applicant's national code, typed at the kiosk after scanning the receipt."""

    model_config = ConfigDict(extra="forbid")

    national_code: Required


class HolderDocumentOut(BaseModel):
    """A delivered document as its holder's slip prints it."""

    id: str
    title: str
    kind: Literal["card", "licence", "certificate", "letter"]
    number: str
    holder: str
    masked_national_code: str
    issued_at: datetime
    issued_on: date
    expires_on: date | None
    status: Literal["valid", "revoked", "expired"]
    seal_text: str = Field(description="The seal QR's text: `<base>/v/<id>#<digits>`")
    sha256: str
    size: int


class HolderDocumentsOut(BaseModel):
    tracking_code: str
    deliverables: list[HolderDocumentOut]
