"""The application top bar (R-SSO-3) and the active organisation, as the edge's
SSO session knows them *now*: read again on every page a logged-in user opens,
so the header follows membership changes at once (issue 19 point 7) — a removed
member no longer sees the old organisation, someone approved mid-session sees
the new one — and the portal's token is refreshed when the edge says the claims
it carries have changed; the menu's Superuser screens follow with them."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import Request

from eproc_contracts.directory import MemberOut, MyMembership
from eproc_contracts.roles import holds_superuser
from eproc_portal import i18n
from eproc_portal.clients.base import ApiError
from eproc_portal.web import services_of

log = structlog.get_logger()


def is_superuser(holder: MyMembership | MemberOut) -> bool:
    """Whether this membership (or member) holds the Superuser role."""
    return holds_superuser(holder.roles)


def remember_superuser(request: Request, memberships: list[MyMembership]) -> None:
    """Whether the menu offers the Superuser's screens: the user is Superuser somewhere."""
    request.session["superuser"] = any(is_superuser(m) for m in memberships)


async def follow_memberships(request: Request, token: str) -> None:
    """The menu after a membership change (issue 19 point 7): read the user's
    memberships again, so the Superuser's screens come and go on every page."""
    try:
        memberships = await services_of(request).organisations.my_organisations(
            token, i18n.current_language.get()
        )
    except ApiError as error:
        # The menu is a convenience too: the page works, the menu stays as it was.
        log.warning("memberships_unavailable", code=error.code, status=error.status)
        return
    remember_superuser(request, memberships)


async def load_topbar(request: Request, token: str) -> bool:
    """Read the edge's top bar into the session; returns whether the token's
    claims are stale (refresh it). Without the edge (tests, embedded screens)
    nothing changes."""
    edge = services_of(request).edge
    if edge is None:
        return False
    try:
        bar: dict[str, Any] = await edge.topbar(token)
    except ApiError as error:
        # The top bar is a convenience: the page itself still works without it.
        log.warning("topbar_unavailable", code=error.code, status=error.status)
        return False
    request.session["topbar"] = {
        "applications": [
            {"name": a.get("name", ""), "url": a.get("switch_url", ""), "id": a.get("client_id")}
            for a in bar.get("applications", [])
        ],
        # The edge's token for the top bar's switch forms (a POST, R-SEC-5).
        "switch_token": bar.get("switch_token"),
    }
    active = bar.get("active_organisation") or {}
    if active.get("id"):
        request.session["active_organisation"] = {
            "id": active["id"],
            "name": active.get("name"),
            "names": active.get("names") or {},
        }
    else:
        request.session.pop("active_organisation", None)
    stale = bar.get("claims_current") is False
    if stale or "superuser" not in request.session:
        # The claims changed since the token (a membership, a role): the menu too.
        await follow_memberships(request, token)
    return stale
