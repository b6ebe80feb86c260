"""What kiosks send besides requests and tickets: survey answers and heartbeats."""

from __future__ import annotations

from typing import Any

from flask import request

from sqlalchemy.orm import Session

from counter_server.api import bp
from counter_server.api.auth import current_kiosk
from counter_server.api.bodies import parse_body
from counter_server.api.errors import ApiError
from counter_server.api.openapi import operation
from counter_server.api.schemas import (
    ErrorBody,
    HeartbeatIn,
    HeartbeatOut,
    SurveyIn,
    SurveyOut,
    ValidationErrorBody,
)
from counter_server.clock import now
from counter_server.context import unit_of_work
from counter_server.models import Kiosk
from counter_server.usecases import catalog_versions
from counter_server.usecases import kiosk_status, surveys


SURVEY_TOKEN_HEADER = "X-Survey-Token"


@bp.post("/surveys")
@operation(
    "Answer the satisfaction survey",
    {201: ("Stored", SurveyOut), 200: ("A replay of earlier answers", SurveyOut),
     401: ("Neither a kiosk token nor a survey token: `survey_token_required`", ErrorBody),
     404: ("Unknown survey token: `survey_not_found`", ErrorBody),
     409: ("The invitation was answered already: `survey_already_answered`", ErrorBody),
     410: ("The invitation has expired: `survey_expired`", ErrorBody),
     422: ("Invalid answers, or `idempotency_key_reused`", ValidationErrorBody)},
    tag="surveys", body=SurveyIn,
    parameters=[{"name": SURVEY_TOKEN_HEADER, "in": "header", "required": False,
                 "description": "The one-time token of an SMS invitation (or `survey_token` "
                                "in the body)", "schema": {"type": "string", "maxLength": 64}}],
    description="From a kiosk (bearer token), or by a citizen with the one-time token of the "
                "SMS invitation (`survey_token` in the body or the `X-Survey-Token` header); "
                "anything else is refused with 401 `survey_token_required`. Idempotent by "
                "`client_id`; one answer per invitation.",
)
def answer_survey() -> tuple[dict[str, Any], int]:
    body: SurveyIn = parse_body(SurveyIn)
    kiosk = current_kiosk()
    token = body.survey_token or request.headers.get(SURVEY_TOKEN_HEADER) or None
    if kiosk is None and token is None:
        raise ApiError(401, "survey_token_required",
                       "پاسخ نظرسنجی فقط از کیوسک یا با پیوند نظرسنجی پذیرفته می‌شود.")
    given = surveys.Answers(
        client_id=str(body.client_id), answers=dict(body.answers), service=body.service,
        tracking_code=body.tracking_code, ticket_id=body.ticket_id, comment=body.comment,
        created_at=body.created_at)

    def work(db: Session) -> tuple[dict[str, Any], bool]:
        row, created = surveys.record(db, catalog_versions.current_snapshot(db), given, kiosk,
                                      survey_token=token, now=now())
        return {"id": row.id, "received_at": row.received_at.isoformat()}, created

    try:
        result, created = unit_of_work(work)
    except surveys.SurveyRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    return result, 201 if created else 200


@bp.post("/kiosks/heartbeat")
@operation(
    "A kiosk reports its state; the answer tells it how far its clock is off",
    {200: ("Recorded", HeartbeatOut), 401: ("Kiosks only", ErrorBody),
     422: ("Invalid body", ValidationErrorBody)},
    tag="kiosks", body=HeartbeatIn,
)
def heartbeat() -> dict[str, Any]:
    body: HeartbeatIn = parse_body(HeartbeatIn)
    kiosk = current_kiosk()
    if kiosk is None:
        raise ApiError(401, "kiosk_token_required", "فقط کیوسک‌ها گزارش وضعیت می‌فرستند.")
    moment = now()
    beat = kiosk_status.Beat(body.software_version, body.outbox_depth, body.last_sync_at,
                             body.printer_state, body.kiosk_time)

    def work(db: Session) -> float:
        return kiosk_status.record_heartbeat(db, db.get_one(Kiosk, kiosk.id), beat, moment)

    offset = unit_of_work(work)
    return {"server_time": moment.isoformat(), "clock_offset_seconds": round(offset, 3),
            "office": kiosk.office_slug}
