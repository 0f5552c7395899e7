"""What platform operators read here (R-OP-1): a user's memberships, the members of
the organisations matching a name or an enterprise number (the account search by
organisation), and this service's audit trail across organisations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_organisations import search as name_search
from eproc_organisations.enterprise_number import (
    InvalidEnterpriseNumber,
    normalise_enterprise_number,
)
from eproc_organisations.repository import Directory, Membership, Memberships, Organisation, Records
from eproc_organisations.service.common import Actor, is_operator
from eproc_organisations.service.memberships import my_memberships
from eproc_runtime.errors import Forbidden, Invalid

MATCHING_ORGANISATIONS = 20
"""The best-ranked organisations whose members an account search by name lists."""


async def require_operator(session: AsyncSession, actor: Actor) -> None:
    if not await is_operator(session, actor):
        raise Forbidden("operator_required", "Only a platform operator may do this.")


async def user_memberships(
    session: AsyncSession, actor: Actor, user_id: UUID
) -> list[tuple[Membership, Organisation]]:
    """A user's memberships with their organisations, the default first."""
    await require_operator(session, actor)
    return await my_memberships(session, user_id)


def _enterprise_number(query: str) -> str | None:
    if sum(ch.isdigit() for ch in query) < 9:
        return None
    try:
        return normalise_enterprise_number(query)
    except InvalidEnterpriseNumber:
        return None


async def matching_organisations(
    session: AsyncSession, actor: Actor, query: str
) -> list[Organisation]:
    """The organisation with this enterprise number, or the organisations best
    matching this name, best first."""
    await require_operator(session, actor)
    return await _matching(session, query)


async def _matching(session: AsyncSession, query: str) -> list[Organisation]:
    query = query.strip()
    if not query:
        raise Invalid("query_required", "Give an organisation name or number.", field="q")
    directory = Directory(session)
    number = _enterprise_number(query)
    if number is not None:
        found = await directory.by_enterprise_number(number)
        return [found] if found is not None else []
    hits = await name_search.search(session, query, offset=0, limit=MATCHING_ORGANISATIONS)
    many = await directory.many([h.organisation_id for h in hits])
    return [many[h.organisation_id] for h in hits if h.organisation_id in many]


async def members_of_matching_organisations(
    session: AsyncSession, actor: Actor, query: str, *, offset: int, limit: int
) -> tuple[list[tuple[Membership, Organisation, Mapping[str, Any] | None]], int]:
    """The members of the organisation with this enterprise number, or of the
    organisations best matching this name (best match first, then by family name)."""
    await require_operator(session, actor)
    ranked = await _matching(session, query)
    memberships = Memberships(session)
    rows = await memberships.of_organisations([o.id for o in ranked])
    users = await memberships.known_users({m.user_id for m in rows})
    rank = {o.id: index for index, o in enumerate(ranked)}
    by_id = {o.id: o for o in ranked}

    def order(m: Membership) -> tuple[int, str, str, str]:
        user = users.get(m.user_id) or {}
        return (
            rank[m.organisation_id],
            str(user.get("family_name", "")).casefold(),
            str(user.get("given_name", "")).casefold(),
            str(m.user_id),
        )

    rows.sort(key=order)
    page = rows[offset : offset + limit]
    return [(m, by_id[m.organisation_id], users.get(m.user_id)) for m in page], len(rows)


async def audit_trail(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: UUID | None,
    organisation_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    offset: int,
    limit: int,
) -> list[Mapping[str, Any]]:
    """This service's audit trail over every organisation, newest first (R-NF-1)."""
    await require_operator(session, actor)
    if since is not None and until is not None and since >= until:
        raise Invalid("invalid_range", "'since' must be before 'until'.", field="until")
    return await Records(session).search(
        user_id=user_id,
        organisation_id=organisation_id,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
