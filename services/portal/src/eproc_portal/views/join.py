"""Join organisations (R-REQ-1..3, R-ORG-2): browse the tree or search by name,
"show in tree", tick several and "Select"; the basket "Join requests awaiting
submission" (kept by the requests service, so it survives logout); edit roles
for one or several entries with the role descriptions; submit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_contracts.common import RoleGrant
from eproc_contracts.directory import OrganisationOut
from eproc_contracts.requests import BasketEntryOut
from eproc_contracts.roles import RoleCatalogue
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.catalogue import applications, role_label
from eproc_portal.clients.base import ApiError
from eproc_portal.i18n import N_
from eproc_portal.messages import general_message
from eproc_portal.views.forms import common_roles, role_grants
from eproc_portal.views.forms import uuids as _uuids
from eproc_portal.views.tree import expand_tree as _tree
from eproc_portal.web import Services, flash, redirect, render, services_of, take_flashes

router = APIRouter()

_MAX_OPEN = 12
"""Expanded tree nodes kept in the address; enough for any path to the root."""


@dataclass(frozen=True)
class BasketRow:
    """A basket entry as the list shows it: the organisation's name and the roles'."""

    organisation_id: str
    name: str
    roles: list[RoleGrant]
    role_labels: list[str]


async def _names(services: Services, token: str, ids: list[str], lang: str) -> dict[str, str]:
    """Organisation ids to names; one the directory no longer knows is left out."""
    found = await asyncio.gather(
        *(services.organisations.organisation(token, UUID(i), lang) for i in ids),
        return_exceptions=True,
    )
    return {i: o.name for i, o in zip(ids, found, strict=True) if isinstance(o, OrganisationOut)}


async def _basket_rows(
    services: Services, token: str, entries: list[BasketEntryOut], catalogue: RoleCatalogue
) -> list[BasketRow]:
    lang = i18n.current_language.get()
    ids = [str(e.organisation_id) for e in entries]
    names = await _names(services, token, ids, lang)
    return [
        BasketRow(
            organisation_id=i,
            name=names.get(i, ""),
            roles=e.roles,
            role_labels=[role_label(catalogue, r, lang) for r in e.roles],
        )
        for i, e in zip(ids, entries, strict=True)
    ]


async def _page(
    request: Request,
    token: str,
    *,
    q: str = "",
    open_ids: list[str] | None = None,
    show: str | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    opened = set(open_ids or [])
    if show:
        path = await services.organisations.path(token, UUID(show), lang)
        opened |= {str(o.id) for o in path}
    roots, basket, catalogue = await asyncio.gather(
        services.organisations.roots(token, lang),
        services.requests.basket(token),
        services.organisations.roles(),
    )
    tree = await _tree(services, token, lang, roots.items, opened)
    hits: list[OrganisationOut] = []
    if q:
        hits = [h.organisation for h in (await services.organisations.search(token, q, lang)).items]
    entries = await _basket_rows(services, token, basket.entries, catalogue)
    return render(
        request,
        "join.html",
        {
            "q": q,
            "hits": hits,
            "tree": tree,
            "open_ids": sorted(opened)[:_MAX_OPEN],
            "show": show,
            "entries": entries,
            "errors": errors or {},
            "row_errors": row_errors or {},
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/join")
async def join_organisations(
    request: Request,
    token: AccessToken,
    q: Annotated[str, Query(max_length=200)] = "",
    open: Annotated[list[str] | None, Query()] = None,
    show: Annotated[str | None, Query()] = None,
) -> Response:
    open_ids = [str(i) for i in _uuids(open or [])]
    shown = _uuids([show]) if show else []
    return await _page(
        request, token, q=q.strip(), open_ids=open_ids, show=str(shown[0]) if shown else None
    )


@router.post("/join/select")
async def select_organisations(request: Request, token: AccessToken) -> Response:
    """ "Select": the ticked organisations go into the basket."""
    form = await request.form()
    ids = _uuids([str(v) for v in form.getlist("organisation_ids")])
    if not ids:
        message = i18n.gettext("Tick at least one organisation.")
        return await _page(request, token, errors={"select": message}, status=422)
    try:
        await services_of(request).requests.add_to_basket(token, ids)
    except ApiError as error:
        if error.status >= 500 or error.status in (401, 429) or error.code not in _SELECT_MESSAGES:
            raise
        return await _page(
            request,
            token,
            errors={"select": await _select_error(request, token, error)},
            status=422,
        )
    flash(request, i18n.gettext("The selected organisations are in your list."))
    return redirect("/join#basket")


_SELECT_MESSAGES = {
    "already_a_member": N_(
        "You are already a member of %(name)s: change your roles in My organisations instead. "
        "Nothing was added to your list."
    ),
    "request_in_progress": N_(
        "A request to join %(name)s is already in progress. Nothing was added to your list."
    ),
    "unknown_organisation": N_(
        "One of the ticked organisations does not exist (any more). Nothing was added to your list."
    ),
}


async def _select_error(request: Request, token: str, error: ApiError) -> str:
    """Issue 19, point 11: refused when selected, naming the organisation."""
    name = ""
    organisation = str(error.extra.get("organisation_id") or "")
    if organisation and error.code != "unknown_organisation":
        found = await _names(
            services_of(request), token, [organisation], i18n.current_language.get()
        )
        name = found.get(organisation, "")
    return i18n.gettext(_SELECT_MESSAGES[error.code], name=name)


@router.post("/join/basket")
async def basket_action(request: Request, token: AccessToken) -> Response:
    """Edit roles, submit or remove the ticked basket entries."""
    form = await request.form()
    action = str(form.get("action", ""))
    ids = _uuids([str(v) for v in form.getlist("organisation_ids")])
    if not ids:
        message = i18n.gettext("Tick at least one organisation in the list.")
        return await _page(request, token, errors={"basket": message}, status=422)
    requests = services_of(request).requests
    if action == "edit_roles":
        return redirect("/join/roles?" + urlencode([("id", str(i)) for i in ids]))
    try:
        if action == "submit":
            await requests.submit_basket(token, ids)
            flash(request, i18n.gettext("Your join requests have been submitted."))
            return redirect("/my-requests")
        if action == "remove":
            await requests.remove_from_basket(token, ids)
            return redirect("/join#basket")
    except ApiError as error:
        return await _basket_error(request, token, error)
    message = i18n.gettext("Choose one of the options.")
    return await _page(request, token, errors={"basket": message}, status=422)


_ROW_MESSAGES = {
    "roles_required": N_("Choose at least one role before submitting (Edit roles)."),
    "already_a_member": N_("You are already a member; change your roles there instead."),
    "request_in_progress": N_("A request for this organisation is already in progress."),
    "unknown_role": N_("A role no longer exists; edit the roles."),
}


async def _basket_error(request: Request, token: str, error: ApiError) -> Response:
    organisation = str(error.extra.get("organisation_id") or "")
    if error.code in _ROW_MESSAGES and organisation:
        row = {organisation: i18n.gettext(_ROW_MESSAGES[error.code])}
        message = i18n.gettext("Nothing was submitted. Please correct the marked organisation.")
        return await _page(request, token, errors={"basket": message}, row_errors=row, status=422)
    if error.status >= 500 or error.status in (401, 429):
        raise error  # the app's handler: a 429 page with Retry-After, nothing submitted
    return await _page(request, token, errors={"basket": general_message(error)}, status=422)


@router.get("/join/roles")
async def edit_roles_form(
    request: Request, token: AccessToken, id: Annotated[list[str] | None, Query()] = None
) -> Response:
    ids = _uuids(id or [])
    if not ids:
        return redirect("/join")
    return await _roles_page(request, token, ids)


async def _roles_page(
    request: Request,
    token: str,
    ids: list[UUID],
    error: str | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    basket, catalogue = await asyncio.gather(
        services.requests.basket(token), services.organisations.roles()
    )
    wanted = set(ids)
    entries = await _basket_rows(
        services, token, [e for e in basket.entries if e.organisation_id in wanted], catalogue
    )
    # One entry: tick its current roles; several: start from their common roles.
    return render(
        request,
        "join_roles.html",
        {
            "entries": entries,
            "names": {e.organisation_id: e.name for e in entries},
            "applications": applications(catalogue, lang),
            "chosen": common_roles(e.roles for e in entries),
            "error": error,
            "form_action": "/join/roles",
            "cancel_url": "/join#basket",
            "intro": i18n.gettext("The roles you choose apply to:"),
        },
        status=status,
    )


@router.post("/join/roles")
async def save_roles(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    ids = _uuids([str(v) for v in form.getlist("organisation_ids")])
    if not ids:
        return redirect("/join")
    roles = role_grants(form.getlist("roles"))
    if not roles:
        message = i18n.gettext("Choose at least one role.")
        return await _roles_page(request, token, ids, message, status=422)
    try:
        await services_of(request).requests.set_basket_roles(token, ids, roles)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        return await _roles_page(request, token, ids, general_message(error), status=422)
    flash(request, i18n.gettext("The roles have been saved."))
    return redirect("/join#basket")
