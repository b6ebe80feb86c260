"""Queue tickets: issuing (kiosks and reception), kiosk number leases, a ticket's state, the
office's board."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from counter_server.api import bp
from counter_server.api.auth import current_kiosk, current_staff
from counter_server.api.bodies import parse_body
from counter_server.api.errors import ApiError
from counter_server.api.lobby_reads import (
    VARY,
    Reply,
    board_reply,
    json_reply,
    ticket_reply,
    ticket_state,
)
from counter_server.api.openapi import operation
from counter_server.api.schemas import (
    BoardOut,
    ErrorBody,
    LeaseIn,
    LeaseOut,
    TicketIn,
    TicketOut,
    ValidationErrorBody,
)
from counter_server.clock import now
from counter_server.context import (
    database,
    lobby_cache,
    public_url,
    session,
    statement_unit_of_work,
    unit_of_work,
)
from counter_server.extensions import limiter
from counter_server.models import Ticket
from counter_server.usecases import catalog_versions
from counter_server.usecases import walk_in_queue
from counter_server.usecases.lobby_cache import OfficeView, json_body
from counter_server.usecases.walk_in_queue import Lobby, QueueError, TicketOrder

LOBBY_READS = frozenset({"api.get_board", "api.get_ticket"})


@limiter.request_filter
def _unlimited_lobby_read() -> bool:
    """The lobby's polled reads have no rate limit: the limiter skips them before resolving
    any (it would otherwise work out, on every call, that there is none)."""
    return request.endpoint in LOBBY_READS


def lobby() -> Lobby:
    try:
        return Lobby(catalog_versions.current_snapshot(session()), now())
    except catalog_versions.NoCatalog:
        raise ApiError(503, "catalog_unavailable", "فهرست خدمات هنوز منتشر نشده است.") from None


def office_view(db: Session, rules: Lobby, office: str,
                max_age: float | None = None) -> OfficeView:
    """The office's lobby as this process last read it, fresh within `max_age` seconds
    (LOBBY_CACHE_SECONDS by default)."""
    try:
        spec = rules.office(office)
    except QueueError as exc:
        raise _queue_error(exc) from None
    if max_age is None:
        max_age = float(current_app.config["LOBBY_CACHE_SECONDS"])
    return lobby_cache().view(db, rules, spec, max_age)


def cached_ticket(rules: Lobby, public_id: str) -> tuple[OfficeView, Row[Any]] | None:
    """The ticket and its office's cached view (made fresh within LOBBY_CACHE_SECONDS),
    when a view holds it; None sends the caller to the database."""
    office = lobby_cache().office_of(public_id)
    if office is None:
        return None
    view = office_view(session(), rules, office)
    ticket = view.tickets.get(public_id)
    return None if ticket is None else (view, ticket)


def ticket_json(db: Session, rules: Lobby, ticket: Ticket | Row[Any],
                with_code: bool = False, view_age: float | None = None) -> dict[str, Any]:
    """The ticket as the API answers it (`lobby_reads.ticket_state`); its place in line and
    estimate come from the office's cached view (at most `view_age` seconds old, see
    `office_view`) when the ticket is today's."""
    if ticket.day == rules.today:
        view = office_view(db, rules, ticket.office_slug, view_age)
        ahead = view.ahead(ticket)
        guess = view.estimate(ticket, ahead)
    else:
        ahead = walk_in_queue.ahead_of(db, ticket)
        guess = walk_in_queue.estimate(db, rules, ticket, ahead)
    return ticket_state(rules, ticket, ahead, guess, rules.snapshot.public_url(), with_code)


def _queue_error(exc: QueueError) -> ApiError:
    if exc.code.startswith("mobile_"):
        return ApiError(exc.status, exc.code, exc.message, errors={"mobile": exc.message})
    return ApiError(exc.status, exc.code, exc.message)


