"""Request forms on web pages: read the posted form, file a request with its documents.

The online desk (`/services/<slug>/apply`) and the counter (`/desk/walk-in/<slug>`) both use
these functions, which call the one filing use case (`usecases.service_requests.submit`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from counter_server import quotas
from counter_server.context import bus, database, session, unit_of_work
from counter_server.models import ServiceRequest, User
from counter_server.db import utcnow
from counter_server.usecases import documents, inquiries, mobile_confirmation, service_requests
from counter_server.usecases.kiosks import Caller
from counter_server.usecases.service_requests import Submission, SubmissionRefused
from shared.catalog.schema import Channel, Document, FieldType, ServiceSpec
from shared.forms import APPLICANT_FIELDS


@dataclass
class PostedForm:
    """What a person typed and attached, and what was wrong with it."""

    client_id: str
    applicant: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    uploads: list[documents.Upload] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


# The error key of files too large together: the documents' group (id="documents").
DOCUMENTS_TOO_LARGE = "documents"


def new_client_id() -> str:
    return str(uuid.uuid4())


def _client_id() -> str:
    raw = request.form.get("client_id", "")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return new_client_id()


def read_form(spec: ServiceSpec) -> PostedForm:
    """The posted applicant, fields and files of a request form for `spec`."""
    posted = PostedForm(client_id=_client_id())
    for item in APPLICANT_FIELDS:
        posted.applicant[item.name] = request.form.get(f"applicant.{item.name}", "")
    for item in spec.form:
        key = f"fields.{item.name}"
        if item.type is FieldType.multiselect:
            posted.fields[item.name] = request.form.getlist(key)
        else:
            posted.fields[item.name] = request.form.get(key, "")
    try:
        posted.uploads = read_uploads(spec, posted.client_id)
    except documents.DocumentRejected as exc:
        posted.errors[DOCUMENTS_TOO_LARGE] = exc.message
    return posted


def upload_id(client_id: str, slot: str, index: int) -> str:
    """The id of the `index`th file sent for `slot` in the form posted as `client_id`: the same
    post sent twice gives the same ids, so a replay stores nothing twice."""
    return str(uuid.uuid5(uuid.UUID(client_id), f"{slot}:{index}"))


def _size(file: FileStorage) -> int:
    """The posted file's size, from its spooled stream (nothing is read into memory)."""
    file.stream.seek(0, 2)
    size = file.stream.tell()
    file.stream.seek(0)
    return size


def read_uploads(spec: ServiceSpec, client_id: str,
                 slots: Sequence[Document] | None = None) -> list[documents.Upload]:
    """The files posted as `documents.<slot>` for each of `slots` (by default, the documents
    `spec` asks for); DocumentRejected, before any is read, when together they weigh more
    than `MAX_FILING_BYTES`."""
    posted = []
    for slot in spec.documents_to_ask if slots is None else slots:
        files: list[FileStorage] = [f for f in request.files.getlist(f"documents.{slot.id}")
                                    if f and f.filename]
        posted.extend((slot, index, file) for index, file in enumerate(files))
    documents.check_total([_size(file) for _slot, _index, file in posted],
                          current_app.config["MAX_FILING_BYTES"])
    return [documents.Upload(upload_id(client_id, slot.id, index), slot.id,
                             file.filename or "", file.read())
            for slot, index, file in posted]


def check_documents(spec: ServiceSpec, posted: PostedForm) -> None:
    """Check every file before anything is saved; mandatory slots must be filled (unless
    the files were not read at all: too large together)."""
    if DOCUMENTS_TOO_LARGE in posted.errors:
        return
    limit = current_app.config["MAX_DOCUMENT_BYTES"]
    for slot in spec.documents_to_ask:
        mine = [u for u in posted.uploads if u.slot == slot.id]
        key = f"documents.{slot.id}"
        if slot.mandatory and not mine:
            posted.errors[key] = f"لطفاً «{slot.name}» را بارگذاری کنید."
        elif len(mine) > slot.count:
            posted.errors[key] = f"برای «{slot.name}» حداکثر {slot.count} پرونده بفرستید."
        for upload in mine:
            try:
                documents.check(upload, slot.model_dump(mode="json"), limit)
            except documents.DocumentRejected as exc:
                posted.errors[key] = exc.message


