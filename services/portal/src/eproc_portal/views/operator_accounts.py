"""The operators' account search (R-OP-1): find a person by name, username or
e-mail address, or by an organisation's name or enterprise number; from a result,
their memberships, the local-login switch and the platform-operator switch.
Nobody types an id: every account is reached from a search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from eproc_contracts.directory import AccountMatch, OrganisationOut
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.identity import Account
from eproc_portal.i18n import N_
from eproc_portal.messages import field_message
from eproc_portal.views.console import brussels_time, person_name, refuse_non_operator
from eproc_portal.views.my_organisations import shown_memberships
from eproc_portal.web import flash, redirect, render, services_of, take_flashes, token_claims

router = APIRouter()

PAGE_SIZE = 20
_REASON_MAX = 500
SEARCH_BY = {
    "person": N_("Name, username or e-mail address"),
    "organisation": N_("Organisation name or enterprise number"),
}


@dataclass(frozen=True)
class UnknownAccount:
    """A member identity does not list (any more): what organisations knows of them."""

    id: UUID
    username: str
    given_name: str | None
    family_name: str | None
    email: str
    local_login_enabled: bool = False
    platform_operator: bool = False


def _unknown(member: AccountMatch) -> UnknownAccount:
    return UnknownAccount(
        member.user_id,
        member.username or "",
        member.given_name,
        member.family_name,
        member.email or "",
    )


@dataclass(frozen=True)
class FoundAccount:
    """One row of the search's results (the organisation: when searched by organisation)."""

    account: Account | UnknownAccount
    organisation: OrganisationOut | None = None


@router.get("/operator/accounts")
async def account_search(
    request: Request,
    token: AccessToken,
    q: Annotated[str, Query(max_length=200)] = "",
    by: Annotated[str, Query(max_length=20)] = "person",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    refused = refuse_non_operator(request)
    if refused:
        return refused
    services = services_of(request)
    lang = i18n.current_language.get()
    q = q.strip()
    by = by if by in SEARCH_BY else "person"
    results: list[FoundAccount] = []
    total = 0
    errors: dict[str, str] = {}
    searched = bool(q)
    if "q" in request.query_params and not q:
        errors["q"] = field_message("required")
    elif q:
        offset = (page - 1) * PAGE_SIZE
        try:
            if by == "person":
                found = await services.identity.search_accounts(
                    token, q, offset=offset, limit=PAGE_SIZE
                )
                results = [FoundAccount(a) for a in found.items]
                total = found.total
            else:
                matches = await services.organisations.members_matching(
                    token, q, lang, offset=offset, limit=PAGE_SIZE
                )
                accounts = await services.identity.accounts(
                    token, [m.user_id for m in matches.items]
                )
                results = [
                    FoundAccount(accounts.get(m.user_id) or _unknown(m), m.organisation)
                    for m in matches.items
                ]
                total = matches.total
        except ApiError as error:
            if error.status >= 500 or error.status in (401, 403):
                raise
            errors["q"] = field_message(error.fields[0].code if error.fields else "invalid")
    return render(
        request,
        "operator_accounts.html",
        {
            "q": q,
            "by": by,
            "search_by": {k: i18n.gettext(v) for k, v in SEARCH_BY.items()},
            "results": results,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "searched": searched and not errors,
            "errors": errors,
            "person_name": person_name,
        },
        status=422 if errors else 200,
    )


async def _account_page(
    request: Request,
    token: str,
    user_id: UUID,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    account = (await services.identity.accounts(token, [user_id])).get(user_id)
    if account is None:
        message = i18n.gettext("This item does not exist (any more).")
        return render(request, "error.html", {"message": message}, status=404)
    found = await services.organisations.user_memberships(token, user_id, lang)
    memberships = shown_memberships(found, await services.organisations.roles(), lang)
    return render(
        request,
        "operator_account.html",
        {
            "account": account,
            "name": person_name(account),
            "registered_on": brussels_time(account.created_at),
            "memberships": memberships,
            "is_self": str(user_id) == str(token_claims(request).get("sub")),
            "errors": errors or {},
            "values": values or {},
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/operator/accounts/{user_id}")
async def account(request: Request, token: AccessToken, user_id: UUID) -> Response:
    return refuse_non_operator(request) or await _account_page(request, token, user_id)


@router.post("/operator/accounts/{user_id}/switch")
async def switch(
    request: Request,
    token: AccessToken,
    user_id: UUID,
    switch: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """One of the person's two switches: local login, or platform operator."""
    refused = refuse_non_operator(request)
    if refused:
        return refused
    if switch not in {"local_login", "platform_operator"} or enabled not in {"on", "off"}:
        message = i18n.gettext("Something went wrong. Nothing was changed.")
        return render(request, "error.html", {"message": message}, status=400)
    field = f"{switch}_reason"
    reason = reason.strip()
    error = (
        field_message("required")
        if not reason
        else field_message("too_long")
        if len(reason) > _REASON_MAX
        else None
    )
    if error:
        return await _account_page(
            request, token, user_id, {field: error}, {field: reason}, status=422
        )
    identity = services_of(request).identity
    try:
        if switch == "local_login":
            await identity.switch_user_local_login(token, user_id, enabled == "on", reason)
        else:
            await identity.switch_operator(token, user_id, enabled == "on", reason)
    except ApiError as failure:
        if failure.status >= 500 or failure.status == 401:
            raise
        message = (
            i18n.gettext("You cannot withdraw your own operator role; ask another operator.")
            if failure.code == "own_operator_role"
            else i18n.gettext("The request could not be carried out. Nothing was changed.")
        )
        return await _account_page(
            request, token, user_id, {field: message}, {field: reason}, status=422
        )
    flash(
        request,
        i18n.gettext("Local login has been changed.")
        if switch == "local_login"
        else i18n.gettext("The platform-operator role has been changed."),
    )
    return redirect(f"/operator/accounts/{user_id}")
