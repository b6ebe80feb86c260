"""Personal data never goes to the kiosk's logs: national codes and mobile numbers are
redacted from every record of a kiosk logger (`redacted_logger`) and of the CLI's handler.
The kiosk never logs bodies; this filter is the second line."""

from __future__ import annotations

import logging
import re

_PERSONAL_NUMBER = re.compile(r"(?<![0-9۰-۹٠-٩])[0-9۰-۹٠-٩]{10,11}(?![0-9۰-۹٠-٩])")


class RedactPersonalData(logging.Filter):
    """Replaces runs of 10 or 11 digits (national codes, mobile numbers) in a log record.

    Tracking codes (16 digits) and ticket numbers stay readable.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _PERSONAL_NUMBER.sub("[redacted]", message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        return True


def redacted_logger(name: str) -> logging.Logger:
    """The logger `name`, with personal numbers redacted from what it logs."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactPersonalData) for f in logger.filters):
        logger.addFilter(RedactPersonalData())
    return logger