def page_order(spec: ServiceSpec) -> list[str]:
    """The form's error keys in the order their fields appear on the page: the applicant,
    the service's own fields, then its documents."""
    return ([f"applicant.{f.name}" for f in APPLICANT_FIELDS]
            + [f"fields.{f.name}" for f in spec.form] + [DOCUMENTS_TOO_LARGE]
            + [f"documents.{d.id}" for d in spec.documents_to_ask])


def in_page_order(spec: ServiceSpec, errors: dict[str, str]) -> dict[str, str]:
    """`errors` reordered as `page_order`; keys of no field (the whole form's) come last."""
    rank = {key: index for index, key in enumerate(page_order(spec))}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def file_request(spec: ServiceSpec, posted: PostedForm, channel: str, public_url: str,
                 user: User | None = None, kiosk: Caller | None = None,
                 confirmation: str | None = None) -> ServiceRequest | None:
    """File the request with its documents in one transaction; None when `posted.errors`
    (listed in the order of the fields on the page). An online filing needs the
    `confirmation` of its applicant's mobile (`usecases.mobile_confirmation`)."""
    filed = _file(spec, posted, channel, public_url, user, kiosk, confirmation)
    posted.errors = in_page_order(spec, posted.errors)
    return filed


def _mobile_check(spec: ServiceSpec, posted: PostedForm,
                  confirmation: str | None) -> inquiries.MobileCheck | None:
    """The online filing's confirmed mobile and its check; a refusal goes in `posted.errors`."""
    try:
        check = mobile_confirmation.for_filing(
            database(), bus(), public_id=confirmation, client_id=posted.client_id, spec=spec,
            applicant=posted.applicant, now=utcnow(),
            policy=mobile_confirmation.policy_from_config(current_app.config))
    except mobile_confirmation.ConfirmationRefused as exc:
        posted.errors[f"applicant.{exc.field or 'mobile'}"] = exc.message
        return None
    if check is not None and check.refused:
        posted.errors["applicant.mobile"] = inquiries.MOBILE_NOT_YOURS
    return check


def _file(spec: ServiceSpec, posted: PostedForm, channel: str, public_url: str,
          user: User | None, kiosk: Caller | None,
          confirmation: str | None) -> ServiceRequest | None:
    check_documents(spec, posted)
    submission = Submission(client_id=posted.client_id, service=spec.slug, channel=channel,
                            applicant=posted.applicant, fields=posted.fields)
    storage = current_app.extensions["miz.storage"]
    uploaded_by = "staff" if user else "citizen"

    online = channel == Channel.online
    check = None
    if online and not posted.errors:
        check = _mobile_check(spec, posted, confirmation)
        if not posted.errors and not _within_quota(posted):
            posted.errors["form"] = quotas.FILINGS_REFUSED
        if posted.errors:
            return None

    def work(db: Session) -> service_requests.Filed:
        filed = service_requests.submit(db, submission, kiosk=kiosk, user=user,
                                        public_url=public_url, mobile_check=check)
        if filed.created:
            for upload in posted.uploads:
                documents.attach(db, storage, filed.request, upload, uploaded_by,
                                 user_id=user.id if user else None)
        return filed

    try:
        if posted.errors:
            # Run the field checks too, so the person sees every problem at once.
            service_requests.validate_fields(spec, submission)
            return None
        filed = unit_of_work(work)
    except SubmissionRefused as exc:
        posted.errors.update(exc.errors or {"form": exc.message})
        return None
    if online and filed.created:
        quotas.count_filing(current_app.config, request.remote_addr or "",
                            str(posted.applicant.get("mobile", "")))
    return filed.request


def _within_quota(posted: PostedForm) -> bool:
    """An online filing within the limits per address and per mobile (a replay always is)."""
    return (quotas.may_file(current_app.config, request.remote_addr or "",
                            str(posted.applicant.get("mobile", "")))
            or service_requests.is_filed(session(), posted.client_id))
