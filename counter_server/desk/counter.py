"""The counter screen («نفر بعدی»), the receptionist's ticket screen, the supervisor's figures."""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as http_session
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from counter_server import background
from counter_server.clock import now
from counter_server.context import session, unit_of_work
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.models import Counter, ServiceRequest, Ticket
from counter_server.usecases import audit, counter_printing, walk_in_queue
from counter_server.usecases import catalog_versions
from counter_server.usecases.walk_in_queue import Lobby, QueueError, TicketOrder
from counter_server.usecases.staff import OFFICE_STAFF, Role
from shared import tracking_codes

COUNTER_STAFF = (Role.clerk, Role.supervisor, Role.admin)
CHOSEN_COUNTER = "counter_id"


def _lobby() -> Lobby:
    return Lobby(catalog_versions.current_snapshot(session()), now(),
                 near_ahead=background.queue_near_ahead(current_app.config))


def _counter(counter_id: int) -> Counter:
    counter = session().get(Counter, counter_id)
    if counter is None or not counter.active:
        abort(404)
    return counter


def _ticket(counter: Counter, ticket_id: int) -> Ticket:
    ticket = session().get(Ticket, ticket_id)
    if ticket is None or ticket.office_slug != counter.office_slug:
        abort(404)
    return ticket


def _run(work: Any, success: str) -> bool:
    """Run a queue operation in its own transaction; show its outcome as a message."""
    try:
        unit_of_work(work)
    except QueueError as exc:
        flash(exc.message, "error")
        return False
    if success:
        flash(success, "success")
    return True


@bp.route("/counter", methods=["GET", "POST"])
@roles_required(*COUNTER_STAFF)
def choose_counter() -> str | Response:
    if request.method == "POST":
        counter = _counter(int(request.form.get("counter_id", "0") or 0))
        http_session[CHOSEN_COUNTER] = counter.id
        return redirect(url_for("desk.counter_screen", counter_id=counter.id))
    counters = session().scalars(select(Counter).where(Counter.active.is_(True))
                                 .order_by(Counter.office_slug, Counter.number)).all()
    lobby = _lobby()
    offices = {o.slug: o.name for o in lobby.snapshot.catalog.offices}
    return render_template("desk/choose_counter.html", counters=counters, offices=offices,
                           chosen=http_session.get(CHOSEN_COUNTER))


@bp.get("/counter/<int:counter_id>")
@roles_required(*COUNTER_STAFF)
def counter_screen(counter_id: int) -> str:
    counter = _counter(counter_id)
    lobby = _lobby()
    current = walk_in_queue.current_ticket(session(), counter, lobby.today)
    linked = walk_in_queue.request_for(session(), current) if current else None
    office = lobby.office(counter.office_slug)
    queues = {q.slug: q for q in lobby.snapshot.catalog.queues_of(office)}
    waiting = {slug: walk_in_queue.figures(session(), lobby, office.slug, queue=slug).waiting_now
               for slug in counter.queues}
    others = session().scalars(select(Counter).where(
        Counter.office_slug == counter.office_slug, Counter.id != counter.id,
        Counter.active.is_(True)).order_by(Counter.number)).all()
    services = [s for q in counter.queues if q in queues for s in queues[q].services]
    return render_template(
        "desk/counter.html", counter=counter, office=office, current=current, linked=linked,
        queues=queues, waiting=waiting, others=others, lobby=lobby,
        services=[lobby.snapshot.service(s) for s in services if lobby.snapshot.service(s)],
        STATUS_LABELS=walk_in_queue.STATUS_LABELS,
        priority_titles={c.slug: c.title for c in lobby.snapshot.catalog.priority_classes},
        direct_client_id=str(uuid.uuid4()))


@bp.post("/counter/<int:counter_id>/next")
@roles_required(*COUNTER_STAFF)
def call_next(counter_id: int) -> Response:
    counter = _counter(counter_id)
    lobby = _lobby()
    called: list[Ticket] = []

    def work(db: Session) -> None:
        ticket = walk_in_queue.call_next(db, lobby, counter, current_user)
        if ticket is not None:
            called.append(ticket)
            audit.record(db, current_user, "ticket.called", address=request.remote_addr,
                         ticket=ticket.id, counter=counter.id)

    if _run(work, "") and not called:
        flash("کسی در صف‌های این باجه منتظر نیست.", "info")
    return redirect(url_for("desk.counter_screen", counter_id=counter.id))


@bp.post("/counter/<int:counter_id>/tickets/<int:ticket_id>/<action>")
@roles_required(*COUNTER_STAFF)
def ticket_action(counter_id: int, ticket_id: int, action: str) -> Response:
    counter = _counter(counter_id)
    ticket = _ticket(counter, ticket_id)
    lobby = _lobby()
    if action == "transfer":
        target = request.form.get("to_counter", "")
        to_counter = _counter(int(target)) if target.isdigit() else None

        def work(db: Session) -> None:
            walk_in_queue.transfer(db, lobby, counter, ticket, current_user,
                           queue_slug=request.form.get("to_queue") or None, to_counter=to_counter)
    elif action in walk_in_queue.TRANSITIONS:
        def work(db: Session) -> None:
            walk_in_queue.act(db, lobby, counter, ticket, action, current_user)
    else:
        abort(404)
    _run(work, f"انجام شد: {walk_in_queue.ACTION_LABELS[action]}")
    return redirect(url_for("desk.counter_screen", counter_id=counter.id))


