"""A Superuser's members and organisation data (R-SU-1, R-ORG-4): list the
members, edit the roles of one or several, remove members (R-REQ-8 applies),
add an existing user by username, and edit the organisation's names and address."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_contracts.directory import MemberOut, OrganisationOut
from eproc_contracts.roles import holds_superuser
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.catalogue import applications, role_label
from eproc_portal.clients.base import ApiError, FieldProblem
from eproc_portal.confirmations import confirmation_page, confirmed
from eproc_portal.i18n import N_
from eproc_portal.messages import field_errors, field_message, general_message
from eproc_portal.views.forms import common_roles, role_grants, role_keys
from eproc_portal.views.forms import uuids as _uuids
from eproc_portal.views.my_organisations import REFUSALS
from eproc_portal.views.superuser import sole_superusers, superuser_organisations
from eproc_portal.web import flash, redirect, render, services_of, take_flashes

router = APIRouter()

MEMBER_ERRORS = {
    **REFUSALS,
    "last_superuser": N_(
        "This member is the organisation's last Superuser: make another member Superuser first."
    ),
    "last_role_holder": N_("This member is the last holder of a role the organisation must keep."),
    "linked_dossiers": N_("This member is linked to dossiers of this organisation."),
    "already_a_member": N_("This user is already a member."),
    "user_not_found": N_("No user has this username."),
    "unknown_user": N_("No user has this username."),
}


def _message(error: ApiError) -> str:
    if error.code in MEMBER_ERRORS:
        return i18n.gettext(MEMBER_ERRORS[error.code])
    return general_message(error)


class ShownMember(MemberOut):
    """A member with their roles' names in the page's language."""

    role_labels: list[str]


async def _organisation(
    request: Request, token: str, wanted: str | None
) -> tuple[list[OrganisationOut], OrganisationOut | None]:
    """The organisations where the user is Superuser, and the one shown."""
    organisations = await superuser_organisations(request, token)
    active = (request.session.get("active_organisation") or {}).get("id")
    by_id = {str(o.id): o for o in organisations}
    chosen = by_id.get(wanted or "") or by_id.get(active or "") or next(iter(organisations), None)
    return organisations, chosen


async def _members_page(
    request: Request,
    token: str,
    wanted: str | None,
    *,
    errors: dict[str, str] | None = None,
    row_errors: dict[UUID, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    organisations, chosen = await _organisation(request, token, wanted)
    if chosen is None:
        message = i18n.gettext("You are not a Superuser of any organisation.")
        return render(request, "error.html", {"message": message}, status=403)
    services = services_of(request)
    lang = i18n.current_language.get()
    found, catalogue = await asyncio.gather(
        services.organisations.members(token, chosen.id),
        services.organisations.roles(),
    )
    members = [
        ShownMember(**dict(m), role_labels=[role_label(catalogue, r, lang) for r in m.roles])
        for m in found
    ]
    return render(
        request,
        "superuser_members.html",
        {
            "organisations": organisations,
            "chosen": chosen,
            "members": members,
            # R-REQ-8 before anything is asked: whom removing would leave without a Superuser.
            "last_superusers": sole_superusers(found, {m.user_id for m in found}),
            "applications": applications(catalogue, lang),
            "errors": errors or {},
            "row_errors": row_errors or {},
            "values": values or {},
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/superuser/members")
async def members(
    request: Request, token: AccessToken, organisation: Annotated[str | None, Query()] = None
) -> Response:
    return await _members_page(request, token, organisation)


@router.post("/superuser/members/add")
async def add_member(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    organisation = str(form.get("organisation_id", ""))
    username = str(form.get("username", "")).strip()
    roles = role_grants(form.getlist("roles"))
    values = {"username": username, "roles": role_keys(roles)}
    errors = {}
    if not username:
        errors["username"] = field_message("required")
    if not roles:
        errors["roles"] = field_message("no_roles")
    if errors or not _uuids([organisation]):
        return await _members_page(
            request, token, organisation, errors=errors, values=values, status=422
        )
    try:
        await services_of(request).organisations.add_member(
            token, UUID(organisation), username, roles
        )
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        return await _members_page(
            request,
            token,
            organisation,
            errors={"username": _message(error)},
            values=values,
            status=422,
        )
    flash(request, i18n.gettext("The member has been added."))
    return redirect(f"/superuser/members?organisation={organisation}")


@router.post("/superuser/members/action")
async def member_action(request: Request, token: AccessToken) -> Response:
    """Edit roles or remove, for the ticked members."""
    form = await request.form()
    organisation = str(form.get("organisation_id", ""))
    users = _uuids(form.getlist("user_ids"))
    action = str(form.get("action", ""))
    if not users or action not in {"edit_roles", "remove"} or not _uuids([organisation]):
        message = i18n.gettext("Tick at least one member.")
        return await _members_page(
            request, token, organisation, errors={"members": message}, status=422
        )
    if action == "edit_roles":
        query = [("organisation", organisation), *[("user", str(u)) for u in users]]
        return redirect("/superuser/members/roles?" + urlencode(query))
    # The last Superuser cannot go: said now, beside their name, not after "Yes, remove".
    found = await services_of(request).organisations.members(token, UUID(organisation))
    last = sole_superusers(found, set(users))
    if last:
        message = i18n.gettext("Nothing was removed: see the marked rows.")
        refusals = {u: i18n.gettext(MEMBER_ERRORS["last_superuser"]) for u in last}
        return await _members_page(
            request,
            token,
            organisation,
            errors={"members": message},
            row_errors=refusals,
            status=409,
        )
    if not confirmed(form):
        return await _confirm_removal(request, token, organisation, users)
    rows: dict[UUID, str] = {}
    removed = 0
    for user in users:
        try:
            await services_of(request).organisations.remove_member(token, UUID(organisation), user)
            removed += 1
        except ApiError as error:
            if error.status >= 500 or error.status == 401:
                raise
            rows[user] = _message(error)
    if rows:
        message = i18n.gettext("Not every member could be removed: see the marked rows.")
        return await _members_page(
            request, token, organisation, errors={"members": message}, row_errors=rows, status=409
        )
    flash(request, i18n.gettext("The members have been removed."))
    return redirect(f"/superuser/members?organisation={organisation}")


async def _confirm_removal(
    request: Request, token: str, organisation: str, users: list[UUID]
) -> Response:
    """Issue 19, point 6: removing takes every role at once; say so and ask first."""
    _, chosen = await _organisation(request, token, organisation)
    members = await services_of(request).organisations.members(token, UUID(organisation))
    wanted = set(users)
    names = [
        f"{m.given_name or ''} {m.family_name or ''}".strip() or m.username or ""
        for m in members
        if m.user_id in wanted
    ]
    consequence = i18n.gettext(
        "They lose every role they hold in %(organisation)s at once and no longer see its "
        "data in the platform's applications. Each of them is told by email. To undo it, "
        "add them again and choose their roles anew.",
        organisation=chosen.name if chosen else "",
    )
    return confirmation_page(
        request,
        title=i18n.ngettext(
            "Remove this member from the organisation?",
            "Remove these members from the organisation?",
            len(users),
        ),
        consequence=consequence,
        confirm_label=i18n.gettext("Yes, remove"),
        action="/superuser/members/action",
        hidden=[
            ("organisation_id", organisation),
            ("action", "remove"),
            *(("user_ids", str(u)) for u in users),
        ],
        cancel_url=f"/superuser/members?organisation={organisation}",
        items=names,
    )


async def _roles_page(
    request: Request,
    token: str,
    organisation: str,
    users: list[UUID],
    error: str | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    found, catalogue = await asyncio.gather(
        services.organisations.members(token, UUID(organisation)),
        services.organisations.roles(),
    )
    wanted = set(users)
    chosen_members = [m for m in found if m.user_id in wanted]
    last = sole_superusers(found, wanted)
    chosen = common_roles(m.roles for m in chosen_members)
    return render(
        request,
        "superuser_member_roles.html",
        {
            "organisation": organisation,
            "members": chosen_members,
            "applications": applications(catalogue, lang, held=chosen),
            "chosen": chosen,
            "error": error,
            # Their Superuser role stays (R-REQ-8): said before they choose.
            "last_superusers": [
                f"{m.given_name or ''} {m.family_name or ''}".strip()
                for m in chosen_members
                if m.user_id in last
            ],
        },
        status=status,
    )


@router.get("/superuser/members/roles")
async def member_roles_form(
    request: Request,
    token: AccessToken,
    organisation: Annotated[str, Query()] = "",
    user: Annotated[list[str] | None, Query()] = None,
) -> Response:
    users = _uuids(user or [])
    if not users or not _uuids([organisation]):
        return redirect("/superuser/members")
    return await _roles_page(request, token, organisation, users)


@router.post("/superuser/members/roles")
async def save_member_roles(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    organisation = str(form.get("organisation_id", ""))
    users = _uuids(form.getlist("user_ids"))
    roles = role_grants(form.getlist("roles"))
    if not users or not _uuids([organisation]):
        return redirect("/superuser/members")
    if not roles:
        message = i18n.gettext("Choose at least one role.")
        return await _roles_page(request, token, organisation, users, message, status=422)
    if not holds_superuser(roles):
        found = await services_of(request).organisations.members(token, UUID(organisation))
        if sole_superusers(found, set(users)):
            # Refused before any member's roles change (not halfway through the list).
            message = i18n.gettext(MEMBER_ERRORS["last_superuser"])
            return await _roles_page(request, token, organisation, users, message, status=409)
    for user in users:
        try:
            await services_of(request).organisations.change_member_roles(
                token, UUID(organisation), user, roles
            )
        except ApiError as error:
            if error.status >= 500 or error.status == 401:
                raise
            return await _roles_page(
                request, token, organisation, users, _message(error), status=409
            )
    flash(request, i18n.gettext("The roles have been saved."))
    return redirect(f"/superuser/members?organisation={organisation}")


# --- the organisation's data (R-ORG-4) ---------------------------------------------

NAME_FIELDS = ("name_nl", "name_fr", "name_de", "name_en")
ADDRESS_FIELDS = ("street", "number", "postcode", "municipality")
REQUIRED = ("street", "postcode", "municipality")


def _service_field(name: str) -> str:
    head, _, tail = name.partition(".")
    if head == "names":
        return f"name_{tail}" if tail else "name_nl"
    return tail if head == "address" else head


async def _data_page(
    request: Request,
    token: str,
    wanted: str | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    organisations, chosen = await _organisation(request, token, wanted)
    if chosen is None:
        message = i18n.gettext("You are not a Superuser of any organisation.")
        return render(request, "error.html", {"message": message}, status=403)
    if values is None:
        names = chosen.names.model_dump()
        address = chosen.address.model_dump()
        values = {f"name_{k}": names.get(k) or "" for k in ("nl", "fr", "de", "en")}
        values.update({k: address.get(k) or "" for k in ADDRESS_FIELDS})
    return render(
        request,
        "superuser_organisation.html",
        {
            "organisations": organisations,
            "chosen": chosen,
            "values": values,
            "errors": errors or {},
            "general": general or [],
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/superuser/organisation")
async def organisation_data(
    request: Request, token: AccessToken, organisation: Annotated[str | None, Query()] = None
) -> Response:
    return await _data_page(request, token, organisation)


@router.post("/superuser/organisation")
async def save_organisation_data(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    organisation = str(form.get("organisation_id", ""))
    values = {n: str(form.get(n, "")).strip() for n in (*NAME_FIELDS, *ADDRESS_FIELDS)}
    errors = {n: field_message("required") for n in REQUIRED if not values[n]}
    if not any(values[n] for n in NAME_FIELDS):
        errors["name_nl"] = field_message("name_required")
    if errors or not _uuids([organisation]):
        return await _data_page(request, token, organisation, values, errors, status=422)
    _, chosen = await _organisation(request, token, organisation)
    country = (chosen.address.country if chosen else None) or "BE"
    try:
        await services_of(request).organisations.edit_organisation(
            token,
            UUID(organisation),
            {n[5:]: values[n] for n in NAME_FIELDS if values[n]},
            {**{k: values[k] for k in ADDRESS_FIELDS}, "country": country},
        )
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        error.fields = [FieldProblem(_service_field(p.field), p.code) for p in error.fields]
        fields, general = field_errors(error, {*NAME_FIELDS, *ADDRESS_FIELDS})
        return await _data_page(request, token, organisation, values, fields, general, 422)
    flash(request, i18n.gettext("The organisation's data have been saved."))
    return redirect(f"/superuser/organisation?organisation={organisation}")
