"""Supervisors' reports (`/desk/reports`): the queue, requests against their promises, and the
citizens' satisfaction; every table downloadable as `/desk/reports/<name>.csv` and `.xlsx`,
where `<name>` is the report's and the table's (`queue-longest`, `requests-overdue` …)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Response, abort, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from counter_server.context import session
from counter_server.db import utcnow
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.models import Counter, User
from counter_server.usecases import (
    catalog_versions,
    queue_report,
    request_report,
    reports,
    satisfaction,
)
from counter_server.usecases.queue_report import WEEKDAYS, QueueReport
from counter_server.usecases.request_report import RequestReport
from counter_server.usecases.satisfaction import DIMENSIONS, Satisfaction
from counter_server.usecases.staff import Role
from counter_server.web import charts
from counter_server.web.reports import Column, Table, csv_response, shown, xlsx_response
from shared import jalali
from shared.catalog.labels import CHANNELS
from shared.text import to_persian_digits

AVERAGE = Column("average", "میانگین رضایت (از ۵)", "decimal")
ANSWERS = Column("answers", "شمار پاسخ‌ها", "number")
REPORTS = {"queue": ("صف و نوبت‌ها", "نوبت‌ها به تفکیک روز هفته و ساعت، زمان انتظار و خدمت "
                                       "(میانه و صدک ۹۰)، غیبت‌ها، انتقال‌ها و طولانی‌ترین انتظارها"),
           "requests": ("درخواست‌ها و تعهد زمانی", "حجم درخواست‌ها به تفکیک مجرا و خدمت، انجام به "
                                                   "موقع در برابر مدت وعده‌داده‌شده، زمان هر مرحله، "
                                                   "درخواست‌های دیرکرد و ردشده‌ها"),
           "satisfaction": ("رضایت شهروندان", "میانگین رضایت به تفکیک خدمت، دفتر، باجه و کارمند، "
                                              "روند هفتگی و نظرها")}


# -- the tables of each report ----------------------------------------------------------------

def satisfaction_tables(result: Satisfaction) -> dict[str, Table]:
    """Every table of the satisfaction report, by the name of its download."""
    found = {name: Table(name, f"رضایت به تفکیک {title}",
                         (Column("label", title), AVERAGE, ANSWERS),
                         [vars(g) for g in result.groups[name]])
             for name, title in DIMENSIONS.items()}
    found["weeks"] = Table("weeks", "روند هفتگی رضایت",
                           (Column("start", "آغاز هفته (شنبه)", "date"), AVERAGE, ANSWERS),
                           [vars(w) for w in result.weeks])
    found["comments"] = Table("comments", "نظرهای شهروندان", (
        Column("received_at", "زمان", "datetime"), Column("service", "خدمت"),
        Column("score", "امتیاز", "decimal"), Column("channel", "مجرای درخواست"),
        Column("text", "نظر")), [vars(c) for c in result.comments])
    return found


FIGURES = (Column("tickets", "نوبت‌ها", "number"), Column("served", "خدمت‌گرفته", "number"),
           Column("no_shows", "حاضر نشد", "number"),
           Column("wait_median", "میانه انتظار (دقیقه)", "minutes"),
           Column("wait_p90", "صدک ۹۰ انتظار (دقیقه)", "minutes"),
           Column("service_median", "میانه زمان خدمت (دقیقه)", "minutes"),
           Column("service_p90", "صدک ۹۰ زمان خدمت (دقیقه)", "minutes"))


def queue_tables(result: QueueReport) -> dict[str, Table]:
    hours = _hours(result)
    found = {"heat": Table("heat", "نوبت‌ها به تفکیک روز هفته و ساعت گرفتن نوبت",
                           (Column("weekday", "روز هفته"),
                            *(Column(f"h{h}", f"ساعت {to_persian_digits(h)}", "number")
                              for h in hours)),
                           [{"weekday": name, **{f"h{h}": result.heat.get((day, h), 0)
                                                 for h in hours}}
                            for day, name in enumerate(WEEKDAYS)])}
    for name, title in queue_report.DIMENSIONS.items():
        found[name] = Table(name, f"نوبت‌ها به تفکیک {title}", (Column("label", title), *FIGURES),
                            [vars(f) for f in result.groups[name]])
    found["longest"] = Table("longest", "طولانی‌ترین انتظارها", (
        Column("ticket", "نوبت"), Column("office", "دفتر"), Column("queue", "صف"),
        Column("issued_at", "گرفتن نوبت", "datetime"),
        Column("called_at", "فراخوان", "datetime"), Column("wait", "انتظار (دقیقه)", "minutes"),
        Column("counter", "باجه")), [vars(w) for w in result.longest])
    return found


def _hours(result: QueueReport) -> list[int]:
    """The hours that had tickets, or office hours when none did."""
    used = sorted({hour for _day, hour in result.heat})
    return list(range(used[0], used[-1] + 1)) if used else list(range(8, 15))


TIMELINESS = (Column("closed", "بسته‌شده", "number"), Column("on_time", "به موقع", "number"),
              Column("late", "با تأخیر", "number"), Column("share", "سهم به موقع", "percent"),
              Column("median_days", "میانه زمان انجام (روز)", "days"),
              Column("p90_days", "صدک ۹۰ زمان انجام (روز)", "days"))


def request_tables(result: RequestReport) -> dict[str, Table]:
    volumes = (Column("total", "همه", "number"), Column("online", "برخط", "number"),
               Column("kiosk", "کیوسک", "number"), Column("counter", "باجه", "number"))
    return {
        "service": Table("service", "درخواست‌ها به تفکیک خدمت و مجرا",
                         (Column("label", "خدمت"), *volumes), [vars(v) for v in result.by_service]),
        "channel": Table("channel", "درخواست‌ها به تفکیک مجرا",
                         (Column("label", "مجرا"), Column("total", "درخواست‌ها", "number")),
                         [vars(v) for v in result.by_channel]),
        "timeliness": Table("timeliness", "انجام به موقع به تفکیک خدمت", (
            Column("label", "خدمت"), Column("promised", "مدت وعده‌داده‌شده در شناسنامه"),
            *TIMELINESS), [vars(t) for t in result.timeliness]),
        "clerk": Table("clerk", "انجام به موقع به تفکیک کارمند",
                       (Column("label", "کارمند"), *TIMELINESS), [vars(t) for t in result.by_clerk]),
        "steps": Table("steps", "زمان ماندن در هر مرحله", (
            Column("service", "خدمت"), Column("step", "مرحله"),
            Column("requests", "درخواست‌ها", "number"),
            Column("median_days", "میانه (روز)", "days"), Column("p90_days", "صدک ۹۰ (روز)", "days"),
            Column("average_days", "میانگین (روز)", "days")), [vars(s) for s in result.steps]),
        "holders": Table("holders", "دیرکردهای اکنون به تفکیک کارمند", (
            Column("label", "در دست"), Column("overdue", "دیرکرد", "number"),
            Column("oldest_due", "قدیمی‌ترین مهلت", "date")), [vars(h) for h in result.holders]),
        "overdue": Table("overdue", "درخواست‌های دیرکرد (قدیمی‌ترین مهلت اول)", (
            Column("tracking_code", "کد رهگیری", "code"), Column("service", "خدمت"),
            Column("status", "وضعیت"), Column("due_date", "مهلت", "date"),
            Column("days_late", "روز دیرکرد", "number"), Column("holder", "در دست"),
            Column("created_at", "ثبت", "datetime")), [vars(o) for o in result.overdue]),
        "reasons": Table("reasons", "دلیل‌های رد درخواست", (
            Column("service", "خدمت"), Column("reason", "دلیل"),
            Column("count", "شمار", "number")), [vars(r) for r in result.reasons]),
    }


# -- computing a report from the query string ---------------------------------------------------

def _today(snapshot: catalog_versions.Snapshot) -> date:
    return snapshot.calendar.local_date(utcnow())


def _computed(name: str) -> tuple[object, dict[str, Table], catalog_versions.Snapshot]:
    """(result, tables, snapshot) of the report `name` for this request's query string."""
    snapshot = catalog_versions.current_snapshot(session())
    if name == "satisfaction":
        result: object = satisfaction.report(session(), snapshot,
                                             satisfaction.read_filters(request.args))
        return result, satisfaction_tables(result), snapshot  # type: ignore[arg-type]
    filters = reports.read_filters(request.args, _today(snapshot))
    if name == "queue":
        queue = queue_report.report(session(), snapshot, filters)
        return queue, queue_tables(queue), snapshot
    requests = request_report.report(session(), snapshot, filters, _today(snapshot))
    return requests, request_tables(requests), snapshot


