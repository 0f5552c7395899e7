"""Register a new organisation (R-ORG-3, R-REQ-9): a request to the parent's
Superusers (sub-organisation) or to a platform operator (top level); the
registering buyer becomes its Superuser once it is approved."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError, FieldProblem
from eproc_portal.messages import ENTERPRISE_NUMBER_EXAMPLE, field_errors, field_message
from eproc_portal.web import flash, redirect, render, services_of

router = APIRouter()

NAME_FIELDS = ("name_nl", "name_fr", "name_de", "name_en")
ADDRESS_FIELDS = ("street", "number", "postcode", "municipality")
FIELDS = (*NAME_FIELDS, "enterprise_number", *ADDRESS_FIELDS)
REQUIRED = ("enterprise_number", "street", "postcode", "municipality")


def enterprise_number(value: str) -> str | None:
    """``0123.456.749`` or ``0123456749`` → ``0123456749`` when the mod-97 check holds."""
    digits = re.sub(r"[\s.]", "", value)
    if not re.fullmatch(r"[01]\d{9}", digits):
        return None
    return digits if 97 - int(digits[:8]) % 97 == int(digits[8:]) else None


def _service_field(name: str) -> str:
    """The form field a service's error names (``names.nl``, ``address.street``, …)."""
    head, _, tail = name.partition(".")
    if head == "names":
        return f"name_{tail}" if tail else "name_nl"
    if head == "address":
        return tail
    return head


async def _page(
    request: Request,
    token: str,
    parent_id: UUID | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    parent = None
    if parent_id is not None:
        parent = await services_of(request).organisations.organisation(
            token, parent_id, i18n.current_language.get()
        )
    return render(
        request,
        "organisation_register.html",
        {
            "parent": parent,
            "values": values,
            "errors": errors or {},
            "general": general or [],
            "example": ENTERPRISE_NUMBER_EXAMPLE,
        },
        status=status,
    )


@router.get("/organisations/register")
async def registration_form(
    request: Request, token: AccessToken, parent: Annotated[UUID | None, Query()] = None
) -> Response:
    return await _page(request, token, parent, {})


@router.post("/organisations/register")
async def register_organisation(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    try:
        parent_id = UUID(str(form["parent_id"])) if form.get("parent_id") else None
    except ValueError:
        parent_id = None
    errors = {name: field_message("required") for name in REQUIRED if not values[name]}
    if not any(values[n] for n in NAME_FIELDS):
        errors["name_nl"] = field_message("name_required")
    number = enterprise_number(values["enterprise_number"])
    if values["enterprise_number"] and number is None:
        errors["enterprise_number"] = field_message("invalid_enterprise_number")
    if errors:
        return await _page(request, token, parent_id, values, errors, status=422)
    proposal: dict[str, Any] = {
        "parent_id": str(parent_id) if parent_id else None,
        "names": {n[5:]: values[n] for n in NAME_FIELDS if values[n]},
        "enterprise_number": number,
        "address": {k: values[k] for k in ADDRESS_FIELDS},
    }
    try:
        await services_of(request).requests.register_organisation(token, proposal)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        error.fields = [FieldProblem(_service_field(p.field), p.code) for p in error.fields]
        fields, general = field_errors(error, set(FIELDS))
        return await _page(request, token, parent_id, values, fields, general, status=422)
    flash(request, i18n.gettext("Your request to register the organisation has been submitted."))
    return redirect("/my-requests")
