"""The evidence log of inquiries: every exchange with another agency, tamper-evident.

Each request has its own hash chain: entry n stores the hash of entry n-1 and its own hash
over its fields (times, ids, outcome, the digests of what was sent and received, the
agency's signature). `EvidenceHead` keeps each chain's end, so removing the last entry
shows as well as editing or removing one in the middle. Appending locks only the head of
that request's chain: workers recording evidence of different requests never wait on one
another.

The bodies exchanged hold personal data; `purge` removes them after the retention period.
Their digests stay in the chain, so what was asked and answered can still be proven by
whoever kept a copy.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from counter_server.db import upsert_insert
from counter_server.models import EvidenceHead, InquiryExchange

GENESIS = "0" * 64
HASHED_FIELDS = ("request_id", "seq", "inquiry_id", "round", "attempt", "outcome", "target",
                 "message_id", "reply_id", "http_status", "sent_at", "received_at",
                 "request_digest", "reply_digest", "signature", "signature_key",
                 "signature_valid", "note")


def digest(data: bytes | None) -> str:
    return hashlib.sha256(data or b"").hexdigest()


@dataclass(frozen=True)
class Entry:
    """What one exchange (or a clerk's manual result) leaves as evidence."""

    inquiry_id: int
    round: int
    attempt: int
    outcome: str
    target: str
    sent_at: datetime
    received_at: datetime | None = None
    message_id: str | None = None
    reply_id: str | None = None
    http_status: int | None = None
    request_body: bytes | None = None
    reply_body: bytes | None = None
    signature: str | None = None
    signature_key: str | None = None
    signature_valid: bool | None = None
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def entry_hash(prev_hash: str, row: InquiryExchange) -> str:
    fields = {name: _value(getattr(row, name)) for name in HASHED_FIELDS}
    canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def _advance_head(session: Session, request_id: int) -> tuple[int, str]:
    """Move the request's chain head on by one entry, locking it until the transaction ends;
    the new entry's place and the hash of the entry before it."""
    statement = upsert_insert(session)(EvidenceHead).values(request_id=request_id, seq=1,
                                                           entry_hash=GENESIS)
    seq, prev_hash = session.execute(
        statement.on_conflict_do_update(index_elements=["request_id"],
                                        set_={"seq": EvidenceHead.seq + 1})
        .returning(EvidenceHead.seq, EvidenceHead.entry_hash)).one()
    return seq, prev_hash


def _utc(value: datetime | None) -> datetime | None:
    """As the database gives it back: aware UTC, to the microsecond."""
    return value.astimezone(UTC) if value is not None else None


def append(session: Session, request_id: int, entry: Entry) -> InquiryExchange:
    """Add `entry` to the end of the request's chain (in the caller's transaction); the row
    as written (not attached to the session)."""
    seq, prev_hash = _advance_head(session, request_id)
    row = InquiryExchange(
        request_id=request_id, seq=seq, inquiry_id=entry.inquiry_id,
        round=entry.round, attempt=entry.attempt, outcome=entry.outcome, target=entry.target,
        message_id=entry.message_id, reply_id=entry.reply_id, http_status=entry.http_status,
        sent_at=_utc(entry.sent_at), received_at=_utc(entry.received_at),
        request_digest=digest(entry.request_body), reply_digest=digest(entry.reply_body),
        signature=entry.signature, signature_key=entry.signature_key,
        signature_valid=entry.signature_valid, note=entry.note,
        request_body=entry.request_body, reply_body=entry.reply_body,
        prev_hash=prev_hash, details=entry.details)
    row.entry_hash = entry_hash(prev_hash, row)
    session.execute(insert(InquiryExchange).values(
        {column.key: getattr(row, column.key) for column in InquiryExchange.__table__.columns
         if column.key != "id"}))
    session.execute(update(EvidenceHead).where(EvidenceHead.request_id == request_id)
                    .values(entry_hash=row.entry_hash)
                    .execution_options(synchronize_session=False))
    return row


@dataclass(frozen=True)
class Problem:
    request_id: int
    seq: int | None
    what: str

    def __str__(self) -> str:
        place = f"entry {self.seq}" if self.seq is not None else "chain"
        return f"request {self.request_id}, {place}: {self.what}"


def verify(session: Session) -> tuple[int, list[Problem]]:
    """Check every request's chain; the number of entries checked and what is wrong."""
    heads = {h.request_id: h for h in session.scalars(select(EvidenceHead))}
    problems: list[Problem] = []
    checked = 0
    rows = session.scalars(select(InquiryExchange)
                           .order_by(InquiryExchange.request_id, InquiryExchange.seq))
    chains: dict[int, list[InquiryExchange]] = {}
    for row in rows:
        chains.setdefault(row.request_id, []).append(row)
    for request_id in sorted(set(chains) | set(heads)):
        chain = chains.get(request_id, [])
        checked += len(chain)
        problems += _check_chain(request_id, chain, heads.get(request_id))
    return checked, problems


def _check_chain(request_id: int, chain: list[InquiryExchange],
                 head: EvidenceHead | None) -> list[Problem]:
    problems: list[Problem] = []
    previous = GENESIS
    for expected_seq, row in enumerate(chain, start=1):
        if row.seq != expected_seq:
            problems.append(Problem(request_id, expected_seq, "entry missing"))
        if row.prev_hash != previous:
            problems.append(Problem(request_id, row.seq, "does not follow the entry before"))
        if entry_hash(row.prev_hash, row) != row.entry_hash:
            problems.append(Problem(request_id, row.seq, "changed after it was written"))
        for name, body, kept in (("sent", row.request_body, row.request_digest),
                                 ("received", row.reply_body, row.reply_digest)):
            if body is not None and digest(body) != kept:
                problems.append(Problem(request_id, row.seq, f"what was {name} was changed"))
        previous = row.entry_hash
    if head is None:
        problems.append(Problem(request_id, None, "the chain's end is missing"))
    elif (head.seq, head.entry_hash) != (len(chain), previous):
        problems.append(Problem(request_id, None,
                                f"ends at entry {len(chain)}, but {head.seq} were written"))
    return problems


def purge(session: Session, before: datetime, now: datetime) -> int:
    """Remove the bodies (personal data) of exchanges made before `before`; their digests
    stay. Returns how many exchanges were purged."""
    done = session.execute(
        update(InquiryExchange)
        .where(InquiryExchange.sent_at < before, InquiryExchange.purged_at.is_(None))
        .values(request_body=None, reply_body=None, purged_at=now)
        .execution_options(synchronize_session=False))
    return done.rowcount or 0