def _choices(snapshot: catalog_versions.Snapshot) -> dict[str, list[tuple[str, str]]]:
    """The filter form's options: (value, Persian label)."""
    catalog = snapshot.catalog
    offices = {o.slug: o.name for o in catalog.offices}
    counters = session().scalars(select(Counter).order_by(Counter.office_slug, Counter.number))
    clerks = session().scalars(select(User).where(User.role != Role.receptionist.value)
                               .order_by(User.full_name))
    return {
        "office": list(offices.items()),
        "service": sorted(((s.slug, s.title) for s in catalog.services), key=lambda c: c[1]),
        "queue": [(q.slug, f"{q.prefix_fa} — {q.title}") for q in catalog.queues],
        "counter": [(str(c.id), f"{c.name} · {offices.get(c.office_slug, c.office_slug)}")
                    for c in counters],
        "clerk": [(str(u.id), u.full_name) for u in clerks],
        "channel": [(c.value, label) for c, label in CHANNELS.items()],
    }


FILTER_LABELS = {"office": "دفتر", "service": "خدمت", "queue": "صف", "counter": "باجه",
                 "clerk": "کارمند", "channel": "مجرا"}


def _page(template: str, name: str, result: object, found: dict[str, Table],
          snapshot: catalog_versions.Snapshot, **extra: object) -> str:
    filters = reports.read_filters(request.args, _today(snapshot))
    return render_template(template, name=name, title=REPORTS[name][0], result=result,
                           tables=found, filters=filters, choices=_choices(snapshot),
                           filter_labels=FILTER_LABELS, args=request.args,
                           jalali_from=jalali.jalali_string(filters.date_from),
                           jalali_to=jalali.jalali_string(filters.date_to), shown=shown,
                           **extra)


