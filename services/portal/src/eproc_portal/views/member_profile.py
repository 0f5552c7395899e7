"""A Superuser edits a member's profile (R-SU-1, SPEC §1): the same fields as
"My profile", for a member of an organisation where the user is Superuser.

Authorised against the owning services' data: the portal only offers members of
the Superuser's organisation (the organisations service's member list), and
identity checks again, from its own projection of memberships, that the caller is
a Superuser of one of the member's organisations (403 otherwise, for any id)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_contracts.directory import OrganisationOut
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.identity import PROFILE_FIELDS, Profile
from eproc_portal.messages import general_message
from eproc_portal.views.profile import EXAMPLES, profile_change, profile_errors, read_profile_form
from eproc_portal.views.superuser import superuser_organisations
from eproc_portal.web import flash, redirect, render, services_of

router = APIRouter()


def _refused(request: Request, message: str, status: int) -> Response:
    return render(request, "error.html", {"message": message}, status=status)


async def _organisation_of_member(
    request: Request, token: str, organisation: str, user_id: UUID
) -> OrganisationOut | Response:
    """The organisation (one the user is Superuser of) the member belongs to, or
    the page that says why not."""
    organisations = await superuser_organisations(request, token)
    chosen = next((o for o in organisations if str(o.id) == organisation), None)
    if chosen is None:
        return _refused(request, i18n.gettext("You are not a Superuser of this organisation."), 403)
    members = await services_of(request).organisations.members(token, chosen.id)
    if not any(m.user_id == user_id for m in members):
        message = i18n.gettext(
            "This person is not a member of %(organisation)s.", organisation=chosen.name
        )
        return _refused(request, message, 404)
    return chosen


def _name(profile: Profile) -> str:
    return f"{profile.given_name} {profile.family_name}".strip()


def _page(
    request: Request,
    organisation: OrganisationOut,
    profile: Profile,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "member_profile.html",
        {
            "organisation": organisation,
            "profile": profile,
            "member_name": _name(profile),
            "values": values,
            "examples": EXAMPLES,
            "errors": errors or {},
            "general": general or [],
        },
        status=status,
    )


async def _profile(request: Request, token: str, user_id: UUID) -> Profile | Response:
    try:
        return await services_of(request).identity.read_profile(token, user_id)
    except ApiError as error:
        if error.status not in (403, 404):
            raise
        return _refused(request, general_message(error), error.status)


@router.get("/superuser/members/{user_id}/profile")
async def member_profile(
    request: Request,
    token: AccessToken,
    user_id: UUID,
    organisation: Annotated[str, Query()] = "",
) -> Response:
    found = await _organisation_of_member(request, token, organisation, user_id)
    if isinstance(found, Response):
        return found
    profile = await _profile(request, token, user_id)
    if isinstance(profile, Response):
        return profile
    return _page(request, found, profile, {k: getattr(profile, k) or "" for k in PROFILE_FIELDS})


@router.post("/superuser/members/{user_id}/profile")
async def save_member_profile(request: Request, token: AccessToken, user_id: UUID) -> Response:
    form = await request.form()
    found = await _organisation_of_member(
        request, token, str(form.get("organisation_id", "")), user_id
    )
    if isinstance(found, Response):
        return found
    values, errors = read_profile_form(form)
    identity = services_of(request).identity
    if not errors:
        try:
            saved = await identity.update_profile(token, user_id, profile_change(values))
        except ApiError as error:
            if error.status in (403, 404):
                return _refused(request, general_message(error), error.status)
            errors, general = profile_errors(error)
        else:
            message = i18n.gettext("The profile of %(name)s has been saved.", name=_name(saved))
            flash(request, message)
            return redirect(f"/superuser/members?organisation={found.id}")
    else:
        general = []
    profile = await _profile(request, token, user_id)
    if isinstance(profile, Response):
        return profile
    return _page(request, found, profile, values, errors, general, status=422)
