"""The walk-in queue: numbering, idempotency, kiosk leases, call-next under concurrency,
priority fairness, counter actions, estimates and the day rollover."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from counter_server.context import database
from counter_server.models import Counter, Ticket, TicketEvent, User
from counter_server.usecases import kiosks, lobby_admin, walk_in_queue
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby, QueueError, TicketOrder

# Wednesday 4 Azar 1405, 10:00 in Tehran: a working morning.
MORNING = datetime(2026, 11, 25, 6, 30, tzinfo=UTC)
OFFICE = "isfahan-hq"


def at(moment: datetime) -> Callable[[Session], Lobby]:
    return lambda session: Lobby(current_snapshot(session), moment)


def run(app: Flask, work: Callable[[Session], Any]) -> Any:
    with app.app_context(), database().transaction() as session:
        return work(session)


def order(service: str = "tour-guide-card", **extra: Any) -> TicketOrder:
    return TicketOrder(client_id=str(uuid.uuid4()), service=service, office=OFFICE, **extra)


def issue(app: Flask, moment: datetime = MORNING, **extra: Any) -> Ticket:
    def work(session: Session) -> Ticket:
        ticket = walk_in_queue.issue(session, at(moment)(session), order(**extra)).ticket
        session.expunge(ticket)
        return ticket
    return run(app, work)


@pytest.fixture
def counters(app: Flask, staff_users: dict[str, int]) -> list[int]:
    """Three counters of the head office calling from the tour-guides queue."""
    def work(session: Session) -> list[int]:
        return [lobby_admin.add_counter(session, OFFICE, n, None, ["tour-guides"]).id
                for n in (1, 2, 3)]
    return run(app, work)


def call(app: Flask, counter_id: int, user_id: int, moment: datetime = MORNING) -> Ticket | None:
    def work(session: Session) -> Ticket | None:
        ticket = walk_in_queue.call_next(session, at(moment)(session), session.get(Counter, counter_id),
                                 session.get(User, user_id))
        if ticket is not None:
            session.expunge(ticket)
        return ticket
    return run(app, work)


def finish(app: Flask, counter_id: int, ticket_id: int, user_id: int,
           moment: datetime = MORNING) -> None:
    def work(session: Session) -> None:
        walk_in_queue.act(session, at(moment)(session), session.get(Counter, counter_id),
                  session.get(Ticket, ticket_id), "finish", session.get(User, user_id))
    run(app, work)


def test_numbers_count_up_per_queue_and_read_in_persian(app: Flask, demo_catalog) -> None:  # type: ignore[no-untyped-def]
    guides = [issue(app) for _ in range(3)]
    crafts = issue(app, service="handicraft-production-licence")
    assert [t.number for t in guides] == [1, 2, 3] and crafts.number == 1
    queue_spec = next(q for q in demo_catalog.queues if q.slug == "tour-guides")
    assert queue_spec.ticket_label(3) == "ب-۰۰۳"
    assert queue_spec.ticket_label(3, persian=False) == "B-003"


def test_replayed_ticket_is_the_same_ticket(app: Flask) -> None:
    same = order()

    def twice(session: Session) -> tuple[int, int, bool]:
        lobby = at(MORNING)(session)
        first = walk_in_queue.issue(session, lobby, same)
        second = walk_in_queue.issue(session, lobby, same)
        return first.ticket.id, second.ticket.id, second.created
    first, second, created = run(app, twice)
    assert first == second and created is False
    changed = TicketOrder(client_id=same.client_id, service="tour-guide-card-renewal",
                          office=OFFICE)
    with pytest.raises(QueueError) as refused:
        run(app, lambda s: walk_in_queue.issue(s, at(MORNING)(s), changed))
    assert refused.value.code == "idempotency_key_reused"


def test_closed_queue_refuses_tickets_in_persian(app: Flask) -> None:
    evening = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # 19:30 in Tehran
    friday = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)
    for moment in (evening, friday):
        with pytest.raises(QueueError) as closed:
            issue(app, moment)
        assert closed.value.code == "queue_closed" and "بسته است" in closed.value.message


def test_call_next_in_order_of_issue(app: Flask, counters: list[int],
                                     staff_users: dict[str, int]) -> None:
    tickets = [issue(app, MORNING + timedelta(minutes=i)) for i in range(3)]
    boss = staff_users["boss"]
    called = []
    for _ in tickets:
        ticket = call(app, counters[0], boss)
        called.append(ticket.number)
        finish(app, counters[0], ticket.id, boss)
    assert called == [1, 2, 3] and call(app, counters[0], boss) is None


def test_priority_goes_first_but_never_starves_others(app: Flask, counters: list[int],
                                                     staff_users: dict[str, int]) -> None:
    ordinary = [issue(app, MORNING + timedelta(minutes=i)) for i in range(3)]
    elders = [issue(app, MORNING + timedelta(minutes=10 + i), priority="elderly")
              for i in range(5)]
    names = {t.id: f"O{n}" for n, t in enumerate(ordinary, 1)}
    names |= {t.id: f"P{n}" for n, t in enumerate(elders, 1)}
    boss, seen = staff_users["boss"], []
    while (ticket := call(app, counters[0], boss)) is not None:
        seen.append(names[ticket.id])
        finish(app, counters[0], ticket.id, boss)
    # max_consecutive_priority of this queue is 3
    assert seen == ["P1", "P2", "P3", "O1", "P4", "P5", "O2", "O3"]


def _race(app: Flask, workers: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=w) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_two_counters_never_get_one_ticket(app: Flask, staff_users: dict[str, int]) -> None:
    """Ten counters press «نفر بعدی» at once, again and again, on a file database or
    PostgreSQL: every ticket is called exactly once."""
    counter_ids = run(app, lambda s: [
        lobby_admin.add_counter(s, OFFICE, n, None, ["tour-guides"]).id for n in range(1, 11)])
    for i in range(40):
        issue(app, MORNING + timedelta(seconds=i))
    boss, barrier, errors = staff_users["boss"], threading.Barrier(10), []

    def counter_loop(counter_id: int) -> None:
        barrier.wait()
        while True:
            try:
                ticket = call(app, counter_id, boss)
            except (IntegrityError, OperationalError, QueueError) as exc:  # retry, as a clerk would
                errors.append(type(exc).__name__)
                continue
            if ticket is None:
                return
            finish(app, counter_id, ticket.id, boss)

    _race(app, [lambda c=c: counter_loop(c) for c in counter_ids])
    with app.app_context(), database().session() as session:
        calls = session.execute(select(TicketEvent.ticket_id, func.count()).where(
            TicketEvent.action == "called").group_by(TicketEvent.ticket_id)).all()
        statuses = set(session.scalars(select(Ticket.status)))
    assert len(calls) == 40 and all(count == 1 for _, count in calls)
    assert statuses == {"done"}
    assert len(errors) < 40


def test_kiosk_numbers_from_a_lease_never_collide_with_the_servers(
    app: Flask, client: FlaskClient, counters: list[int], staff_users: dict[str, int]
) -> None:
    registration = run(app, lambda s: kiosks.register_kiosk(s, "lobby", OFFICE))
    kiosk_id = registration.kiosk.id

    def take_lease(session: Session) -> tuple[int, int]:
        row = walk_in_queue.lease(session, at(MORNING)(session), session.get(type(registration.kiosk),
                                                                      kiosk_id), "tour-guides", 5)
        return row.first, row.last
    first, last = run(app, take_lease)
    server_ticket = issue(app, MORNING + timedelta(minutes=5))
    assert (first, last) == (1, 5) and server_ticket.number == 6

    def offline(number: int, minutes: int) -> Ticket:
        def work(session: Session) -> Ticket:
            kiosk = session.get(type(registration.kiosk), kiosk_id)
            ticket = walk_in_queue.issue(session, at(MORNING + timedelta(minutes=30))(session), order(
                number=number, issued_at=MORNING + timedelta(minutes=minutes)), kiosk=kiosk).ticket
            session.expunge(ticket)
            return ticket
        return run(app, work)

    early = offline(1, 1)  # taken at the kiosk before the server's ticket, arriving later
    offline(2, 8)
    with pytest.raises(QueueError) as outside:
        offline(6, 9)
    assert outside.value.code == "number_not_leased"
    boss = staff_users["boss"]
    assert call(app, counters[0], boss, MORNING + timedelta(minutes=31)).id == early.id
    with app.app_context(), database().session() as session:
        numbers = list(session.scalars(select(Ticket.number)))
    assert sorted(numbers) == [1, 2, 6]


def test_day_rollover_closes_yesterdays_tickets_and_restarts_numbers(
    app: Flask, counters: list[int]
) -> None:
    yesterday = MORNING - timedelta(days=1)
    old = [issue(app, yesterday + timedelta(minutes=i)) for i in range(3)]
    today = issue(app, MORNING)
    assert today.number == 1
    with app.app_context(), database().session() as session:
        rows = {t.id: t for t in session.scalars(select(Ticket))}
    assert len(rows) == 4
    assert [rows[t.id].status for t in old] == ["closed"] * 3
    assert rows[today.id].status == "waiting"


def test_counter_actions(app: Flask, counters: list[int], staff_users: dict[str, int]) -> None:
    boss = staff_users["boss"]
    first, second = issue(app), issue(app, MORNING + timedelta(minutes=1))
    ticket = call(app, counters[0], boss)
    with pytest.raises(QueueError) as busy:
        call(app, counters[0], boss)
    assert busy.value.code == "counter_busy"

    def act(action: str, counter: int = counters[0], ticket_id: int = first.id) -> None:
        def work(session: Session) -> None:
            walk_in_queue.act(session, at(MORNING)(session), session.get(Counter, counter),
                      session.get(Ticket, ticket_id), action, session.get(User, boss))
        run(app, work)

    act("recall")
    with pytest.raises(QueueError):
        act("finish", counter=counters[1])
    act("start")
    with pytest.raises(QueueError) as again:
        act("start")
    assert "ممکن نیست" in again.value.message
    act("finish")
    second_call = call(app, counters[0], boss)
    assert (ticket.id, second_call.id) == (first.id, second.id)

    def transfer(session: Session) -> None:
        walk_in_queue.transfer(session, at(MORNING)(session), session.get(Counter, counters[0]),
                       session.get(Ticket, second.id), session.get(User, boss),
                       to_counter=session.get(Counter, counters[1]))
    run(app, transfer)
    assert call(app, counters[2], boss) is None  # assigned to counter 2 only
    assert call(app, counters[1], boss).id == second.id


def test_estimate_is_a_range_without_history_then_minutes(
    app: Flask, counters: list[int], staff_users: dict[str, int]
) -> None:
    boss = staff_users["boss"]
    waiting = issue(app, MORNING + timedelta(minutes=30))

    def estimate(session: Session) -> walk_in_queue.Estimate:
        ticket = session.get(Ticket, waiting.id)
        return walk_in_queue.estimate(session, at(MORNING + timedelta(hours=1))(session), ticket,
                              walk_in_queue.ahead_of(session, ticket))
    guess = run(app, estimate)
    assert guess.minutes is None and guess.range == (1, 4)  # 1 person, 3 counters, 3–10 min
    for minute in range(3):
        served = issue(app, MORNING + timedelta(minutes=minute))
        ticket = call(app, counters[0], boss, MORNING + timedelta(minutes=10 * minute))

        def start(session: Session, ticket_id: int = ticket.id, m: int = minute) -> None:
            walk_in_queue.act(session, at(MORNING + timedelta(minutes=10 * m))(session),
                      session.get(Counter, counters[0]), session.get(Ticket, ticket_id), "start",
                      session.get(User, boss))
        run(app, start)
        finish(app, counters[0], ticket.id, boss, MORNING + timedelta(minutes=10 * minute + 6))
        assert ticket.id == served.id
    guess = run(app, estimate)
    assert guess.range is None and guess.minutes == 2  # 6 minutes each over 3 counters


def test_a_ticket_taken_statement_by_statement(app: Flask) -> None:
    """As POST /api/v1/tickets takes it (`statement_unit_of_work`: on PostgreSQL each
    statement commits by itself, the number asynchronously): a replay takes no number, and
    the asynchronous commit stays with the number's own statement."""
    from sqlalchemy import text

    from counter_server.context import statement_unit_of_work

    same = order()
    with app.app_context():
        def take(given: TicketOrder) -> walk_in_queue.Issued:
            return statement_unit_of_work(
                lambda s: walk_in_queue.issue(s, at(MORNING)(s), given))

        first, again, later = take(same), take(same), take(order())
        assert (first.created, again.created) == (True, False)
        assert again.ticket.id == first.ticket.id
        assert later.ticket.number == first.ticket.number + 1
        with database().session(writes=True) as session:
            if database().dialect == "postgresql":
                session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            walk_in_queue.issue(session, at(MORNING)(session), order())
            session.commit()
            if database().dialect == "postgresql":
                assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"
    events = run(app, lambda s: s.scalar(select(func.count(TicketEvent.id))))
    assert events == 3  # one «issued» event a ticket, none for the replay
