"""One audit view over identity's, the organisations' and the requests' trails
(R-OP-1, R-NF-1), filterable by person, organisation and date.

Each service serves its own trail, newest first, with the same filters; this
view merges them by time. A page N needs the newest N x 25 records of each
trail, so the view goes back at most ``MAX_PAGES`` pages and asks for a
narrower filter beyond. Persons and organisations are shown by name, times in
Belgian local time; nobody types an id (a filter's words are looked up, and an
ambiguous one offers the matches to choose from)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_contracts.common import RoleGrant
from eproc_contracts.requests import RequestOut
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.catalogue import role_label
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.identity import AuditRecord
from eproc_portal.i18n import N_
from eproc_portal.views.console import (
    brussels_time,
    day_after,
    day_start,
    organisation_names,
    parse_moment,
    person_name,
    refuse_non_operator,
)
from eproc_portal.views.my_requests import KINDS, label
from eproc_portal.web import Services, render, services_of

router = APIRouter()

PAGE_SIZE = 25
MAX_PAGES = 8
CANDIDATES = 10

ACTIONS = {
    "local_login.global_switched": N_("Local login for everyone switched"),
    "local_login.user_switched": N_("Local login switched"),
    "platform_operator.switched": N_("Platform-operator role switched"),
    "profile.changed_by_superuser": N_("Profile changed by a Superuser"),
    "organisation.registered": N_("Organisation registered"),
    "organisation.updated": N_("Organisation data changed"),
    "membership.granted": N_("Became a member"),
    "membership.roles_changed": N_("Roles changed"),
    "membership.revoked": N_("Membership ended"),
    "membership.default_changed": N_("Default organisation changed"),
    "membership.change_refused": N_("Change refused"),
    "request.submitted": N_("Request submitted"),
    "request.approved": N_("Request approved"),
    "request.rejected": N_("Request rejected"),
    "request.withdrawn": N_("Request withdrawn"),
    "request.completed": N_("Request carried out"),
    "request.failed": N_("Request could not be carried out"),
}
CAPACITIES = {
    "superuser": N_("as Superuser"),
    "platform_operator": N_("as platform operator"),
    "operator": N_("as platform operator"),
    "requester": N_("as requester"),
}


def _record(source: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The three trails' records in one shape."""
    return {
        "source": source,
        "at": parse_moment(raw.get("occurred_at") or raw.get("at")),
        "action": raw.get("action", ""),
        "actor_id": raw.get("actor_id"),
        "actor_client": raw.get("actor_client"),
        "capacity": raw.get("actor_capacity") or raw.get("actor_kind"),
        "subject_id": raw.get("target_user_id") or raw.get("subject_user_id"),
        "organisation_id": raw.get("organisation_id"),
        "request_id": raw.get("request_id"),
        "detail": raw.get("detail") or {},
    }


async def _no_records() -> list[AuditRecord]:
    return []


async def _merged(
    services: Services, token: str, filters: dict[str, Any], wanted: int
) -> list[dict[str, Any]]:
    """The newest ``wanted`` records of the three trails, newest first."""
    common = {k: filters[k] for k in ("user_id", "since", "until")}
    organisation_id = filters["organisation_id"]
    organisations, requests, identity = await asyncio.gather(
        services.organisations.audit(
            token, limit=wanted, organisation_id=organisation_id, **common
        ),
        services.requests.audit(token, limit=wanted, organisation_id=organisation_id, **common),
        # Identity's records concern persons, never an organisation.
        services.identity.audit(token, limit=wanted, **common)
        if organisation_id is None
        else _no_records(),
    )
    # The trails' records differ in shape: one shape from what the services wrote (JSON).
    records = [_record("organisations", r.model_dump(mode="json")) for r in organisations]
    records += [_record("requests", r.model_dump(mode="json")) for r in requests.items]
    records += [_record("identity", r.model_dump(mode="json")) for r in identity]
    records.sort(key=lambda r: r["at"].timestamp() if r["at"] else 0.0, reverse=True)
    return records


def _on_off(value: Any) -> str:
    return i18n.gettext("on") if value else i18n.gettext("off")


