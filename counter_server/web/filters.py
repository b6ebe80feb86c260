"""Jinja filters that put Persian digits, rials, durations and Jalali dates on pages."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app

from counter_server.usecases import documents
from shared import inquiries, jalali, text
from shared.catalog import labels
from shared.catalog.schema import Duration
from shared.tracking_codes import format_code


def duration_text(duration: Duration) -> str:
    return text.format_duration(duration.value, duration.unit.value)


def duration_words(duration: Duration) -> str:
    return text.duration_in_words(duration.value, duration.unit.value)


def jalali_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return jalali.format_datetime(value)
    return jalali.format_date(value)


def jalali_iso(value: str) -> str:
    """An ISO timestamp (as kept in JSON) in Jalali, Tehran time."""
    return jalali.format_datetime(datetime.fromisoformat(value))


def tracking_code(code: str) -> str:
    """A tracking code in groups of four, Persian digits (wrap it in an LTR <bdi>)."""
    return format_code(code, persian=True)


def upload_limits() -> dict[str, int]:
    """The bytes a form's files may weigh, each and together (the form says them, and
    file-picker.js checks them before anything is sent)."""
    return {"file": current_app.config["MAX_DOCUMENT_BYTES"],
            "total": current_app.config["MAX_FILING_BYTES"]}


def register(app: Flask) -> None:
    app.add_template_filter(text.to_persian_digits, "fa")
    app.add_template_filter(text.format_number, "number")
    app.add_template_filter(text.format_rials, "rials")
    app.add_template_filter(duration_text, "duration")
    app.add_template_filter(duration_words, "duration_words")
    app.add_template_filter(jalali_date, "jalali")
    app.add_template_filter(tracking_code, "code")
    app.add_template_filter(jalali_iso, "jalali_iso")
    app.add_template_filter(sms_state, "sms_state")
    app.add_template_global(labels, "labels")
    app.add_template_global(upload_limits, "upload_limits")
    app.add_template_filter(documents.megabytes, "megabytes")
    app.add_template_global(inquiries.KINDS, "inquiry_kinds")
    app.add_template_global(inquiries.document_not_needed, "document_not_needed")


SMS_STATES = {"queued": "در صف", "held": "نگه‌داشته (سقف روزانه)", "sent": "فرستاده شد",
              "delivered": "رسید", "failed": "ناموفق", "cancelled": "لغو شد"}


def sms_state(status: str) -> str:
    """An SMS's state in Persian."""
    return SMS_STATES.get(status, status)
