"""The supervisors' reports (`/desk/reports`): each computed on a known data set, figure by
figure, on SQLite and PostgreSQL; the pages, the CSV and XLSX downloads, who may see them."""

from __future__ import annotations

import html
import io
import uuid
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from counter_server.context import database
from counter_server.models import Counter, RequestEvent, ServiceRequest, Ticket, TicketEvent
from counter_server.usecases import catalog_versions, queue_report, request_report, reports
from counter_server.usecases.reports import Filters, percentile
from shared.tracking_codes import new_code
from tests.conftest import login

SAT, MON = date(2026, 11, 28), date(2026, 11, 30)  # a Saturday and the Monday after
RANGE = "from=1405-09-07&to=1405-09-09"  # 2026-11-28 … 2026-11-30 in Jalali
GUIDES = "tour-guides"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in UTC, November 2026 (Tehran is 3:30 ahead)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def seed_lobby(session: Session, guides: int, crafts: int, front: int | None,
               first_counter: int = 1) -> None:
    """Five tickets from 28 to 30 November 2026 (three served, one no-show, one waiting; one
    transfer) and one before; two counters numbered from `first_counter`."""
    one = Counter(office_slug="isfahan-hq", number=first_counter, name="باجه یک",
                  queues=[GUIDES])
    two = Counter(office_slug="isfahan-hq", number=first_counter + 1, name="باجه دو",
                  queues=[GUIDES])
    session.add_all([one, two])
    session.flush()
    rows = [  # day, number, issued, called, started, finished, status, counter, clerk
        (SAT, 1, at(28, 5), at(28, 5, 10), at(28, 5, 11), at(28, 5, 21), "done", one, guides),
        (SAT, 2, at(28, 5, 20), at(28, 5, 40), at(28, 5, 40), at(28, 6), "done", one, guides),
        (SAT, 3, at(28, 6), at(28, 6, 30), None, at(28, 6, 35), "no_show", two, crafts),
        (MON, 1, at(30, 7), at(30, 7, 5), at(30, 7, 5), at(30, 7, 35), "done", two, crafts),
        (date(2026, 11, 20), 1, at(20, 5), at(20, 8), at(20, 8), at(20, 9), "done", one, guides),
    ]
    tickets = []
    for day, number, issued, called, started, finished, status, counter, clerk in rows:
        tickets.append(_ticket(day, GUIDES, "tour-guide-card", number, issued, status,
                               called_at=called, serving_started_at=started,
                               finished_at=finished, counter_id=counter.id,
                               called_by_id=clerk, issued_by_id=front))
    tickets.append(_ticket(MON, "handicrafts", "handicraft-production-licence", 1,
                           at(30, 7, 10), "waiting"))
    session.add_all(tickets)
    session.flush()
    session.add(TicketEvent(office_slug="isfahan-hq", ticket_id=tickets[3].id,
                            action="transferred", user_id=crafts, at=at(30, 7, 20)))


@pytest.fixture
def lobby_data(app: Flask, staff_users: dict[str, int]) -> None:
    with app.app_context(), database().transaction() as session:
        seed_lobby(session, staff_users["guides"], staff_users["crafts"], staff_users["front"])


def _ticket(day: date, queue: str, service: str, number: int, issued: datetime, status: str,
            **values: object) -> Ticket:
    return Ticket(public_id=uuid.uuid4().hex[:16], client_id=str(uuid.uuid4()),
                  body_digest="0" * 64, office_slug="isfahan-hq", queue_slug=queue,
                  service_slug=service, day=day, number=number, status=status,
                  issued_at=issued, received_at=issued, **values)


def _filters(**values: object) -> Filters:
    return Filters(date_from=SAT, date_to=MON, **values)  # type: ignore[arg-type]


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile({300: 1, 600: 1, 1200: 1, 1800: 1}, 0.5) == 900
    assert percentile({300: 1, 600: 1, 1200: 1, 1800: 1}, 0.9) == pytest.approx(1620)
    assert percentile({5: 3}, 0.9) == 5 and percentile({}, 0.5) is None


def test_jalali_ranges_and_bad_dates() -> None:
    filters = reports.read_filters({"from": "۱۴۰۵-۰۹-۰۷", "to": "1405/09/09", "counter": "2"},
                                   today=date(2026, 12, 1))
    assert (filters.date_from, filters.date_to, filters.counter) == (SAT, MON, 2)
    default = reports.read_filters({"from": "1405-13-40"}, today=date(2026, 12, 1))
    assert default.errors and default.date_to == date(2026, 12, 1)
    assert (default.date_to - default.date_from).days == reports.DEFAULT_DAYS - 1


