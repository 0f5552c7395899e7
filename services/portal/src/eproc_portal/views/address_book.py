"""Address book (R-PROF-2): the buyer's personal contacts, searchable; add and
remove. Applications read the same contacts through identity's API."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.messages import EMAIL_EXAMPLE, PHONE_EXAMPLE, field_errors, field_message
from eproc_portal.web import flash, redirect, render, services_of, take_flashes

router = APIRouter()

FIELDS = ("name", "organisation", "email", "phone", "note")


async def _page(
    request: Request,
    token: str,
    q: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    page = await services_of(request).identity.contacts(token, q or None)
    return render(
        request,
        "address_book.html",
        {
            "q": q,
            "contacts": page.items,
            "total": page.total,
            "values": values or {},
            "errors": errors or {},
            "general": general or [],
            "examples": {"email": EMAIL_EXAMPLE, "phone": PHONE_EXAMPLE},
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/address-book")
async def address_book(
    request: Request, token: AccessToken, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    return await _page(request, token, q.strip())


@router.post("/address-book")
async def add_contact(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    if not values["name"]:
        return await _page(
            request, token, values=values, errors={"name": field_message("required")}, status=422
        )
    contact = {k: v for k, v in values.items() if v}
    try:
        await services_of(request).identity.add_contact(token, contact)
    except ApiError as error:
        if error.status != 422:
            raise
        fields, general = field_errors(error, set(FIELDS))
        return await _page(
            request, token, values=values, errors=fields, general=general, status=422
        )
    flash(request, i18n.gettext("The contact has been added."))
    return redirect("/address-book")


@router.post("/address-book/{contact_id}/delete")
async def delete_contact(request: Request, token: AccessToken, contact_id: UUID) -> Response:
    await services_of(request).identity.delete_contact(token, contact_id)
    flash(request, i18n.gettext("The contact has been removed."))
    return redirect("/address-book")
