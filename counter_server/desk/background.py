"""The desk's view of background work: a clerk's actions on a request's inquiries, and the
supervisor's page of jobs given up, outside systems' circuits, and what they cost."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from counter_server.background import settings as worker_settings
from counter_server.context import database, session, unit_of_work
from counter_server.db import utcnow
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.desk.views import WORKERS, _request_for
from counter_server.jobs import circuit, usage
from counter_server.jobs.queue import DEAD, revive
from counter_server.models import Job
from counter_server.usecases import audit, catalog_versions, inquiries
from counter_server.usecases.staff import Role
from counter_server.usecases.workflow import check_access
from shared.inquiries import KINDS


def _inquiry_action(code: str, inquiry_id: str, work_on: str, done: str) -> Response:
    item = _request_for(code)

    def work(db: Session) -> None:
        check_access(current_user, item)
        if work_on == "again":
            inquiries.ask_again(db, item, inquiry_id, current_user)
        else:
            inquiries.record_manual(
                db, item, inquiry_id, holds=request.form.get("holds") == "yes",
                reason=request.form.get("reason", "")[:1000], user=current_user)

    try:
        unit_of_work(work)
    except inquiries.InquiryRefused as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("desk.request_detail", code=item.tracking_code) + "#inquiries")


@bp.post("/requests/<code>/inquiries/<inquiry_id>/again")
@roles_required(*WORKERS)
def inquiry_again(code: str, inquiry_id: str) -> Response:
    return _inquiry_action(code, inquiry_id, "again", "استعلام دوباره در صف پرسش قرار گرفت.")


@bp.post("/requests/<code>/inquiries/<inquiry_id>/manual")
@roles_required(*WORKERS)
def inquiry_manual(code: str, inquiry_id: str) -> Response:
    return _inquiry_action(code, inquiry_id, "manual", "نتیجه بررسی دستی ثبت شد.")


@bp.get("/jobs")
@roles_required(Role.supervisor, Role.admin)
def jobs_page() -> str:
    """Jobs given up (with a retry button), the queue's size, circuits and usage."""
    db = session()
    dead = db.scalars(select(Job).where(Job.status == DEAD)
                      .order_by(Job.finished_at.desc()).limit(100)).all()
    counts = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    today = catalog_versions.current_snapshot(db).calendar.local_date(utcnow())
    tariffs = worker_settings(current_app.config).tariffs
    agencies = {k.target: k.agency for k in KINDS.values()} | {"sms": "سامانه پیامک"}
    week = usage.usage_between(db, today - timedelta(days=6), today)
    circuits = circuit.states(db)
    return render_template(
        "desk/jobs.html", dead=dead, counts=counts, circuits=circuits, usage=week,
        targets=sorted(set(circuits) | {day.target for day in week}), tariffs=tariffs,
        agencies=agencies, today=today)


@bp.post("/jobs/<int:job_id>/retry")
@roles_required(Role.supervisor, Role.admin)
def job_retry(job_id: int) -> Response:
    with database().transaction() as db:
        revived = revive(db, job_id, utcnow())
        if revived:
            audit.record(db, current_user, "job_retried", address=request.remote_addr,
                         job=job_id)
    flash("کار دوباره در صف قرار گرفت." if revived else "این کار دیگر در فهرست ناتمام‌ها نیست.",
          "success" if revived else "error")
    return redirect(url_for("desk.jobs_page"))
