"""Registrations of top-level organisations: the platform operators decide them
(R-ORG-3, R-OP-1). Approve, or reject with a reason the requester reads; each
decision is confirmed first on a page that spells out what it does. The requests
service decides who may decide, against its own record of operators."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from eproc_contracts.common import Address
from eproc_contracts.requests import RequestOut
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.messages import general_message
from eproc_portal.views.console import brussels_time, refuse_non_operator
from eproc_portal.views.my_requests import HISTORY_STEPS, STATUSES, Step, label
from eproc_portal.web import flash, redirect, render, services_of, take_flashes

router = APIRouter()

MAX_REASON = 2000


class ShownRegistration(RequestOut):
    """A registration of a top-level organisation as the operators' pages show it."""

    name: str
    names: dict[str, str]
    enterprise_number_display: str
    address: Address | None
    requester_name: str
    submitted: str
    status_label: str
    steps: list[Step]


def _decorate(item: RequestOut, lang: str) -> ShownRegistration:
    proposed = item.proposed_organisation
    number = proposed.enterprise_number if proposed else ""
    requester = item.requester
    return ShownRegistration(
        **dict(item),
        name=proposed.names.in_language(lang) or "" if proposed else "",
        names={k: v for k, v in proposed.names.model_dump().items() if v} if proposed else {},
        enterprise_number_display=(
            f"{number[:4]}.{number[4:7]}.{number[7:]}" if len(number) == 10 else number
        ),
        address=proposed.address if proposed else None,
        requester_name=(
            f"{requester.given_name} {requester.family_name}".strip() if requester else ""
        ),
        submitted=brussels_time(item.submitted_at),
        status_label=label(STATUSES, item.status),
        steps=[
            Step(
                **dict(entry),
                status_label=label(HISTORY_STEPS, entry.status),
                when=brussels_time(entry.at),
            )
            for entry in item.history
        ],
    )


@router.get("/operator/registrations")
async def registrations(
    request: Request, token: AccessToken, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    refused = refuse_non_operator(request)
    if refused:
        return refused
    lang = i18n.current_language.get()
    found = await services_of(request).requests.top_level_registrations(token, page=page)
    items = [_decorate(item, lang) for item in found.items]
    return render(
        request,
        "operator_registrations.html",
        {
            "items": items,
            "total": found.total,
            "page": page,
            "pages": max(1, -(-found.total // found.page_size)),
            "flashes": take_flashes(request),
        },
    )


async def _registration(request: Request, token: str, request_id: UUID) -> ShownRegistration | None:
    item = await services_of(request).requests.request_detail(token, request_id)
    if item.kind != "organisation_registration" or item.organisation_id:
        return None  # not a top-level registration: decided by a parent's Superusers
    return _decorate(item, i18n.current_language.get())


def _not_found(request: Request) -> Response:
    message = i18n.gettext("This item does not exist (any more).")
    return render(request, "error.html", {"message": message}, status=404)


@router.get("/operator/registrations/{request_id}")
async def registration(request: Request, token: AccessToken, request_id: UUID) -> Response:
    refused = refuse_non_operator(request)
    if refused:
        return refused
    item = await _registration(request, token, request_id)
    if item is None:
        return _not_found(request)
    return render(
        request,
        "operator_registration.html",
        {"item": item, "errors": {}, "reason": "", "flashes": take_flashes(request)},
    )


@router.post("/operator/registrations/{request_id}")
async def decide(
    request: Request,
    token: AccessToken,
    request_id: UUID,
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    """First the confirmation page (what the decision will do), then the decision."""
    refused = refuse_non_operator(request)
    if refused:
        return refused
    item = await _registration(request, token, request_id)
    if item is None:
        return _not_found(request)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if decision not in {"approve", "reject"}:
        errors["decision"] = i18n.gettext("Choose one of the options.")
    elif decision == "reject" and not reason:
        errors["reason"] = i18n.gettext(
            "Give the reason for the rejection: the requester will see it."
        )
    elif len(reason) > MAX_REASON:
        errors["reason"] = i18n.gettext("This value is too long.")
    if errors:
        context = {"item": item, "errors": errors, "reason": reason}
        return render(request, "operator_registration.html", context, status=422)
    if confirmed != "yes":
        context = {"item": item, "decision": decision, "reason": reason}
        return render(request, "operator_registration_confirm.html", context)
    requests = services_of(request).requests
    try:
        if decision == "approve":
            await requests.approve(token, request_id)
        else:
            await requests.reject(token, request_id, reason)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        message = (
            i18n.gettext("This request was already decided or withdrawn. Nothing was changed.")
            if error.code == "already_decided"
            else general_message(error)
        )
        context = {"item": item, "errors": {"decision": message}, "reason": reason}
        return render(request, "operator_registration.html", context, status=409)
    flash(
        request,
        i18n.gettext(
            "The registration of %(name)s has been approved: the organisation is being "
            "added to the directory and the requester becomes its Superuser.",
            name=item.name,
        )
        if decision == "approve"
        else i18n.gettext(
            "The registration of %(name)s has been rejected. The requester is told why.",
            name=item.name,
        ),
    )
    return redirect("/operator/registrations")