def _details(record: dict[str, Any], catalogue: Any, lang: str) -> str:
    detail = record["detail"]
    action = record["action"]
    parts: list[str] = []
    if action.startswith(("local_login.", "platform_operator.")):
        parts.append(_on_off(detail.get("enabled")))
    if action.startswith("request.") and detail.get("kind"):
        parts.append(label(KINDS, str(detail["kind"])))
    roles = detail.get("after") if action == "membership.roles_changed" else detail.get("roles")
    if action.startswith("membership.") and isinstance(roles, list):
        grants = []
        for role in roles:
            if isinstance(role, dict):
                application, name = str(role.get("application", "")), str(role.get("role", ""))
                grants.append(RoleGrant(application=application, role=name))
            elif isinstance(role, str) and "/" in role:
                application, _, name = role.partition("/")
                grants.append(RoleGrant(application=application, role=name))
        parts.extend(role_label(catalogue, g, lang) for g in grants)
    if action == "organisation.registered" and detail.get("enterprise_number"):
        number = str(detail["enterprise_number"])
        parts.append(f"{number[:4]}.{number[4:7]}.{number[7:]}")
    if detail.get("reason") and isinstance(detail["reason"], str) and " " in detail["reason"]:
        # A reason a person wrote (switches, rejections), not a refusal code.
        parts.append(i18n.gettext("Reason: %(reason)s", reason=detail["reason"]))
    return "; ".join(parts)


