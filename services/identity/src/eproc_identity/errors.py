"""Errors that reach a client, in one stable shape.

Every 4xx body is ``{"detail": {"code", "message", "field"?, "errors"?}}``. A
422 lists one entry per bad field (``field``, ``code``, ``message``) and never
echoes the submitted value back: a password must not travel back in an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from eproc_runtime.errors import Invalid, error_response

# pydantic's error types mapped to the codes of our API; our own validators
# raise PydanticCustomError with the final code already.
_PYDANTIC_CODES = {
    "missing": "required",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "string_pattern_mismatch": "invalid_format",
    "enum": "invalid_choice",
    "literal_error": "invalid_choice",
    "extra_forbidden": "not_editable",
    "string_type": "invalid_type",
    "bool_type": "invalid_type",
    "bool_parsing": "invalid_type",
    "int_parsing": "invalid_type",
    "uuid_parsing": "invalid_format",
    "json_invalid": "invalid_json",
    "model_attributes_type": "invalid_type",
    "dict_type": "invalid_type",
}

_MESSAGES = {
    "required": "This field is required.",
    "not_editable": "This field cannot be set here.",
    "invalid_choice": "This value is not one of the allowed choices.",
    "invalid_json": "The request body is not valid JSON.",
}


class FieldErrorOut(BaseModel):
    field: str = Field(examples=["phone"])
    code: str = Field(examples=["invalid_phone"])
    message: str = Field(
        examples=["Enter a Belgian or international number, e.g. +32 2 511 11 11."]
    )


class ErrorOut(BaseModel):
    code: str = Field(examples=["already_registered"])
    message: str
    field: str | None = None
    errors: list[FieldErrorOut] | None = None
    login_url: str | None = None


class ErrorResponse(BaseModel):
    """The body of every 4xx answer."""

    detail: ErrorOut


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class ValidationFailed(Invalid):
    """One or more fields break a business rule (answered as a 422 listing them)."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__(
            "validation_failed",
            "Some fields are not valid.",
            errors=[{"field": e.field, "code": e.code, "message": e.message} for e in errors],
        )
        self.errors = list(errors)


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _from_pydantic(error: dict[str, Any]) -> FieldError:
    kind = str(error.get("type", "invalid"))
    code = _PYDANTIC_CODES.get(kind, kind)
    message = _MESSAGES.get(code) or str(error.get("msg", "Invalid value."))
    if not message.endswith("."):
        message += "."
    return FieldError(_field_name(error.get("loc", ())), code, message)


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(ValidationFailed([_from_pydantic(dict(e)) for e in exc.errors()]))


def install_error_handlers(app: FastAPI) -> None:
    """Answer malformed requests in the field-level shape above, like the use cases'
    ``ValidationFailed`` (which the runtime's handler answers)."""
    app.add_exception_handler(RequestValidationError, _request_validation_error)
