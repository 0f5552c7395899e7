"""Business errors of the use cases; ``api.py`` turns them into HTTP answers
``{"detail": {"code", "message", "field"?, ...}}`` with a stable ``code``."""

from __future__ import annotations

from typing import Any


class RequestsError(Exception):
    """A command was refused; nothing changed (R-NF-3)."""

    status_code = 400

    def __init__(self, code: str, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra

    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            detail["field"] = self.field
        detail.update(self.extra)
        return detail


class NotFound(RequestsError):
    status_code = 404


class Forbidden(RequestsError):
    status_code = 403


class Conflict(RequestsError):
    status_code = 409


class Invalid(RequestsError):
    status_code = 422


class Unavailable(RequestsError):
    status_code = 503