def test_the_queue_report_figures(app: Flask, lobby_data: None,
                                  staff_users: dict[str, int]) -> None:
    with app.app_context(), database().transaction() as session:
        snapshot = catalog_versions.current_snapshot(session)
        result = queue_report.report(session, snapshot, _filters())
        by_clerk = {f.key: f for f in result.groups["clerk"]}
        by_queue = {f.key: f for f in result.groups["queue"]}
        guides_only = queue_report.report(session, snapshot,
                                          _filters(clerk=staff_users["guides"]))
        crafts_queue = queue_report.report(session, snapshot, _filters(queue="handicrafts"))
        kiosk = queue_report.report(session, snapshot, _filters(channel="kiosk"))
    totals = result.totals
    assert (totals.tickets, totals.served, totals.no_shows, result.transfers) == (5, 3, 1, 1)
    # waits 10, 20, 30 and 5 minutes; service 10, 20 and 30 minutes
    assert totals.wait_median == 900 and totals.wait_p90 == pytest.approx(1620)
    assert totals.service_median == 1200 and totals.service_p90 == pytest.approx(1680)
    # Saturday (0) at 08:30 and 08:50 and 09:30 Tehran time, Monday (2) at 10:30 and 10:40
    assert result.heat == {(0, 8): 2, (0, 9): 1, (2, 10): 2}
    assert (by_queue[GUIDES].tickets, by_queue["handicrafts"].tickets) == (4, 1)
    assert by_queue[GUIDES].wait_median == 900
    guides = by_clerk[str(staff_users["guides"])]
    assert (guides.tickets, guides.served, guides.service_median) == (2, 2, 900)
    crafts = by_clerk[str(staff_users["crafts"])]
    assert (crafts.served, crafts.no_shows, crafts.service_median) == (1, 1, 1800)
    assert by_clerk[""].label == "نامشخص" and by_clerk[""].tickets == 1
    assert [w.wait for w in result.longest] == [1800, 1200, 600, 300]
    assert result.longest[0].ticket == "ب-۰۰۳"
    assert guides_only.totals.tickets == 2 and guides_only.transfers == 0
    assert crafts_queue.totals.tickets == 1 and crafts_queue.totals.wait_median is None
    assert kiosk.totals.tickets == 0


def seed_requests(session: Session, guides: int, crafts: int) -> None:
    """Five requests filed from 28 to 30 November 2026 (two per service closed, one open) and
    an old one, overdue since 6 October."""
    card, certificate = "tour-guide-card", "records-certificate"
    version = catalog_versions.current_snapshot(session).version
    people = [  # service, channel, created, due, status, clerk, events (action, at, step)
        (card, "online", at(28, 6), date(2026, 12, 20), "completed", guides, [
            ("claim", at(28, 9), "submit"), ("advance", at(28, 18), "exam-result-check"),
            ("approve", at(29, 0), "card-issue-and-handover"),
            ("complete", at(29, 6), "card-issue-and-handover")]),
        (card, "kiosk", at(28, 7), date(2026, 11, 28), "completed", guides, [
            ("complete", at(29, 13), "card-issue-and-handover")]),
        (certificate, "counter", at(29, 6), date(2026, 12, 2), "rejected", crafts, [
            ("reject", at(29, 18), "submit")]),
        # closed at 00:30 on 1 December in Tehran (still 30 November in UTC): late
        (certificate, "online", at(30, 5), date(2026, 11, 30), "rejected", crafts, [
            ("reject", at(30, 21), "submit")]),
        (certificate, "online", at(29, 8), date(2099, 1, 1), "submitted", None, []),
        (card, "online", datetime(2026, 10, 1, 6, tzinfo=UTC), date(2026, 10, 6),
         "in_review", guides, [("claim", datetime(2026, 10, 2, 6, tzinfo=UTC), "submit")]),
    ]
    for service, channel, created, due, status, clerk, events in people:
        item = ServiceRequest(
            tracking_code=new_code(0), client_id=str(uuid.uuid4()),
            body_digest="0" * 64, service_slug=service, catalog_version=version,
            channel=channel, applicant_name="آزمون", applicant_national_code="0000000000",
            applicant_mobile="09120000000", fields={}, status=status,
            current_step=events[-1][2] if events else "submit", assigned_to_id=clerk,
            flags=[], due_date=due, created_at=created, updated_at=created,
            decision_reason="مدارک ناقص است" if status == "rejected" else None)
        item.events.append(RequestEvent(action="submit", actor="citizen", to_status="submitted",
                                        step="submit", at=created))
        for action, moment, step in events:
            item.events.append(RequestEvent(action=action, actor="staff", user_id=clerk,
                                            to_status=status, step=step, at=moment))
        session.add(item)


@pytest.fixture
def request_data(app: Flask, staff_users: dict[str, int]) -> None:
    with app.app_context(), database().transaction() as session:
        seed_requests(session, staff_users["guides"], staff_users["crafts"])


