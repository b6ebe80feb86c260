"""A kiosk's request and its documents in one transaction (`POST /api/v1/filings`): one
call, one authentication, one commit instead of one for the request and one per document.

Each part keeps its own idempotency key, so a replay — of the whole filing, or of a filing
whose request an earlier separate call delivered — answers with what exists and adds only
what is missing. A document refused inside the filing refuses it whole: the transaction
rolls back, the request with it, and the files already stored are deleted
(`stored_files.delete_on_rollback`); nothing is left half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from counter_server.models import Kiosk, RequestDocument
from counter_server.storage import Storage
from counter_server.usecases import documents, service_requests
from counter_server.usecases.service_requests import Filed, Submission, SubmissionRefused

MAX_DOCUMENTS = 20  # documents in one filing; each slot also keeps its own count


class DocumentRefused(documents.DocumentRejected):
    """A document of the filing was refused (the filing with it): which one, and why."""

    def __init__(self, rejected: documents.DocumentRejected, client_id: str):
        super().__init__(rejected.code, rejected.message)
        self.client_id = client_id


@dataclass(frozen=True)
class FiledWithDocuments:
    """The request (or the one already filed) and each document: (row, created)."""

    filed: Filed
    documents: list[tuple[RequestDocument, bool]]

    @property
    def created(self) -> bool:
        """Whether this call added anything (False for a replay of the whole filing)."""
        return self.filed.created or any(created for _, created in self.documents)


def file_with_documents(session: Session, storage: Storage, submission: Submission,
                        uploads: Sequence[documents.Upload], *, kiosk: Kiosk, public_url: str,
                        max_bytes: int, max_total: int) -> FiledWithDocuments:
    """File `submission` for `kiosk` and attach `uploads` to it, in the caller's
    transaction; DocumentRejected (DocumentRefused for one document) or SubmissionRefused
    refuse it all. The caller commits, or rolls back on a refusal."""
    if len(uploads) > MAX_DOCUMENTS:
        raise documents.DocumentRejected(
            "too_many_documents", f"یک درخواست حداکثر {MAX_DOCUMENTS} پرونده می‌پذیرد.")
    documents.check_total([len(upload.data) for upload in uploads], max_total)
    filed = service_requests.submit(session, submission, kiosk=kiosk, public_url=public_url)
    if filed.request.kiosk_id != kiosk.id:
        raise SubmissionRefused("not_this_kiosks_request",
                                "این درخواست از کیوسک دیگری ثبت شده است.", status=403)
    attached = []
    for upload in uploads:
        try:
            attached.append(documents.attach(session, storage, filed.request, upload, "kiosk",
                                             max_bytes=max_bytes))
        except documents.DocumentRejected as exc:
            raise DocumentRefused(exc, upload.client_id) from None
    return FiledWithDocuments(filed, attached)
