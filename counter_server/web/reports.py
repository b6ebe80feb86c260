"""Helpers reports are built from: a table (shown with Persian digits) and its downloads, CSV
(UTF-8 with a BOM, so Excel reads the Persian) and XLSX (a right-to-left sheet whose numbers
are numbers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from shared import jalali
from counter_server.web.charts import number
from shared.text import format_number, to_persian_digits
from shared.tracking_codes import format_code_rtl_safe


def shown(kind: str, value: Any) -> str:
    """A value as a page shows it: Persian digits, Jalali dates, minutes, days."""
    if value is None or value == "":
        return "—"
    if kind == "number":
        return format_number(int(value))
    if kind == "decimal":
        return number(value, 2)
    if kind == "percent":
        return to_persian_digits(f"{value * 100:.0f}") + "٪"
    if kind == "minutes":
        return number(value / 60, 1) + " دقیقه"
    if kind == "days":
        return number(value, 1) + " روز"
    if kind == "date":
        return jalali.format_date(value)
    if kind == "code":
        return format_code_rtl_safe(value)
    if kind == "datetime":
        return jalali.format_datetime(value)
    return str(value)


def _exported(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind in ("date", "datetime") and isinstance(value, date | datetime):
        day = value if not isinstance(value, datetime) else jalali.to_local(value)
        text = jalali.jalali_string(day)
        return f"{text} {day.strftime('%H:%M')}" if isinstance(value, datetime) else text
    if kind == "percent":
        return f"{value * 100:.1f}"
    if kind == "minutes":
        return f"{value / 60:.1f}"
    return str(value)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text, code (a tracking code), number, decimal, percent, date, datetime, minutes (of
    # seconds, shown and exported in minutes), days


@dataclass(frozen=True)
class Table:
    """Rows (dicts) under titled columns; `name` names its CSV download."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[dict[str, Any]] = field(default_factory=list)

    def cells(self, row: dict[str, Any]) -> list[tuple[Column, str]]:
        return [(c, shown(c.kind, row.get(c.key))) for c in self.columns]


def csv_response(table: Table, filename: str) -> Response:
    """The table as a CSV download: UTF-8 with BOM, Jalali dates, plain digits."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([_exported(c.kind, row.get(c.key)) for c in table.columns])
    body = "\ufeff" + out.getvalue()
    return Response(body.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(kind: str, value: Any) -> Any:
    """A value as a spreadsheet cell: numbers stay numbers, dates are Jalali text."""
    if value is None:
        return None
    if kind == "minutes" and isinstance(value, int | float):
        return round(value / 60, 1)
    if kind in ("number", "decimal", "days") and isinstance(value, int | float):
        return value
    if kind == "percent" and isinstance(value, int | float):
        return round(value * 100, 1)
    return _exported(kind, value)


def xlsx_response(table: Table, filename: str) -> Response:
    """The table as an Excel workbook: one right-to-left sheet, the same columns as the CSV."""
    book = Workbook()
    sheet = book.active
    sheet.title = table.title[:31].translate(str.maketrans("[]:*?/\\", "       "))
    sheet.sheet_view.rightToLeft = True
    sheet.append([c.title for c in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_cell(c.kind, row.get(c.key)) for c in table.columns])
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(
            12, min(40, len(column.title) + 4))
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
