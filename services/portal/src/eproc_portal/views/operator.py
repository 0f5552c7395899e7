"""The platform operator's screens (R-LOGIN-2, R-REQ-12, R-REQ-13, R-NF-1): the
global local-login switch, the orphaned requests and the audit trail. Operators
view requests but never decide membership requests; the services enforce it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.messages import field_message
from eproc_portal.views.my_requests import decorate
from eproc_portal.web import flash, redirect, render, services_of, take_flashes, token_claims

router = APIRouter()

_REASON_MAX = 500


def _require_operator(request: Request) -> Response | None:
    if token_claims(request).get("platform_operator"):
        return None
    message = i18n.gettext("Only the platform's operators can use this page.")
    return render(request, "error.html", {"message": message}, status=403)


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
    return _require_operator(request) or await _local_login_page(request, token)


@router.post("/operator/local-login")
async def switch_local_login(
    request: Request,
    token: AccessToken,
    scope: Annotated[str, Form()] = "everyone",
    enabled: Annotated[str, Form()] = "",
    user_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    refused = _require_operator(request)
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
    user: UUID | None = None
    if scope == "user":
        try:
            user = UUID(user_id.strip())
        except ValueError:
            errors["user_id"] = i18n.gettext("Enter a user id, for example %(id)s.", id=EXAMPLE_ID)
    if errors:
        return await _local_login_page(request, token, errors, status=422)
    identity = services_of(request).identity
    try:
        if user is None:
            await identity.switch_local_login(token, enabled == "on", reason)
        else:
            await identity.switch_user_local_login(token, user, enabled == "on", reason)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        message = (
            i18n.gettext("No user has this id.")
            if error.status == 404
            else i18n.gettext("The request could not be carried out. Nothing was changed.")
        )
        return await _local_login_page(request, token, {"user_id": message}, status=422)
    flash(request, i18n.gettext("The login policy has been changed."))
    return redirect("/operator/local-login")


EXAMPLE_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@router.get("/operator/orphaned-requests")
async def orphaned_requests(
    request: Request, token: AccessToken, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    services = services_of(request)
    found = await services.requests.orphaned_requests(token, page=page)
    items = await decorate(services, token, found["items"], i18n.current_language.get())
    return render(
        request,
        "operator_orphaned.html",
        {"items": items, "total": found["total"], "page": page, "page_size": found["page_size"]},
    )


@router.get("/operator/audit")
async def audit(
    request: Request,
    token: AccessToken,
    page: Annotated[int, Query(ge=1)] = 1,
    organisation_id: Annotated[str, Query(max_length=36)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    errors: dict[str, str] = {}
    filters = {"organisation_id": organisation_id.strip(), "since": since, "until": until}
    if filters["organisation_id"]:
        try:
            UUID(filters["organisation_id"])
        except ValueError:
            errors["organisation_id"] = i18n.gettext(
                "Enter an organisation id, for example %(id)s.", id=EXAMPLE_ID
            )
    found = {"items": [], "total": 0, "page_size": 50}
    if not errors:
        try:
            found = await services_of(request).requests.audit(token, page=page, **filters)
        except ApiError as error:
            if error.status >= 500 or error.status == 401:
                raise
            errors[error.fields[0].field if error.fields else "until"] = i18n.gettext(
                "This period is not valid."
            )
    return render(
        request,
        "operator_audit.html",
        {
            "items": found["items"],
            "total": found["total"],
            "page": page,
            "filters": filters,
            "errors": errors,
        },
        status=422 if errors else 200,
    )
