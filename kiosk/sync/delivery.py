"""One outbox record to the server, the same way every time: where it is POSTed, its body
as stored (a replay is harmless: the server knows its `client_id`), and the acknowledgement
a 200/201 answer gives it. Used by the sync engine, and by the ticket use case that sends a
ticket at once while the citizen waits.
"""

from __future__ import annotations

from urllib.parse import quote

from kiosk.local.store import Ack, OutboxRecord
from kiosk.sync.api_client import (
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


def ack_of(record_id: int, reply: Reply) -> Ack:
    """The acknowledgement a 200/201 answer gives the record `record_id`."""
    body = reply.data
    return Ack(record_id=record_id, http_status=reply.status,
               response=body if isinstance(body, dict) else {},
               server_time=reply.server_date, acked_at=reply.received_at)
