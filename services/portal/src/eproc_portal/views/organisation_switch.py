""" "Change organisation" (R-SSO-2), kept by the edge's SSO session."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from eproc_contracts.common import name_in_language
from eproc_contracts.directory import MyMembership
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.messages import general_message
from eproc_portal.web import flash, redirect, render, services_of, take_flashes

router = APIRouter()


def _page(
    request: Request, memberships: list[MyMembership], error: str | None, status: int = 200
) -> Response:
    active = str((request.session.get("active_organisation") or {}).get("id"))
    return render(
        request,
        "change_organisation.html",
        {
            "memberships": memberships,
            "active_id": next(
                (m.organisation.id for m in memberships if str(m.organisation.id) == active), None
            ),
            "error": error,
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/change-organisation")
async def change_organisation_form(request: Request, token: AccessToken) -> Response:
    memberships = await services_of(request).organisations.my_organisations(
        token, i18n.current_language.get()
    )
    return _page(request, memberships, None)


@router.post("/change-organisation")
async def change_organisation(
    request: Request, token: AccessToken, organisation_id: Annotated[str, Form()] = ""
) -> Response:
    services = services_of(request)
    memberships = await services.organisations.my_organisations(token, i18n.current_language.get())
    try:
        chosen = UUID(organisation_id)
    except ValueError:
        return _page(request, memberships, i18n.gettext("Choose one of the options."), 422)
    if services.edge is None:
        raise ApiError(503, "service_unavailable")
    try:
        result = await services.edge.change_organisation(token, chosen)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        return _page(request, memberships, general_message(error), 422)
    request.session["active_organisation"] = {
        "id": str(chosen),
        "name": result.get("name"),
        "names": result.get("names") or {},
    }
    # The next call refreshes the token, which then carries the new organisation (R-SSO-4).
    tokens = dict(request.session.get("tokens") or {})
    tokens["expires_at"] = 0
    request.session["tokens"] = tokens
    request.session.pop("topbar", None)
    name = name_in_language(result.get("names"), i18n.current_language.get()) or result.get("name")
    flash(request, i18n.gettext("You now work for %(name)s.", name=name or ""))
    return redirect("/home")
