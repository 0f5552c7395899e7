"""The platform operator's console (R-OP-1, R-LOGIN-2, R-REQ-12, R-REQ-13): its
start page, the global local-login switch and the orphaned requests. The account
search, the registrations to decide and the audit view have modules of their own.
Operators view requests but never decide membership requests; the services
enforce it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.messages import field_message
from eproc_portal.views.console import refuse_non_operator
from eproc_portal.views.my_requests import decorate
from eproc_portal.web import flash, redirect, render, services_of, take_flashes

router = APIRouter()

_REASON_MAX = 500

# Kept for the screens that still import it under its old name.
_require_operator = refuse_non_operator


@router.get("/operator")
async def console(request: Request, token: AccessToken) -> Response:
    """The operator's start page: a link to each of the console's screens."""
    refused = refuse_non_operator(request)
    if refused:
        return refused
    pending = await services_of(request).requests.top_level_registrations(token)
    return render(
        request,
        "operator_console.html",
        {"pending_registrations": pending.total, "flashes": take_flashes(request)},
    )


async def _local_login_page(
    request: Request, token: str, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    policy = await services_of(request).identity.local_login_policy(token)
    return render(
        request,
        "operator_local_login.html",
        {"policy": policy, "errors": errors or {}, "flashes": take_flashes(request)},
        status=status,
    )


@router.get("/operator/local-login")
async def local_login(request: Request, token: AccessToken) -> Response:
    return refuse_non_operator(request) or await _local_login_page(request, token)


@router.post("/operator/local-login")
async def switch_local_login(
    request: Request,
    token: AccessToken,
    enabled: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Local login for everyone; one user's switch is on their account's page."""
    refused = refuse_non_operator(request)
    if refused:
        return refused
    errors: dict[str, str] = {}
    if enabled not in {"on", "off"}:
        errors["enabled"] = field_message("invalid_choice")
    reason = reason.strip()
    if not reason:
        errors["reason"] = field_message("required")
    elif len(reason) > _REASON_MAX:
        errors["reason"] = field_message("too_long")
    if errors:
        return await _local_login_page(request, token, errors, status=422)
    try:
        await services_of(request).identity.switch_local_login(token, enabled == "on", reason)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        message = i18n.gettext("The request could not be carried out. Nothing was changed.")
        return await _local_login_page(request, token, {"enabled": message}, status=422)
    flash(request, i18n.gettext("The login policy has been changed."))
    return redirect("/operator/local-login")


@router.get("/operator/orphaned-requests")
async def orphaned_requests(
    request: Request, token: AccessToken, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    refused = refuse_non_operator(request)
    if refused:
        return refused
    services = services_of(request)
    found = await services.requests.orphaned_requests(token, page=page)
    items = await decorate(services, token, found.items, i18n.current_language.get())
    return render(
        request,
        "operator_orphaned.html",
        {"items": items, "total": found.total, "page": page, "page_size": found.page_size},
    )
