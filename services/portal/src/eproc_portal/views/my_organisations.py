"""My organisations (R-MEM-1, R-MEM-2): memberships with their roles, the
default organisation's green tick and the grey ticks that make another one the
default; edit roles (a role-change request, R-REQ-6) and leave (a leave request,
R-REQ-7, refused up front when R-REQ-8 forbids it) for one or several."""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_contracts.directory import MyMembership
from eproc_contracts.roles import RoleCatalogue
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.catalogue import applications, role_label
from eproc_portal.clients.base import ApiError
from eproc_portal.confirmations import confirmation_page, confirmed
from eproc_portal.i18n import N_
from eproc_portal.messages import general_message
from eproc_portal.topbar import remember_superuser
from eproc_portal.views.forms import common_roles, role_grants
from eproc_portal.views.forms import uuids as _uuids
from eproc_portal.views.superuser import last_superuser_organisations
from eproc_portal.web import current_user, flash, redirect, render, services_of, take_flashes

router = APIRouter()

REFUSALS = {
    "last_superuser": N_(
        "You are the last Superuser of this organisation: appoint another Superuser "
        "before you leave or give up the role."
    ),
    "last_role_holder": N_("You are the last holder of a role this organisation must keep."),
    "linked_dossiers": N_("You are linked to dossiers of this organisation."),
    "not_a_member": N_("You are not a member of this organisation."),
    "request_in_progress": N_("A request for this organisation is already in progress."),
    "no_change": N_("You already hold exactly these roles here."),
}


def _user_id(request: Request) -> UUID | None:
    found = _uuids([(current_user(request) or {}).get("id", "")])
    return found[0] if found else None


async def _sole_superuser_refusals(
    request: Request, token: str, ids: list[UUID]
) -> dict[UUID, str]:
    """Row messages for the chosen organisations the user may not leave (nor give up
    the Superuser role in): they are its last Superuser (R-REQ-8), told before any
    confirmation or request."""
    memberships = await services_of(request).organisations.my_organisations(
        token, i18n.current_language.get()
    )
    wanted = set(ids)
    chosen = [m for m in memberships if m.organisation.id in wanted]
    last = await last_superuser_organisations(request, token, chosen, _user_id(request))
    return {o: i18n.gettext(REFUSALS["last_superuser"]) for o in last}


class ShownMembership(MyMembership):
    """A membership with its roles' names in the page's language."""

    role_labels: list[str]


def shown_memberships(
    memberships: list[MyMembership], catalogue: RoleCatalogue, lang: str
) -> list[ShownMembership]:
    return [
        ShownMembership(**dict(m), role_labels=[role_label(catalogue, r, lang) for r in m.roles])
        for m in memberships
    ]


