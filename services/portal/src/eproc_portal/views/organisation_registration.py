"""Register a new organisation (R-ORG-3, R-REQ-9): a request to the parent's
Superusers (sub-organisation) or to a platform operator (top level); the
registering buyer becomes its Superuser once it is approved."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from eproc_contracts.directory import OrganisationOut
from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError, FieldProblem
from eproc_portal.messages import ENTERPRISE_NUMBER_EXAMPLE, field_errors, field_message
from eproc_portal.views.forms import uuids as _uuids
from eproc_portal.views.tree import expand_tree
from eproc_portal.web import flash, redirect, render, services_of

router = APIRouter()

NAME_FIELDS = ("name_nl", "name_fr", "name_de", "name_en")
ADDRESS_FIELDS = ("street", "number", "postcode", "municipality")
FIELDS = (*NAME_FIELDS, "enterprise_number", *ADDRESS_FIELDS)
REQUIRED = ("enterprise_number", "street", "postcode", "municipality")


def enterprise_number(value: str) -> str | None:
    """``0123.456.749`` or ``0123456749`` → ``0123456749`` when the mod-97 check holds."""
    digits = re.sub(r"[\s.]", "", value)
    if not re.fullmatch(r"[01]\d{9}", digits):
        return None
    return digits if 97 - int(digits[:8]) % 97 == int(digits[8:]) else None


def _service_field(name: str) -> str:
    """The form field a service's error names (``names.nl``, ``address.street``, …)."""
    head, _, tail = name.partition(".")
    if head == "names":
        return f"name_{tail}" if tail else "name_nl"
    if head == "address":
        return tail
    return head


async def _parent(request: Request, token: str, parent_id: UUID) -> OrganisationOut | None:
    """The chosen parent, or None when the directory does not know it (any more)."""
    try:
        return await services_of(request).organisations.organisation(
            token, parent_id, i18n.current_language.get()
        )
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def _unknown_parent() -> str:
    return i18n.gettext(
        "This parent organisation does not exist (any more). Choose the parent again."
    )


async def _page(
    request: Request,
    token: str,
    parent_id: UUID | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
    parent_value: str = "",
) -> Response:
    """The form; ``parent_value`` keeps an unusable parent so that sending the form
    again is refused again, never silently registered at the top level."""
    parent = None
    errors = dict(errors or {})
    if parent_id is not None:
        parent = await _parent(request, token, parent_id)
        if parent is None:
            errors["parent_id"] = _unknown_parent()
            status = 422
    return render(
        request,
        "organisation_register.html",
        {
            "parent": parent,
            "parent_value": str(parent_id) if parent_id else parent_value,
            "values": values,
            "errors": errors,
            "general": general or [],
            "example": ENTERPRISE_NUMBER_EXAMPLE,
        },
        status=status,
    )


@router.get("/organisations/register")
async def registration_form(
    request: Request, token: AccessToken, parent: Annotated[str | None, Query()] = None
) -> Response:
    """The form, for a top-level organisation or under the ``parent`` chosen in the
    picker; an unknown parent is said beside the place, never dropped silently."""
    if parent:
        try:
            parent_id = UUID(parent)
        except ValueError:
            unknown = {"parent_id": _unknown_parent()}
            return await _page(
                request, token, None, {}, unknown, status=422, parent_value=parent[:100]
            )
        return await _page(request, token, parent_id, {})
    return await _page(request, token, None, {})


@router.get("/organisations/register/parent")
async def parent_picker(
    request: Request,
    token: AccessToken,
    q: Annotated[str, Query(max_length=200)] = "",
    open: Annotated[list[str] | None, Query()] = None,
    show: Annotated[str | None, Query()] = None,
) -> Response:
    """Where the new organisation goes (R-ORG-1, R-ORG-3): the name search and the
    tree of the join flow, a parent chosen with a radio button, or none (top level)."""
    services = services_of(request)
    lang = i18n.current_language.get()
    opened = {str(i) for i in _uuids(open or [])}
    shown = _uuids([show]) if show else []
    path: list[OrganisationOut] = []
    if shown:
        path = await services.organisations.path(token, shown[0], lang)
        opened |= {str(o.id) for o in path}
    roots = (await services.organisations.roots(token, lang)).items
    if path and path[0].id not in {r.id for r in roots}:
        roots = [*roots, path[0]]  # "show in tree" beyond the first page of the roots
    tree = await expand_tree(services, token, lang, roots, opened)
    hits: list[OrganisationOut] = []
    q = q.strip()
    if q:
        hits = [h.organisation for h in (await services.organisations.search(token, q, lang)).items]
    return render(
        request,
        "organisation_parent.html",
        {
            "q": q,
            "hits": hits,
            "tree": tree,
            "open_ids": sorted(opened)[:12],
            "show": str(shown[0]) if shown else None,
        },
    )


@router.post("/organisations/register")
async def register_organisation(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    errors = {name: field_message("required") for name in REQUIRED if not values[name]}
    parent_id: UUID | None = None
    raw_parent = ""
    if form.get("parent_id"):
        try:
            parent_id = UUID(str(form["parent_id"]))
        except ValueError:
            errors["parent_id"] = _unknown_parent()
            raw_parent = str(form["parent_id"])[:100]
    if not any(values[n] for n in NAME_FIELDS):
        errors["name_nl"] = field_message("name_required")
    number = enterprise_number(values["enterprise_number"])
    if values["enterprise_number"] and number is None:
        errors["enterprise_number"] = field_message("invalid_enterprise_number")
    if errors:
        return await _page(
            request, token, parent_id, values, errors, status=422, parent_value=raw_parent
        )
    if parent_id is not None and await _parent(request, token, parent_id) is None:
        return await _page(request, token, parent_id, values, status=422)
    proposal: dict[str, Any] = {
        "parent_id": str(parent_id) if parent_id else None,
        "names": {n[5:]: values[n] for n in NAME_FIELDS if values[n]},
        "enterprise_number": number,
        "address": {k: values[k] for k in ADDRESS_FIELDS},
    }
    try:
        await services_of(request).requests.register_organisation(token, proposal)
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        error.fields = [FieldProblem(_service_field(p.field), p.code) for p in error.fields]
        fields, general = field_errors(error, {*FIELDS, "parent_id"})
        if "parent_id" in fields:
            fields["parent_id"] = _unknown_parent()
        return await _page(request, token, parent_id, values, fields, general, status=422)
    flash(request, i18n.gettext("Your request to register the organisation has been submitted."))
    return redirect("/my-requests")
