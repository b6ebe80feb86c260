"""Satisfaction survey answers, idempotent by the client's id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.models import Kiosk, SurveyAnswer
from counter_server.usecases.catalog_versions import Snapshot
from shared import tracking_codes


class SurveyRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Answers:
    client_id: str
    answers: dict[str, int]
    service: str | None = None
    tracking_code: str | None = None
    ticket_id: str | None = None
    comment: str | None = None
    created_at: datetime | None = None

    def digest(self) -> str:
        body = asdict(self) | {"created_at": self.created_at.isoformat()
                               if self.created_at else None}
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()


def record(session: Session, snapshot: Snapshot, given: Answers,
           kiosk: Kiosk | None = None) -> tuple[SurveyAnswer, bool]:
    """Store the answers once; (row, created). A replayed client id returns the first row."""
    existing = session.scalar(select(SurveyAnswer)
                              .where(SurveyAnswer.client_id == given.client_id))
    if existing is not None:
        if existing.body_digest != given.digest():
            raise SurveyRefused("idempotency_key_reused",
                                "این شناسه پیش‌تر برای پاسخ دیگری به کار رفته است.")
        return existing, False
    _check(snapshot, given)
    row = SurveyAnswer(
        client_id=given.client_id, body_digest=given.digest(),
        kiosk_id=kiosk.id if kiosk else None, service_slug=given.service,
        tracking_code=tracking_codes.normalize(given.tracking_code) if given.tracking_code else None,
        ticket_id=given.ticket_id, answers=given.answers, comment=given.comment or None,
        created_at=given.created_at)
    session.add(row)
    session.flush()
    return row, True


def _check(snapshot: Snapshot, given: Answers) -> None:
    """Answers are kept even when the catalog changed since they were given (a kiosk may send
    them late); they must answer something, and a tracking code must be well formed."""
    if not given.answers:
        raise SurveyRefused("no_answers", "هیچ پرسشی پاسخ داده نشده است.")
    if given.tracking_code and not tracking_codes.is_valid(given.tracking_code):
        raise SurveyRefused("tracking_code_malformed", "کد رهگیری نادرست است.")