async def _page(
    request: Request,
    token: str,
    errors: dict[str, str] | None = None,
    row_errors: dict[UUID, str] | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    found, catalogue = await asyncio.gather(
        services.organisations.my_organisations(token, lang), services.organisations.roles()
    )
    memberships = shown_memberships(found, catalogue, lang)
    remember_superuser(request, found)
    last = await last_superuser_organisations(request, token, found, _user_id(request))
    return render(
        request,
        "my_organisations.html",
        {
            "memberships": memberships,
            # R-REQ-8 before anything is asked: where the user cannot leave.
            "last_superuser_of": last,
            "errors": errors or {},
            "row_errors": row_errors or {},
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/my-organisations")
async def my_organisations(request: Request, token: AccessToken) -> Response:
    return await _page(request, token)


@router.post("/my-organisations/default")
async def set_default(request: Request, token: AccessToken) -> Response:
    """A grey tick clicked: that organisation becomes the default one."""
    form = await request.form()
    ids = _uuids([form.get("organisation_id", "")])
    if not ids:
        return await _page(
            request, token, {"default": i18n.gettext("Choose one of the options.")}, status=422
        )
    try:
        await services_of(request).organisations.set_default_organisation(token, ids[0])
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        return await _page(request, token, {"default": general_message(error)}, status=422)
    flash(request, i18n.gettext("Your default organisation has been changed."))
    return redirect("/my-organisations")


@router.post("/my-organisations/action")
async def membership_action(request: Request, token: AccessToken) -> Response:
    """Edit roles or leave, for the ticked organisations."""
    form = await request.form()
    action = str(form.get("action", ""))
    ids = _uuids(form.getlist("organisation_ids"))
    if not ids:
        message = i18n.gettext("Tick at least one organisation in the list.")
        return await _page(request, token, {"memberships": message}, status=422)
    if action == "edit_roles":
        return redirect("/my-organisations/roles?" + urlencode([("id", str(i)) for i in ids]))
    if action != "leave":
        message = i18n.gettext("Choose one of the options.")
        return await _page(request, token, {"memberships": message}, status=422)
    refusals = await _sole_superuser_refusals(request, token, ids)
    if refusals:
        message = i18n.gettext("Nothing was submitted. Please correct the marked organisation.")
        return await _page(request, token, {"memberships": message}, refusals, status=422)
    if not confirmed(form):
        return await _confirm_leave(request, token, ids)
    try:
        await services_of(request).requests.request_leaves(token, ids)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        rows = {
            organisation: i18n.gettext(REFUSALS[str(r.get("reason"))])
            for r in error.extra.get("refusals") or []
            if r.get("reason") in REFUSALS
            for organisation in _uuids([r.get("organisation_id")])
        }
        message = (
            i18n.gettext("Nothing was submitted. Please correct the marked organisation.")
            if rows
            else general_message(error)
        )
        return await _page(request, token, {"memberships": message}, rows, status=422)
    flash(
        request,
        i18n.gettext("Your leave requests have been submitted. You leave once they are approved."),
    )
    return redirect("/my-requests")


async def _confirm_leave(request: Request, token: str, ids: list[UUID]) -> Response:
    """Issue 19, point 6: leaving takes every role there once approved; say so first."""
    memberships = await services_of(request).organisations.my_organisations(
        token, i18n.current_language.get()
    )
    wanted = set(ids)
    names = [m.organisation.name for m in memberships if m.organisation.id in wanted]
    return confirmation_page(
        request,
        title=i18n.ngettext("Leave this organisation?", "Leave these organisations?", len(ids)),
        consequence=i18n.gettext(
            "A leave request goes to the Superusers of each organisation. Once it is approved, "
            "you lose every role you hold there and no longer see its data in the platform's "
            "applications. To come back, you must ask to join again and wait for approval."
        ),
        confirm_label=i18n.gettext("Yes, leave"),
        action="/my-organisations/action",
        hidden=[("action", "leave"), *(("organisation_ids", str(i)) for i in ids)],
        cancel_url="/my-organisations",
        items=names,
    )


async def _roles_page(
    request: Request, token: str, ids: list[UUID], error: str | None = None, status: int = 200
) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    memberships, catalogue = await asyncio.gather(
        services.organisations.my_organisations(token, lang), services.organisations.roles()
    )
    wanted = set(ids)
    chosen_memberships = [m for m in memberships if m.organisation.id in wanted]
    chosen = common_roles(m.roles for m in chosen_memberships)
    return render(
        request,
        "join_roles.html",
        {
            "entries": [{"organisation_id": m.organisation.id} for m in chosen_memberships],
            "names": {m.organisation.id: m.organisation.name for m in chosen_memberships},
            "applications": applications(catalogue, lang, held=chosen),
            "chosen": chosen,
            "error": error,
            "form_action": "/my-organisations/roles",
            "cancel_url": "/my-organisations",
            "intro": i18n.gettext(
                "Your new roles take effect once a Superuser approves them. They apply to:"
            ),
        },
        status=status,
    )


@router.get("/my-organisations/roles")
async def edit_roles_form(
    request: Request, token: AccessToken, id: Annotated[list[str] | None, Query()] = None
) -> Response:
    ids = _uuids(id or [])
    if not ids:
        return redirect("/my-organisations")
    return await _roles_page(request, token, ids)


@router.post("/my-organisations/roles")
async def request_role_changes(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    ids = _uuids(form.getlist("organisation_ids"))
    if not ids:
        return redirect("/my-organisations")
    roles = role_grants(form.getlist("roles"))
    if not roles:
        return await _roles_page(
            request, token, ids, i18n.gettext("Choose at least one role."), status=422
        )
    try:
        await services_of(request).requests.request_role_changes(token, ids, roles)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        message = (
            i18n.gettext(REFUSALS[error.code]) if error.code in REFUSALS else general_message(error)
        )
        return await _roles_page(request, token, ids, message, status=422)
    flash(
        request,
        i18n.gettext(
            "Your role change requests have been submitted. They take effect once approved."
        ),
    )
    return redirect("/my-requests")