@bp.post("/tickets")
@operation(
    "Take a queue ticket for a service",
    {201: ("Issued", TicketOut), 200: ("A replay of an earlier ticket", TicketOut),
     401: ("A kiosk token or a staff login is needed", ErrorBody),
     403: ("A staff session cookie without its X-CSRFToken header (`csrf_header_required`)",
           ErrorBody),
     409: ("A kiosk number outside the kiosk's leases", ErrorBody),
     422: ("Invalid body, closed queue, an invalid `mobile` (`mobile_invalid`, "
           "`mobile_landline`, `mobile_required`), or `idempotency_key_reused`",
           ValidationErrorBody)},
    tag="queue", body=TicketIn,
    description="Kiosks (bearer token) or logged-in staff. Idempotent by `client_id`. A kiosk "
    "that numbered the ticket itself sends `number` (from a lease) and `issued_at` (refused "
    "without `number`; never later than now); the queue is ordered by `issued_at`.",
)
def issue_ticket() -> tuple[dict[str, Any], int]:
    body: TicketIn = parse_body(TicketIn)
    kiosk, staff = current_kiosk(), current_staff()
    if kiosk is None and staff is None:
        raise ApiError(401, "kiosk_token_required",
                       "نوبت را کیوسک یا کارکنان پذیرش صادر می‌کنند.")
    order = TicketOrder(client_id=str(body.client_id), service=body.service,
                        priority=body.priority, tracking_code=body.tracking_code,
                        number=body.number, issued_at=body.issued_at, office=body.office,
                        public_id=body.id, mobile=body.mobile)
    rules = lobby()
    enforce = current_app.config["ENFORCE_QUEUE_HOURS"]

    def work(db: Session) -> walk_in_queue.Issued:
        return walk_in_queue.issue(db, rules, order, kiosk=kiosk, user=staff,
                                   enforce_hours=enforce)

    try:
        issued = statement_unit_of_work(work)
    except QueueError as exc:
        raise _queue_error(exc) from None
    # The reply is built from the committed ticket and the office's cached view; a read
    # session (never the write lock) is opened only when the view must be looked at again.
    with database().session() as reads:
        age = float(current_app.config["LOBBY_ISSUED_VIEW_SECONDS"])
        return (ticket_json(reads, rules, issued.ticket, with_code=True, view_age=age),
                201 if issued.created else 200)


@bp.post("/tickets/leases")
@operation(
    "Reserve a block of ticket numbers for a kiosk",
    {201: ("The numbers are the kiosk's", LeaseOut),
     401: ("Kiosks only", ErrorBody),
     404: ("No such queue in the kiosk's office (`queue_not_found`)", ErrorBody),
     422: ("Invalid size or day", ValidationErrorBody)},
    tag="queue", body=LeaseIn,
    description="A kiosk leases numbers ahead (for today or a coming day) so that it can number "
    "tickets while the server is unreachable; the server never hands out a leased number. A "
    "kiosk whose leases have run out, or that has been out of touch too long, must send people "
    "to reception instead of numbering tickets.",
)
def lease_numbers() -> tuple[dict[str, Any], int]:
    body: LeaseIn = parse_body(LeaseIn)
    kiosk = current_kiosk()
    if kiosk is None:
        raise ApiError(401, "kiosk_token_required", "فقط کیوسک‌ها شماره نوبت رزرو می‌کنند.")
    rules = lobby()

    def work(db: Session) -> dict[str, Any]:
        row = walk_in_queue.lease(db, rules, kiosk, body.queue, body.size, body.day)
        spec = rules.queue(row.queue_slug)
        return {"office": row.office_slug, "queue": row.queue_slug, "prefix": spec.prefix,
                "prefix_fa": spec.prefix_fa, "day": row.day.isoformat(), "first": row.first,
                "last": row.last}

    try:
        return unit_of_work(work), 201
    except QueueError as exc:
        raise _queue_error(exc) from None


@bp.get("/tickets/<ticket:public_id>")
@operation("A ticket's place in the queue",
           {200: ("The ticket", TicketOut), 404: ("No such ticket", ErrorBody)}, tag="queue")
def get_ticket(public_id: str) -> Response:
    rules, public_id = lobby(), public_id[:16]
    cached = cached_ticket(rules, public_id)
    if cached is not None:
        return _response(ticket_reply(rules, *cached))
    found = session().scalar(select(Ticket).where(Ticket.public_id == public_id))
    if found is None:
        raise ApiError(404, "ticket_not_found", "نوبتی با این شناسه پیدا نشد.")
    return _response(json_reply(json_body(ticket_json(session(), rules, found)), VARY))


@bp.get("/offices/<office>/board")
@operation("What the office's lobby display shows",
           {200: ("The board", BoardOut), 304: ("Unchanged since the ETag given", None),
            404: ("No such office", ErrorBody)}, tag="queue",
           description="Fresh within a second of any change. Send the last ETag in "
           "If-None-Match to receive 304 when the board has not changed.")
def get_board(office: str) -> Response:
    view = office_view(session(), lobby(), office)
    return _response(board_reply(view, request.headers.get("If-None-Match")))


def _response(reply: Reply) -> Response:
    return Response(reply.body, status=reply.status, headers=list(reply.headers))
