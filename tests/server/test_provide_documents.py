"""The applicant handing in the documents staff asked for, as a use case (no web server)."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.context import database
from counter_server.models import Notification, ServiceRequest, User
from counter_server.storage import LocalStorage
from counter_server.usecases import documents, service_requests, workflow
from counter_server.usecases.service_requests import Submission
from counter_server.usecases.workflow import StaffAction
from shared.catalog.schema import Catalog
from shared.workflow import Action, Status
from tests.server.test_documents import png_bytes
from tests.server.test_requests_api import body

SLOT = "personal_photo"  # a tour-guide-card slot that takes JPEG only


@pytest.fixture
def db(app: Flask, staff_users: dict[str, int]) -> Iterator[Session]:
    with app.app_context(), database().session() as session:
        yield session


def _waiting_request(db: Session, demo_catalog: Catalog, clerk_id: int) -> ServiceRequest:
    """A tour-guide-card request for which staff asked the applicant for a document."""
    filed = service_requests.submit(db, Submission(**body(demo_catalog)),
                                    public_url="https://miz.test")
    clerk = db.get(User, clerk_id)
    for action, note in ((Action.claim, ""), (Action.request_documents, "عکس را بفرستید.")):
        workflow.perform(db, filed.request, clerk, StaffAction(action, public_note=note))
    db.commit()
    return filed.request


def _upload(slot: str, data: bytes, name: str = "photo.jpg") -> documents.Upload:
    return documents.Upload(str(uuid.uuid4()), slot, name, data)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 40), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def test_documents_go_in_and_the_request_goes_back_to_review(
        db: Session, demo_catalog: Catalog, staff_users: dict[str, int], tmp_path: Path) -> None:
    item = _waiting_request(db, demo_catalog, staff_users["guides"])
    texts_before = len(db.scalars(select(Notification)).all())

    workflow.provide_documents(db, item, LocalStorage(tmp_path), [_upload(SLOT, _jpeg())],
                               public_url="https://miz.test")
    db.commit()

    assert item.status == Status.in_review
    assert [(d.slot, d.uploaded_by) for d in item.documents] == [(SLOT, "citizen")]
    provided = item.events[-1]
    assert (provided.action, provided.actor, provided.from_status, provided.to_status) == (
        "documents_provided", "citizen", "waiting_citizen", "in_review")
    assert len(db.scalars(select(Notification)).all()) == texts_before + 1


def test_refused_when_nothing_was_asked_or_nothing_came(
        db: Session, demo_catalog: Catalog, staff_users: dict[str, int], tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    item = _waiting_request(db, demo_catalog, staff_users["guides"])
    with pytest.raises(workflow.ActionRefused) as empty:
        workflow.provide_documents(db, item, storage, [])
    assert empty.value.code == "no_documents" and item.status == Status.waiting_citizen

    workflow.provide_documents(db, item, storage, [_upload(SLOT, _jpeg())])
    db.commit()
    with pytest.raises(workflow.ActionRefused) as again:
        workflow.provide_documents(db, item, storage, [_upload(SLOT, _jpeg())])
    assert again.value.code == "not_waiting_for_documents"
    assert "منتظر مدرکی" in again.value.message
    assert len(item.documents) == 1 and item.status == Status.in_review


def test_a_refused_file_leaves_the_status_alone(
        db: Session, demo_catalog: Catalog, staff_users: dict[str, int], tmp_path: Path) -> None:
    item = _waiting_request(db, demo_catalog, staff_users["guides"])
    with pytest.raises(documents.DocumentRejected) as refused:
        workflow.provide_documents(db, item, LocalStorage(tmp_path),
                                   [_upload(SLOT, png_bytes(), "photo.png")])
    assert refused.value.code == "document_format_not_accepted"
    db.rollback()
    assert item.status == Status.waiting_citizen
    assert [e.action for e in item.events][-1] == "request_documents"