def test_the_requests_report_figures(app: Flask, request_data: None,
                                     staff_users: dict[str, int]) -> None:
    with app.app_context(), database().transaction() as session:
        snapshot = catalog_versions.current_snapshot(session)
        result = request_report.report(session, snapshot, _filters(), today=date(2026, 12, 1))
        online = request_report.report(session, snapshot, _filters(channel="online"),
                                       today=date(2026, 12, 1))
    assert (result.filed, result.closed, result.on_time, result.rejected) == (5, 4, 2, 2)
    volumes = {v.key: (v.total, v.online, v.kiosk, v.counter) for v in result.by_service}
    assert volumes == {"tour-guide-card": (2, 1, 1, 0), "records-certificate": (3, 2, 0, 1)}
    assert {v.key: v.total for v in result.by_channel} == {"online": 3, "kiosk": 1, "counter": 1}
    timely = {t.key: t for t in result.timeliness}
    card = timely["tour-guide-card"]
    assert (card.closed, card.on_time, card.late, card.share) == (2, 1, 1, 0.5)
    assert card.promised == "۲۰ روز کاری"
    assert card.median_days == pytest.approx(27 / 24)  # closed after 24 and 30 hours
    certificate = timely["records-certificate"]
    assert (certificate.closed, certificate.on_time) == (2, 1)  # the local day decides
    clerks = {t.key: (t.closed, t.on_time) for t in result.by_clerk}
    assert clerks == {str(staff_users["guides"]): (2, 1), str(staff_users["crafts"]): (2, 1)}
    submit = next(s for s in result.steps
                  if s.service == "صدور کارت راهنمای گردشگری" and s.requests == 2)
    # R1 stayed 3 + 9 hours at the first step, R2 30 hours
    assert submit.requests == 2 and submit.average_days == pytest.approx(21 / 24)
    assert submit.median_days == pytest.approx(21 / 24)
    assert [h.key for h in result.holders] == [str(staff_users["guides"])]
    assert result.overdue_count == 1 and result.overdue[0].days_late == 56
    assert [(r.reason, r.count) for r in result.reasons] == [("مدارک ناقص است", 2)]
    assert online.filed == 3 and online.closed == 2 and online.on_time == 1


def test_supervisors_see_the_reports_and_download_them(
    client: FlaskClient, lobby_data: None, request_data: None
) -> None:
    login(client, "boss")
    home = html.unescape(client.get("/desk/reports").get_data(as_text=True))
    assert "صف و نوبت‌ها" in home and "درخواست‌ها و تعهد زمانی" in home
    queue = html.unescape(client.get(f"/desk/reports/queue?{RANGE}").get_data(as_text=True))
    assert "۱۵ دقیقه" in queue  # the median wait, 900 seconds
    assert 'class="heat-5"' in queue and "Guides" in queue and "ب-۰۰۳" in queue
    assert "/desk/reports/queue-longest.xlsx?" in queue
    page = html.unescape(client.get(f"/desk/reports/requests?{RANGE}").get_data(as_text=True))
    assert "مدارک ناقص است" in page and "۵۰٪" in page and "۲۰ روز کاری" in page
    exported = client.get(f"/desk/reports/queue-clerk.csv?{RANGE}")
    assert exported.mimetype == "text/csv"
    lines = exported.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("کارمند,نوبت‌ها,خدمت‌گرفته,حاضر نشد,میانه انتظار")
    assert any(line.startswith("Guides,2,2,0,,,15.0,19.0") for line in lines[1:])
    workbook = client.get(f"/desk/reports/requests-timeliness.xlsx?{RANGE}")
    assert workbook.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert sheet.sheet_view.rightToLeft
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("خدمت", "مدت وعده‌داده‌شده در شناسنامه", "بسته‌شده", "به موقع")
    assert ("صدور کارت راهنمای گردشگری", "۲۰ روز کاری", 2, 1, 1, 50.0) == rows[1][:6]
    satisfaction = client.get("/desk/reports/satisfaction-service.xlsx")
    assert load_workbook(io.BytesIO(satisfaction.data)).active["A1"].value == "خدمت"
    assert client.get("/desk/reports/queue-nothing.csv").status_code == 404
    assert client.get("/desk/reports/nothing-service.xlsx").status_code == 404


def test_a_clerk_cannot_reach_reports(client: FlaskClient, staff_users: dict[str, int]) -> None:
    login(client, "guides")
    for path in ("/desk/reports", "/desk/reports/queue", "/desk/reports/requests",
                 "/desk/reports/queue-heat.csv", "/desk/reports/requests-overdue.xlsx",
                 "/desk/reports/satisfaction/service.csv"):
        assert client.get(path).status_code == 403, path
