"""Answering the satisfaction survey at the kiosk: the service's own survey or the catalog's
default one, answered 1 (worst) to 5 (best) per question, queued for the server. Survey
answers depend on nothing and nothing depends on them: the sync never lets them hold the
line."""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.local.store import NewRecord
from kiosk.usecases.errors import KioskError
from kiosk.usecases.parts import KioskParts, new_client_id, normalized_code
from shared.catalog.schema import Survey
from shared.text import to_persian_digits

NO_SURVEY = "برای این خدمت نظرسنجی تعریف نشده است."
BAD_ANSWERS = "پاسخ‌ها با پرسش‌های نظرسنجی نمی‌خوانند."
COMMENT_TOO_LONG = "توضیح نظرسنجی نباید بیش از {limit} نویسه باشد."
MAX_COMMENT = 500  # the server takes no more
SCORE_RANGE = range(1, 6)


def survey_for(parts: KioskParts, service: str | None) -> Survey | None:
    """The service's own survey, else the catalog's default one (None: no survey)."""
    return parts.catalogs.current().catalog.survey_for(service)


def answer_survey(parts: KioskParts, answers: Mapping[str, int], *,
                  service: str | None = None, tracking_code: str | None = None,
                  ticket_id: str | None = None, comment: str | None = None) -> None:
    """Queue the answers (1 worst … 5 best, by question id) for the server."""
    survey = survey_for(parts, service)
    if survey is None:
        raise KioskError(NO_SURVEY, f"no survey for {service!r}")
    if not _fit(survey, answers):
        raise KioskError(BAD_ANSWERS, "answers do not fit the survey")
    comment = (comment or "").strip() or None
    if comment and len(comment) > MAX_COMMENT:
        raise KioskError(COMMENT_TOO_LONG.format(limit=to_persian_digits(MAX_COMMENT)))
    now, client_id = parts.clock(), new_client_id()
    code = normalized_code(tracking_code) if tracking_code else None
    body = {"client_id": client_id, "service": service, "tracking_code": code,
            "ticket_id": ticket_id, "answers": dict(answers), "comment": comment,
            "created_at": now.isoformat()}
    parts.store.add_record(NewRecord(kind="survey", client_id=client_id, body=body,
                                     kiosk_time=now, service=service, ref=code or ticket_id,
                                     catalog_version=parts.catalogs.current().version))
    parts.notify()


def _fit(survey: Survey, answers: Mapping[str, int]) -> bool:
    """Whether every answer is a score from 1 to 5 for one of the survey's questions."""
    known = {q.id for q in survey.questions}
    return bool(answers) and not set(answers) - known and all(
        isinstance(v, int) and not isinstance(v, bool) and v in SCORE_RANGE
        for v in answers.values())
