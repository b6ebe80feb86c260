"""Supervisors' reports: the citizens' satisfaction (`/desk/reports/satisfaction`)."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from markupsafe import Markup

from counter_server.context import session
from counter_server.desk import bp
from counter_server.desk.auth import roles_required
from counter_server.usecases import catalog_versions, satisfaction
from counter_server.usecases.satisfaction import DIMENSIONS, Satisfaction
from counter_server.usecases.staff import Role
from counter_server.web import charts
from counter_server.web.reports import Column, Table, csv_response
from shared import jalali

AVERAGE = Column("average", "میانگین رضایت (از ۵)", "decimal")
ANSWERS = Column("answers", "شمار پاسخ‌ها", "number")


def tables(result: Satisfaction) -> dict[str, Table]:
    """Every table of the report, by the name of its CSV download."""
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


def bar_charts(found: dict[str, Table]) -> dict[str, Markup]:
    return {name: charts.bar_chart([(r["label"], r["average"]) for r in found[name].rows],
                                   found[name].title)
            for name in DIMENSIONS if found[name].rows}


def trend_chart(result: Satisfaction) -> Markup | None:
    if not result.weeks:
        return None
    points = [(jalali.format_date(w.start).rsplit(" ", 1)[0], w.average) for w in result.weeks]
    return charts.line_chart(points, "روند هفتگی میانگین رضایت")


def _report() -> tuple[satisfaction.Filters, Satisfaction, catalog_versions.Snapshot]:
    snapshot = catalog_versions.current_snapshot(session())
    filters = satisfaction.read_filters(request.args)
    return filters, satisfaction.report(session(), snapshot, filters), snapshot


@bp.get("/reports/satisfaction")
@roles_required(Role.supervisor, Role.admin)
def satisfaction_report() -> str:
    filters, result, snapshot = _report()
    found = tables(result)
    return render_template("desk/satisfaction.html", filters=filters, result=result,
                           tables=found, bars=bar_charts(found), trend=trend_chart(result),
                           dimensions=DIMENSIONS, services=snapshot.catalog.services,
                           args=request.args)


@bp.get("/reports/satisfaction/<name>.csv")
@roles_required(Role.supervisor, Role.admin)
def satisfaction_csv(name: str) -> Response:
    _filters, result, _snapshot = _report()
    found = tables(result)
    if name not in found:
        abort(404)
    return csv_response(found[name], f"satisfaction-{name}.csv")
