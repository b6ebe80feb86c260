"""The satisfaction survey a citizen opens from the SMS link: `/s/<token>`."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Response, redirect, render_template, request, url_for

from counter_server.clock import now
from counter_server.context import session, unit_of_work
from counter_server.extensions import limiter
from counter_server.models import SurveyInvitation
from counter_server.usecases import catalog_versions, surveys
from counter_server.web import bp
from counter_server.web.forms import _client_id as posted_client_id
from counter_server.web.forms import new_client_id
from shared.catalog.schema import Survey

SCALE = ((1, "خیلی بد"), (2, "بد"), (3, "معمولی"), (4, "خوب"), (5, "عالی"))
MAX_COMMENT = 500


@dataclass
class SurveyForm:
    client_id: str
    answers: dict[str, int] = field(default_factory=dict)
    comment: str = ""
    errors: list[str] = field(default_factory=list)


def _closed(exc: surveys.SurveyRefused) -> tuple[str, int]:
    return render_template("survey_closed.html", message=exc.message, code=exc.code), exc.status


def _survey(invitation: SurveyInvitation) -> tuple[str, Survey | None]:
    """The service's title and its survey, as the catalog gives them today."""
    catalog = catalog_versions.current_snapshot(session()).catalog
    spec = catalog.service(invitation.service_slug)
    return (spec.title if spec else invitation.service_slug), catalog.survey_for(
        invitation.service_slug)


def _page(token: str, invitation: SurveyInvitation, form: SurveyForm,
          status: int = 200) -> tuple[str, int]:
    title, survey = _survey(invitation)
    return render_template("survey.html", token=token, service_title=title, survey=survey,
                           form=form, scale=SCALE), status


@bp.get("/s/<token>")
def survey(token: str) -> tuple[str, int]:
    try:
        invitation = surveys.open_invitation(session(), token, now())
    except surveys.SurveyRefused as exc:
        return _closed(exc)
    return _page(token, invitation, SurveyForm(client_id=new_client_id()))


@bp.post("/s/<token>")
@limiter.limit("20 per minute")
def answer_survey(token: str) -> Response | tuple[str, int]:
    try:
        invitation = surveys.open_invitation(session(), token, now())
    except surveys.SurveyRefused as exc:
        return _closed(exc)
    _title, survey_spec = _survey(invitation)
    form = _read(survey_spec)
    if form.errors:
        return _page(token, invitation, form, 422)
    given = surveys.Answers(client_id=form.client_id, answers=form.answers,
                            service=invitation.service_slug, comment=form.comment or None)
    try:
        unit_of_work(lambda db: surveys.record(
            db, catalog_versions.current_snapshot(db), given, survey_token=token, now=now()))
    except surveys.SurveyRefused as exc:
        return _closed(exc)
    return redirect(url_for("web.survey_thanks"))


@bp.get("/s/thanks")
def survey_thanks() -> str:
    return render_template("survey_thanks.html")


def _read(survey_spec: Survey | None) -> SurveyForm:
    """The posted answers; an error for each question left unanswered."""
    form = SurveyForm(client_id=posted_client_id(),
                      comment=request.form.get("comment", "").strip()[:MAX_COMMENT])
    for question in survey_spec.questions if survey_spec else []:
        value = request.form.get(f"q_{question.id}", "")
        if value in {str(v) for v, _ in SCALE}:
            form.answers[question.id] = int(value)
        else:
            form.errors.append(f"به پرسش «{question.text}» پاسخ دهید.")
    if survey_spec is None:
        form.errors.append("برای این خدمت نظرسنجی تعریف نشده است.")
    return form