@bp.post("/counter/<int:counter_id>/direct")
@roles_required(*COUNTER_STAFF)
def serve_directly(counter_id: int) -> Response:
    counter = _counter(counter_id)
    lobby = _lobby()
    client_id = request.form.get("client_id", "")
    try:
        client_id = str(uuid.UUID(client_id))
    except ValueError:
        abort(400)

    def work(db: Session) -> None:
        walk_in_queue.serve_without_ticket(db, lobby, counter, request.form.get("service", ""),
                                   current_user, client_id)

    _run(work, "خدمت بدون نوبت ثبت شد.")
    return redirect(url_for("desk.counter_screen", counter_id=counter.id))


@bp.post("/counter/<int:counter_id>/print/<kind>/<key>")
@roles_required(*OFFICE_STAFF)
def print_at_counter(counter_id: int, kind: str, key: str) -> Response:
    """Print a request's receipt or a ticket on the counter's network printer."""
    counter = _counter(counter_id)
    if not counter.printer:
        abort(404)
    lobby = _lobby()
    if kind == "request":
        item = session().scalar(select(ServiceRequest)
                                .where(ServiceRequest.tracking_code == key[:16]))
        if item is None:
            abort(404)
        layout = counter_printing.request_layout(lobby.snapshot, item, counter.name)
        back = url_for("web.receipt", code=item.tracking_code)
    elif kind == "ticket":
        ticket = session().scalar(select(Ticket).where(Ticket.public_id == key[:16]))
        if ticket is None:
            abort(404)
        layout = counter_printing.ticket_layout(session(), lobby, ticket)
        back = url_for("web.ticket_page", public_id=ticket.public_id)
    else:
        abort(404)
    try:
        counter_printing.send(counter.printer, layout)
    except counter_printing.PrintFailed as exc:
        flash(exc.message, "error")
    else:
        flash(f"روی چاپگر {counter.name} چاپ شد.", "success")
    return redirect(request.form.get("next") or back)


def counter_printer() -> Counter | None:
    """The chosen counter of this member of staff, when it has a network printer."""
    if not current_user.is_authenticated or CHOSEN_COUNTER not in http_session:
        return None
    counter = session().get(Counter, http_session[CHOSEN_COUNTER])
    return counter if counter is not None and counter.printer else None


@bp.app_context_processor
def _printer_globals() -> dict[str, Any]:
    return {"counter_printer": counter_printer}


@bp.route("/tickets", methods=["GET", "POST"])
@roles_required(*OFFICE_STAFF)
def issue_ticket() -> str | Response:
    """The receptionist hands out tickets (can link one to a filed request, and note the
    mobile the person gives for the queue's SMS)."""
    lobby = _lobby()
    catalog = lobby.snapshot.catalog
    errors: dict[str, str] = {}
    if request.method == "POST":
        code = request.form.get("tracking_code", "").strip()
        if code:
            try:
                code = tracking_codes.normalize(code)
            except tracking_codes.InvalidCode as exc:
                errors["tracking_code"] = exc.message
        order = TicketOrder(client_id=request.form.get("client_id", "") or str(uuid.uuid4()),
                            service=request.form.get("service", ""),
                            priority=request.form.get("priority") or None,
                            tracking_code=code or None, office=request.form.get("office"),
                            mobile=request.form.get("mobile", "").strip() or None)
        if not errors:
            issued: list[Ticket] = []

            def work(db: Session) -> None:
                result = walk_in_queue.issue(db, lobby, order, user=current_user,
                                     enforce_hours=current_app.config["ENFORCE_QUEUE_HOURS"])
                issued.append(result.ticket)

            try:
                unit_of_work(work)
            except QueueError as exc:
                errors["mobile" if exc.code.startswith("mobile_") else "service"] = exc.message
            else:
                return redirect(url_for("web.ticket_page", public_id=issued[0].public_id,
                                        print=1))
    services = [(q, [catalog.service(s) for s in q.services]) for q in catalog.queues]
    return render_template("desk/tickets.html", services=services, offices=catalog.offices,
                           classes=catalog.priority_classes, errors=errors,
                           client_id=str(uuid.uuid4()), form=request.form)


@bp.get("/queue-report")
@roles_required(Role.supervisor, Role.admin)
def queue_report() -> str:
    lobby = _lobby()
    rows = []
    for office in lobby.snapshot.catalog.offices:
        per_queue = [(q, walk_in_queue.figures(session(), lobby, office.slug, queue=q.slug))
                     for q in lobby.snapshot.catalog.queues_of(office)]
        counters = session().scalars(select(Counter).where(Counter.office_slug == office.slug)
                                     .order_by(Counter.number)).all()
        per_counter = [(c, walk_in_queue.figures(session(), lobby, office.slug, counter=c.id))
                       for c in counters]
        rows.append((office, per_queue, per_counter))
    return render_template("desk/queue_report.html", rows=rows, today=lobby.today)
