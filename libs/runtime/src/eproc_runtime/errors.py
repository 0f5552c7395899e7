"""The one business error of every service, and the one handler that answers it.

A use case refuses a command by raising :class:`UseCaseError` (or one of the
subclasses that fix the HTTP status); nothing was changed, because the request's
unit of work rolls back. ``create_service_app`` installs :func:`on_use_case_error`,
which answers::

    {"detail": {"code": "<stable code>", "message": "<sentence>", "field"?: "...", ...}}

with the error's HTTP status and headers (``Retry-After`` on a 503, say).

``code`` is the contract: clients branch on it, and the user-facing front ends
(portal, edge pages) own the sentence in the user's language (nl, fr, de, en)
for each code, so that a service never has to know who reads its answer. The
``message`` is the plain English sentence for developers and logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict


class UseCaseError(Exception):
    """A command was refused; nothing changed (R-NF-3).

    ``code`` is stable (clients branch on it), ``status`` the HTTP status (the
    subclass's, or ``http_status``), ``message`` one sentence saying what to
    do. ``field`` names the input at fault; ``extra`` travels in the body too
    (``None`` values are left out).
    """

    status: ClassVar[int] = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if http_status is not None:
            self.status = http_status  # type: ignore[misc]  # an instance may differ from its class
        self.field = field
        self.headers = dict(headers or {})
        self.extra = {k: v for k, v in extra.items() if v is not None}

    def detail(self) -> dict[str, Any]:
        """The body's ``detail``: code, message, field (when known) and the extras."""
        detail: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            detail["field"] = self.field
        detail.update(self.extra)
        return detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.code!r}, {self.message!r})"


class Unauthenticated(UseCaseError):
    """The caller's credentials do not hold (401)."""

    status = 401


class Forbidden(UseCaseError):
    """The caller may not do this (403)."""

    status = 403


class NotFound(UseCaseError):
    """The thing the command names does not exist, or the caller may not know of it (404)."""

    status = 404


class Conflict(UseCaseError):
    """The command clashes with the current state (409)."""

    status = 409


class Invalid(UseCaseError):
    """The input breaks a business rule (422)."""

    status = 422


class Unavailable(UseCaseError):
    """Something the use case needs cannot be reached; try again later (503)."""

    status = 503


def error_response(error: UseCaseError) -> JSONResponse:
    """The answer to ``error``, for a route that must answer a refusal rather than
    raise it (so that what the use case recorded, a failed-login counter say, commits)."""
    return JSONResponse(
        status_code=error.status, content={"detail": error.detail()}, headers=error.headers or None
    )


async def on_use_case_error(_request: Request, exc: Exception) -> JSONResponse:
    """The exception handler ``create_service_app`` registers for :class:`UseCaseError`."""
    assert isinstance(exc, UseCaseError)
    return error_response(exc)


class ErrorDetail(BaseModel):
    """The ``detail`` of a business error (OpenAPI documentation of the body above)."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    field: str | None = None


class FieldProblem(BaseModel):
    """One entry of FastAPI's own validation error list (a malformed request, 422)."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(BaseModel):
    """Every 4xx body: a business error, or (422 only) FastAPI's list of field problems."""

    detail: ErrorDetail | list[FieldProblem]
