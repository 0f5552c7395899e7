"""My requests (R-REQ-5): in progress and finished, a "View" page per request
with its history, and withdrawing one still in progress (R-REQ-10)."""

from __future__ import annotations

import asyncio
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eproc_contracts.directory import OrganisationOut
from eproc_contracts.requests import HistoryEntryOut, RequestOut
from eproc_contracts.roles import RoleCatalogue
from eproc_portal import i18n, times
from eproc_portal.auth import AccessToken
from eproc_portal.catalogue import role_label
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


class Step(HistoryEntryOut):
    """A step of a request's history, with its readable label and local time."""

    status_label: str
    when: str


class ShownRequest(RequestOut):
    """A request as the pages show it: the organisation's name and readable labels."""

    organisation_name: str
    parent_name: str
    kind_label: str
    status_label: str
    role_labels: list[str]
    steps: list[Step]


def _step_reason(entry: HistoryEntryOut) -> str | None:
    """The step's reason in the user's language where the portal words it (the
    service's is English), else as the person who decided wrote it."""
    if entry.status in HISTORY_REASONS:
        return i18n.gettext(HISTORY_REASONS[entry.status])
    return entry.reason


def shown_request(
    item: RequestOut, organisation_name: str, catalogue: RoleCatalogue, lang: str
) -> ShownRequest:
    """``item`` with labels; a registration is named by the organisation it proposes
    (its parent, ``organisation_name`` here, is context)."""
    parent_name = ""
    if item.proposed_organisation is not None:
        parent_name = organisation_name
        organisation_name = item.proposed_organisation.names.in_language(lang) or ""
    return ShownRequest(
        **dict(item),
        organisation_name=organisation_name,
        parent_name=parent_name,
        kind_label=label(KINDS, item.kind),
        status_label=label(STATUSES, item.status),
        role_labels=[role_label(catalogue, r, lang) for r in item.roles],
        steps=[
            Step(
                **{**dict(entry), "reason": _step_reason(entry)},
                status_label=label(HISTORY_STEPS, entry.status),
                when=times.local_datetime(entry.at, lang),
            )
            for entry in item.history
        ],
    )


async def decorate(
    services: Services, token: str, items: list[RequestOut], lang: str
) -> list[ShownRequest]:
    """Adds the organisation's name and readable labels to each request."""
    ids = sorted({i.organisation_id for i in items if i.organisation_id})
    found, catalogue = await asyncio.gather(
        asyncio.gather(
            *(services.organisations.organisation(token, i, lang) for i in ids),
            return_exceptions=True,
        ),
        services.organisations.roles(),
    )
    names = {i: o.name for i, o in zip(ids, found, strict=True) if isinstance(o, OrganisationOut)}
    return [
        shown_request(
            item,
            names.get(item.organisation_id, "") if item.organisation_id else "",
            catalogue,
            lang,
        )
        for item in items
    ]


@router.get("/my-requests")
async def my_requests(request: Request, token: AccessToken) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    mine = await services.requests.my_requests(token)
    in_progress = await decorate(services, token, mine.in_progress, lang)
    finished = await decorate(services, token, mine.finished, lang)
    return render(
        request,
        "my_requests.html",
        {"in_progress": in_progress, "finished": finished, "flashes": take_flashes(request)},
    )


@router.get("/my-requests/{request_id}")
async def request_detail(request: Request, token: AccessToken, request_id: UUID) -> Response:
    services = services_of(request)
    lang = i18n.current_language.get()
    found = await services.requests.request_detail(token, request_id)
    [item] = await decorate(services, token, [found], lang)
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
