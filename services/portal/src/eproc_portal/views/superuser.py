"""The Superuser's request inbox and decision (R-REQ-4, R-REQ-11, R-SU-1):
requests of an organisation where the user is Superuser, each with a page to
approve it or reject it with a reason."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from eproc_contracts.directory import MemberOut, MyMembership, OrganisationOut
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.confirmations import confirmation_page
from eproc_portal.i18n import N_
from eproc_portal.messages import general_message
from eproc_portal.topbar import is_superuser
from eproc_portal.views.my_requests import decorate
from eproc_portal.web import flash, redirect, render, services_of, take_flashes

router = APIRouter()

_REASON_MAX = 2000

DECISION_ERRORS = {
    "already_decided": N_("This request was already decided (or withdrawn) by someone else."),
    "not_a_superuser": N_("Only a Superuser of the organisation can decide this request."),
    # Issue 19, point 3: refused before anything changes, as through "Members".
    "last_superuser": N_(
        "This request cannot be approved: the organisation would be left without a "
        "Superuser. Appoint another Superuser first, or reject the request."
    ),
}


def superusers(members: list[MemberOut]) -> set[UUID]:
    """The ids of the members holding the Superuser role."""
    return {m.user_id for m in members if is_superuser(m)}


def sole_superusers(members: list[MemberOut], leaving: set[UUID]) -> set[UUID]:
    """R-REQ-8 up front: the Superusers among ``leaving`` when, without them (removed,
    gone or without the role), the organisation would have no Superuser left."""
    holders = superusers(members)
    return holders & leaving if holders and holders <= leaving else set()


async def last_superuser_organisations(
    request: Request, token: str, memberships: list[MyMembership], user_id: UUID | None
) -> set[UUID]:
    """The organisations of ``memberships`` where the user is the last Superuser
    (they can neither leave nor drop the role there before appointing another)."""
    if user_id is None:
        return set()
    mine = [m.organisation.id for m in memberships if is_superuser(m)]
    organisations = services_of(request).organisations
    found = await asyncio.gather(*(organisations.members(token, o) for o in mine))
    pairs = zip(mine, found, strict=True)
    return {o for o, members in pairs if sole_superusers(members, {user_id})}


async def superuser_organisations(request: Request, token: str) -> list[OrganisationOut]:
    """The organisations where the user holds the Superuser role."""
    memberships = await services_of(request).organisations.my_organisations(
        token, i18n.current_language.get()
    )
    return [m.organisation for m in memberships if is_superuser(m)]


@router.get("/superuser/requests")
async def inbox(
    request: Request,
    token: AccessToken,
    organisation: Annotated[UUID | None, Query()] = None,
) -> Response:
    organisations = await superuser_organisations(request, token)
    if not organisations:
        return render(
            request,
            "error.html",
            {"message": i18n.gettext("You are not a Superuser of any organisation.")},
            status=403,
        )
    active = str((request.session.get("active_organisation") or {}).get("id"))
    ids = [o.id for o in organisations]
    chosen = next(
        (i for i in ids if i == organisation), next((i for i in ids if str(i) == active), ids[0])
    )
    page = await services_of(request).requests.inbox(token, chosen)
    items = await decorate(services_of(request), token, page.items, i18n.current_language.get())
    return render(
        request,
        "superuser_inbox.html",
        {
            "organisations": organisations,
            "chosen": chosen,
            "items": items,
            "flashes": take_flashes(request),
        },
    )


async def _detail(
    request: Request,
    token: str,
    request_id: UUID,
    error: str | None = None,
    status: int = 200,
    *,
    reason_error: str | None = None,
    reason: str = "",
) -> Response:
    services = services_of(request)
    found = await services.requests.request_detail(token, request_id)
    [item] = await decorate(services, token, [found], i18n.current_language.get())
    # The request carries who asks (the requests service's projection of identity's
    # events): identity shows a profile only to Superusers of the person's
    # organisations, which a first join request does not make them.
    requester = item.requester
    return render(
        request,
        "superuser_decide.html",
        {
            "item": item,
            "requester": requester,
            "error": error,
            "reason_error": reason_error,
            "reason": reason,
            "flashes": take_flashes(request),
        },
        status=status,
    )


async def _confirm_rejection(
    request: Request, token: str, request_id: UUID, reason: str
) -> Response:
    services = services_of(request)
    found = await services.requests.request_detail(token, request_id)
    [item] = await decorate(services, token, [found], i18n.current_language.get())
    requester = item.requester
    who = f"{requester.given_name} {requester.family_name}".strip() if requester else ""
    label = item.kind_label
    consequence = i18n.gettext(
        "The %(kind)s of %(requester)s for %(organisation)s will be rejected: nothing of it "
        "takes effect, and %(requester)s is told by email, with your reason. A rejection is "
        "final: to change your mind, they must file a new request.",
        # Mid-sentence: lower-case, except German nouns.
        kind=label if i18n.current_language.get() == "de" else label[:1].lower() + label[1:],
        requester=who or i18n.gettext("the requester"),
        organisation=item.organisation_name,
    )
    return confirmation_page(
        request,
        title=i18n.gettext("Reject this request?"),
        consequence=consequence,
        confirm_label=i18n.gettext("Yes, reject"),
        action=f"/superuser/requests/{request_id}",
        hidden=[("decision", "reject"), ("reason", reason)],
        cancel_url=f"/superuser/requests/{request_id}",
        quote=reason,
        quote_label=i18n.gettext("Your reason"),
    )


@router.get("/superuser/requests/{request_id}")
async def decision_page(request: Request, token: AccessToken, request_id: UUID) -> Response:
    return await _detail(request, token, request_id)


@router.post("/superuser/requests/{request_id}")
async def decide(
    request: Request,
    token: AccessToken,
    request_id: UUID,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    requests = services_of(request).requests
    reason = reason.strip()
    if decision not in {"approve", "reject"}:
        message = i18n.gettext("Choose one of the options.")
        return await _detail(request, token, request_id, message, status=422)
    if len(reason) > _REASON_MAX:
        message = i18n.gettext("This value is too long.")
        return await _detail(
            request, token, request_id, status=422, reason_error=message, reason=reason
        )
    if decision == "reject" and not reason:
        # Issue 19, point 6: the requester always learns why (nothing is decided yet).
        message = i18n.gettext("Give the reason for the rejection: the requester will see it.")
        return await _detail(request, token, request_id, status=422, reason_error=message)
    if decision == "reject" and confirmed != "yes":
        # Issue 19, point 6: a rejection is final; say so and ask first.
        return await _confirm_rejection(request, token, request_id, reason)
    try:
        if decision == "approve":
            result = await requests.approve(token, request_id)
            flash(request, i18n.gettext("The request has been approved."))
        else:
            result = await requests.reject(token, request_id, reason)
            flash(request, i18n.gettext("The request has been rejected."))
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        message = (
            i18n.gettext(DECISION_ERRORS[error.code])
            if error.code in DECISION_ERRORS
            else general_message(error)
        )
        return await _detail(request, token, request_id, message, status=409)
    organisation = result.organisation_id
    return redirect(f"/superuser/requests?organisation={organisation}" if organisation else "/")
