"""Business errors of the use cases; the API turns them into HTTP errors with a stable code."""

from __future__ import annotations

from eproc_contracts.events import RefusalReason


class OrganisationsError(Exception):
    """A command that cannot be carried out; nothing was changed."""

    status = 400

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def detail(self) -> dict[str, str]:
        body = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class NotFound(OrganisationsError):
    status = 404


class Forbidden(OrganisationsError):
    status = 403


class Conflict(OrganisationsError):
    status = 409


class Invalid(OrganisationsError):
    status = 422


class ChangeRefused(Conflict):
    """A membership change the rules forbid (R-REQ-8 and friends), with the reason code the
    ``membership.change-refused`` event carries when it happens at apply time."""

    def __init__(self, reason: RefusalReason, message: str, *, field: str | None = None) -> None:
        super().__init__(reason.value, message, field=field)
        self.reason = reason
