"""API errors: a stable machine-readable `code`, a Persian `message`, the right status."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


class ApiError(Exception):
    """An error answered to an API client as `{"code", "message", …}`."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(code)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self) -> tuple[Response, int]:
        return jsonify(code=self.code, message=self.message, **self.extra), self.status