# -- pages ------------------------------------------------------------------------------------

@bp.get("/reports")
@roles_required(Role.supervisor, Role.admin)
def reports_home() -> str:
    snapshot = catalog_versions.current_snapshot(session())
    filters = reports.read_filters(request.args, _today(snapshot))
    return render_template("desk/reports.html", reports=REPORTS, filters=filters,
                           choices=_choices(snapshot), filter_labels=FILTER_LABELS,
                           args=request.args,
                           jalali_from=jalali.jalali_string(filters.date_from),
                           jalali_to=jalali.jalali_string(filters.date_to))


@bp.get("/reports/queue")
@roles_required(Role.supervisor, Role.admin)
def queue_report_page() -> str:
    result, found, snapshot = _computed("queue")
    assert isinstance(result, QueueReport)
    hours = _hours(result)
    heat = charts.heat_map(WEEKDAYS, [to_persian_digits(h) for h in hours],
                           {(day, hours.index(h)): count
                            for (day, h), count in result.heat.items() if h in hours},
                           "نوبت‌ها به تفکیک روز هفته و ساعت")
    return _page("desk/report_queue.html", "queue", result, found, snapshot, heat=heat)


@bp.get("/reports/requests")
@roles_required(Role.supervisor, Role.admin)
def requests_report_page() -> str:
    result, found, snapshot = _computed("requests")
    assert isinstance(result, RequestReport)
    bars = charts.bar_chart([(t.label, round((t.share or 0) * 100)) for t in result.timeliness],
                            "سهم انجام به موقع (درصد)", maximum=100, step=20) if result.timeliness else None
    return _page("desk/report_requests.html", "requests", result, found, snapshot, bars=bars)


def _satisfaction_charts(found: dict[str, Table], result: Satisfaction
                         ) -> tuple[dict[str, Markup], Markup | None]:
    bars = {name: charts.bar_chart([(r["label"], r["average"]) for r in found[name].rows],
                                   found[name].title)
            for name in DIMENSIONS if found[name].rows}
    trend = None
    if result.weeks:
        points = [(jalali.format_date(w.start).rsplit(" ", 1)[0], w.average)
                  for w in result.weeks]
        trend = charts.line_chart(points, "روند هفتگی میانگین رضایت")
    return bars, trend


@bp.get("/reports/satisfaction")
@roles_required(Role.supervisor, Role.admin)
def satisfaction_report() -> str:
    snapshot = catalog_versions.current_snapshot(session())
    filters = satisfaction.read_filters(request.args)
    result = satisfaction.report(session(), snapshot, filters)
    found = satisfaction_tables(result)
    bars, trend = _satisfaction_charts(found, result)
    return render_template("desk/satisfaction.html", filters=filters, result=result,
                           tables=found, bars=bars, trend=trend, dimensions=DIMENSIONS,
                           services=snapshot.catalog.services, args=request.args)


# -- downloads --------------------------------------------------------------------------------

def _download(name: str, respond: Callable[[Table, str], Response], suffix: str) -> Response:
    report, _, table = name.partition("-")
    if report not in REPORTS:
        abort(404)
    _result, found, _snapshot = _computed(report)
    if table not in found:
        abort(404)
    return respond(found[table], f"{name}.{suffix}")


@bp.get("/reports/<name>.csv")
@roles_required(Role.supervisor, Role.admin)
def report_csv(name: str) -> Response:
    return _download(name, csv_response, "csv")


@bp.get("/reports/<name>.xlsx")
@roles_required(Role.supervisor, Role.admin)
def report_xlsx(name: str) -> Response:
    return _download(name, xlsx_response, "xlsx")


@bp.get("/reports/satisfaction/<name>.csv")
@roles_required(Role.supervisor, Role.admin)
def satisfaction_csv(name: str) -> Response:
    """The first address of the satisfaction tables' CSV, kept for links already shared."""
    return _download(f"satisfaction-{name}", csv_response, "csv")
