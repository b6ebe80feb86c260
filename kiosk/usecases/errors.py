"""What a use case raises when the citizen must be told something: `message` is Persian, for
the screen as it is; `detail` is for the log (never personal data)."""

from __future__ import annotations

from collections.abc import Mapping

FORM_INVALID = "برخی از اطلاعات واردشده درست نیست؛ لطفاً موارد مشخص‌شده را اصلاح کنید."


class KioskError(Exception):
    """Something the citizen must be told: `message` is Persian, `detail` is for the log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message, self.detail = message, detail


class CannotIssue(KioskError):
    """No ticket from this kiosk now (no numbers, out of touch, queue closed); the message
    sends the citizen to reception."""


class InvalidForm(KioskError):
    """The form has errors: `errors` maps "applicant.<name>" / "fields.<name>" to Persian."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(FORM_INVALID, f"{len(errors)} field error(s)")
        self.errors = dict(errors)


class NotFound(KioskError):
    """No such request or receipt."""


class ScanFailed(KioskError):
    """The document could not be scanned or prepared for upload."""
