"""My requests (R-REQ-5): in progress and finished, a "View" page per request
with its history, and withdrawing one still in progress (R-REQ-10)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.catalogue import localised, role_label
from eproc_portal.clients.base import ApiError
from eproc_portal.i18n import N_
from eproc_portal.messages import general_message
from eproc_portal.web import Services, flash, redirect, render, services_of, take_flashes

router = APIRouter()

KINDS = {
    "join": N_("Join organisation"),
    "role_change": N_("Change roles"),
    "leave": N_("Leave organisation"),
    "organisation_registration": N_("Register a new organisation"),
}
# Where a request is, in the words of the manual (SPEC §10): an approved request
# reads "Approved" once applied; the raw state "applying" never shows, and nothing
# reads "Afgewerkt" ("finished" is the list's section, one letter from "Afgekeurd").
STATUSES = {
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "applying": N_("Approved, being applied"),
    "completed": N_("Approved"),
    "rejected": N_("Rejected"),
    "withdrawn": N_("Withdrawn"),
    "failed": N_("Failed"),
}
# The steps of a request's history (issue 19, point 4).
HISTORY_STEPS = {
    **STATUSES,
    "applying": N_("Being applied"),
    "completed": N_("Applied"),
    "orphaned": N_("Sent to the helpdesk"),
}
# The services' own reasons for these steps are English sentences: the page says them.
HISTORY_REASONS = {
    "orphaned": N_(
        "This organisation has no Superuser yet. The platform's helpdesk has been told."
    ),
}


def label(table: dict[str, str], key: str) -> str:
    return i18n.gettext(table[key]) if key in table else key


async def decorate(
    services: Services, token: str, items: list[dict[str, Any]], lang: str
) -> list[dict[str, Any]]:
    """Adds the organisation's name and readable labels to each request."""
    ids = sorted({i["organisation_id"] for i in items if i.get("organisation_id")})
    found, catalogue = await asyncio.gather(
        asyncio.gather(
            *(services.organisations.organisation(token, UUID(i), lang) for i in ids),
            return_exceptions=True,
        ),
        services.organisations.roles(),
    )
    names = {i: o.get("name", "") for i, o in zip(ids, found, strict=True) if isinstance(o, dict)}
    for item in items:
        proposed = item.get("proposed_organisation") or {}
        item["organisation_name"] = names.get(item.get("organisation_id") or "", "")
        if proposed:
            # A registration names the organisation it proposes (its parent is context).
            item["parent_name"] = item["organisation_name"]
            item["organisation_name"] = localised(proposed.get("names"), lang)
        item["kind_label"] = label(KINDS, item["kind"])
        item["status_label"] = label(STATUSES, item["status"])
        item["role_labels"] = [role_label(catalogue, r, lang) for r in item.get("roles", [])]
        for entry in item.get("history", []):
            entry["status_label"] = label(HISTORY_STEPS, entry["status"])
            if entry["status"] in HISTORY_REASONS:
                entry["reason"] = i18n.gettext(HISTORY_REASONS[entry["status"]])
    return items


@router.get("/my-requests")
async def my_requests(request: Request, token: AccessToken) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    mine = await services.requests.my_requests(token)
    in_progress = await decorate(services, token, mine["in_progress"], lang)
    finished = await decorate(services, token, mine["finished"], lang)
    return render(
        request,
        "my_requests.html",
        {"in_progress": in_progress, "finished": finished, "flashes": take_flashes(request)},
    )


@router.get("/my-requests/{request_id}")
async def request_detail(request: Request, token: AccessToken, request_id: UUID) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    item = await services.requests.request_detail(token, request_id)
    [item] = await decorate(services, token, [item], lang)
    return render(request, "request_detail.html", {"item": item, "flashes": take_flashes(request)})


@router.post("/my-requests/{request_id}/withdraw")
async def withdraw(request: Request, token: AccessToken, request_id: UUID) -> Response:
    try:
        await services_of(request).requests.withdraw(token, request_id)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        flash(request, general_message(error))
        return redirect(f"/my-requests/{request_id}")
    flash(request, i18n.gettext("Your request has been withdrawn."))
    return redirect("/my-requests")
