"""One outbox record to the server, the same way every time: where it is POSTed, its body
as stored (a replay is harmless: the server knows its `client_id`), and the acknowledgement
a 200/201 answer gives it. Used by the sync engine, and by the ticket use case that sends a
ticket at once while the citizen waits. `send_filing` sends a request and its documents in
one call (`POST /api/v1/filings`), each part as stored and keyed by its own `client_id`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from kiosk.local.store import Ack, OutboxRecord
from kiosk.sync.api_client import (
    FILINGS_PATH,
    REQUESTS_PATH,
    SURVEYS_PATH,
    TICKETS_PATH,
    ApiClient,
    Reply,
)


def record_path(record: OutboxRecord) -> str:
    """Where a record is POSTed."""
    if record.kind == "document":
        return f"{REQUESTS_PATH}/{quote(record.ref or '', safe='')}/documents"
    return {"request": REQUESTS_PATH, "ticket": TICKETS_PATH, "survey": SURVEYS_PATH}[record.kind]


def send_record(api: ApiClient, record: OutboxRecord, timeout: float | None = None) -> Reply:
    """POST one record as it was stored (the same body every time: a replay is harmless).

    Raises Unreachable, or FileNotFoundError when a document's scan has gone missing.
    """
    if record.body is None:
        raise ValueError(f"record {record.id} has no body (purged)")
    path = record_path(record)
    if record.kind != "document":
        return api.post_json(path, record.body, timeout=timeout)
    if record.file is None:
        raise FileNotFoundError(f"record {record.id}: its scan file is gone")
    data = record.file.read_bytes()
    fields = {"client_id": record.client_id, "slot": str(record.body.get("slot", ""))}
    return api.post_file(path, fields, str(record.body.get("filename") or record.file.name),
                         data, record.media_type or "application/octet-stream", timeout=timeout)


def send_filing(api: ApiClient, request: OutboxRecord, documents: Sequence[OutboxRecord],
                timeout: float | None = None) -> Reply:
    """POST a request and its documents in one call (`POST /api/v1/filings`), each part as
    stored. Raises Unreachable, or FileNotFoundError when a scan has gone missing."""
    if request.body is None or any(d.body is None for d in documents):
        raise ValueError(f"record {request.id} or one of its documents has no body (purged)")
    parts: list[tuple[str, Any]] = [
        ("request", json.dumps(request.body, ensure_ascii=False)),
        ("documents", json.dumps([{"client_id": d.client_id, "slot": str(d.body.get("slot", ""))}
                                  for d in documents if d.body is not None]))]
    for document in documents:
        if document.file is None:
            raise FileNotFoundError(f"record {document.id}: its scan file is gone")
        name = str((document.body or {}).get("filename") or document.file.name)
        parts.append((document.client_id, (name, document.file.read_bytes(),
                                           document.media_type or "application/octet-stream")))
    return api.post_parts(FILINGS_PATH, parts, timeout=timeout)


def filing_acks(request_id: int, documents: Sequence[OutboxRecord], reply: Reply) -> list[Ack]:
    """The acknowledgements a 200/201 answer of `send_filing` gives the request and each of
    its documents (each with 201, or 200 when an earlier delivery had it); an answer that
    leaves a document out is no acknowledgement (ValueError)."""
    body = reply.data if isinstance(reply.data, dict) else {}
    answered = {str(d.get("client_id")): d for d in body.get("documents") or []
                if isinstance(d, dict)}
    if not isinstance(body.get("request"), dict) or any(
            d.client_id not in answered for d in documents):
        raise ValueError("the filing's answer lacks the request or one of its documents")
    made = [(request_id, body["request"], bool(body.get("created")))]
    made += [(d.id, answered[d.client_id], bool(answered[d.client_id].get("created")))
             for d in documents]
    return [Ack(record_id=record_id, http_status=201 if created else 200, response=response,
                server_time=reply.server_date, acked_at=reply.received_at)
            for record_id, response, created in made]


def ack_of(record_id: int, reply: Reply) -> Ack:
    """The acknowledgement a 200/201 answer gives the record `record_id`."""
    body = reply.data
    return Ack(record_id=record_id, http_status=reply.status,
               response=body if isinstance(body, dict) else {},
               server_time=reply.server_date, acked_at=reply.received_at)