async def _names_of(
    services: Services, token: str, records: list[dict[str, Any]], lang: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Persons and organisations by name; a proposed organisation that is not (yet)
    in the directory is named from its registration request."""
    people = {str(r[k]) for r in records for k in ("actor_id", "subject_id") if r[k]}
    organisations = {str(r["organisation_id"]) for r in records if r["organisation_id"]}
    accounts, names = await asyncio.gather(
        services.identity.accounts(token, [UUID(i) for i in people]),
        organisation_names(services, token, organisations, lang),
    )
    missing = {
        str(r["request_id"]): str(r["organisation_id"])
        for r in records
        if r["organisation_id"] and str(r["organisation_id"]) not in names and r["request_id"]
    }
    if missing:
        details = await asyncio.gather(
            *(services.requests.request_detail(token, UUID(i)) for i in missing),
            return_exceptions=True,
        )
        for detail in details:
            if isinstance(detail, RequestOut) and detail.proposed_organisation:
                proposed = detail.proposed_organisation
                names.setdefault(
                    str(proposed.organisation_id), proposed.names.in_language(lang) or ""
                )
    return {str(i): person_name(a) for i, a in accounts.items()}, names


async def _resolve_person(
    services: Services, token: str, text: str, link: dict[str, str]
) -> tuple[UUID | None, str | None, list[dict[str, str]]]:
    """A person's words to one account: (id, error, candidates to choose from)."""
    found = (await services.identity.search_accounts(token, text, limit=CANDIDATES)).items
    exact = [a for a in found if text.lower() in (a.username, a.email.lower())]
    if len(found) == 1 or len(exact) == 1:
        return (exact or found)[0].id, None, []
    if not found:
        return None, i18n.gettext("No account matches these words."), []
    choices = [
        {
            "label": f"{person_name(a)} ({a.username})",
            "url": "/operator/audit?" + urlencode({**link, "user_id": str(a.id)}),
        }
        for a in found
    ]
    return None, i18n.gettext("Several accounts match; choose one below."), choices


async def _resolve_organisation(
    services: Services, token: str, text: str, lang: str, link: dict[str, str]
) -> tuple[UUID | None, str | None, list[dict[str, str]]]:
    found = (await services.organisations.matching_organisations(token, text, lang))[:CANDIDATES]
    exact = [o for o in found if o.name.casefold() == text.casefold()]
    if len(found) == 1 or len(exact) == 1:
        return (exact or found)[0].id, None, []
    if not found:
        return None, i18n.gettext("No organisation matches these words."), []
    choices = [
        {
            "label": f"{o.name} ({o.enterprise_number_display})",
            "url": "/operator/audit?" + urlencode({**link, "organisation_id": str(o.id)}),
        }
        for o in found
    ]
    return None, i18n.gettext("Several organisations match; choose one below."), choices


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


@router.get("/operator/audit")
async def audit(
    request: Request,
    token: AccessToken,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    user: Annotated[str, Query(max_length=200)] = "",
    user_id: Annotated[UUID | None, Query()] = None,
    organisation: Annotated[str, Query(max_length=200)] = "",
    organisation_id: Annotated[UUID | None, Query()] = None,
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    refused = refuse_non_operator(request)
    if refused:
        return refused
    services = services_of(request)
    lang = i18n.current_language.get()
    user, organisation = user.strip(), organisation.strip()
    errors: dict[str, str] = {}
    choices: dict[str, list[dict[str, str]]] = {}
    first, last = _day(since), _day(until)
    if since and first is None:
        errors["since"] = i18n.gettext("Enter a date, for example %(date)s.", date="2026-01-31")
    if until and last is None:
        errors["until"] = i18n.gettext("Enter a date, for example %(date)s.", date="2026-12-31")
    if first and last and last < first:
        errors["until"] = i18n.gettext("This date must not be before the first one.")
    kept = {"since": since, "until": until}
    if user_id is None and user:
        link = {**kept, "organisation": organisation}
        if organisation_id:
            link["organisation_id"] = str(organisation_id)
        user_id, problem, choices["user"] = await _resolve_person(services, token, user, link)
        if problem:
            errors["user"] = problem
    if organisation_id is None and organisation:
        link = {**kept, "user": user}
        if user_id:
            link["user_id"] = str(user_id)
        organisation_id, problem, choices["organisation"] = await _resolve_organisation(
            services, token, organisation, lang, link
        )
        if problem:
            errors["organisation"] = problem
    filters = {
        "user_id": user_id,
        "organisation_id": organisation_id,
        "since": day_start(first).isoformat() if first else None,
        "until": day_after(last).isoformat() if last else None,
    }
    page = min(page, MAX_PAGES)
    rows: list[dict[str, Any]] = []
    has_more = False
    if not errors:
        try:
            merged = await _merged(services, token, filters, page * PAGE_SIZE + 1)
        except ApiError as error:
            if error.status >= 500 or error.status in (401, 403):
                raise
            errors["until"] = i18n.gettext("This period is not valid.")
            merged = []
        has_more = len(merged) > page * PAGE_SIZE
        rows = merged[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    people, organisations = await _names_of(services, token, rows, lang)
    catalogue = await services.organisations.roles() if rows else None
    someone_else = i18n.gettext("an application")
    system = i18n.gettext("the platform")
    for row in rows:
        row["when"] = brussels_time(row["at"])
        row["what"] = i18n.gettext(ACTIONS.get(row["action"], N_("Other change")))
        row["by"] = (
            people.get(str(row["actor_id"]), i18n.gettext("an account unknown here"))
            if row["actor_id"]
            else someone_else
            if row["actor_client"]
            else system
        )
        if row["actor_id"] and row["capacity"] in CAPACITIES:
            row["by"] += f" ({i18n.gettext(CAPACITIES[row['capacity']])})"
        row["concerning"] = people.get(str(row["subject_id"]), "") if row["subject_id"] else ""
        row["organisation"] = organisations.get(str(row["organisation_id"]), "")
        row["details"] = _details(row, catalogue, lang)
    # What the form shows: the names of what was chosen, not ids.
    if user_id and not user:
        known = (await services.identity.accounts(token, [user_id])).get(user_id)
        user = known.username if known else ""
    if organisation_id and not organisation:
        named = await organisation_names(services, token, {str(organisation_id)}, lang)
        organisation = named.get(str(organisation_id), "")
    query = {
        k: v
        for k, v in {
            "user": user,
            "user_id": str(user_id) if user_id else "",
            "organisation": organisation,
            "organisation_id": str(organisation_id) if organisation_id else "",
            "since": since,
            "until": until,
        }.items()
        if v
    }
    return render(
        request,
        "operator_audit.html",
        {
            "rows": rows,
            "page": page,
            "has_more": has_more and page < MAX_PAGES,
            "at_the_limit": has_more and page >= MAX_PAGES,
            "values": {"user": user, "organisation": organisation, "since": since, "until": until},
            "query": urlencode(query),
            "errors": errors,
            "choices": choices,
        },
        status=422 if errors else 200,
    )
