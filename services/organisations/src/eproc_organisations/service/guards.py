"""The membership guards asked up front (R-REQ-8): could this member leave, or
have these roles, right now? The same rules run again when a change is applied
(``memberships.refusals``); here they only answer."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_organisations.errors import ChangeRefused
from eproc_organisations.repository import Memberships
from eproc_organisations.roles import Grant, catalogue
from eproc_organisations.service.common import Actor, is_operator
from eproc_organisations.service.memberships import refusals, require_superuser


async def may_check(
    session: AsyncSession, actor: Actor, organisation_id: UUID, user_id: UUID
) -> None:
    """Who may ask whether a member could leave: the member, a Superuser of the
    organisation, a platform application's back end (the requests service), an operator."""
    if actor.kind == "client" or actor.user_id == user_id or await is_operator(session, actor):
        return
    await require_superuser(session, actor, organisation_id)


async def leave_check(
    session: AsyncSession, actor: Actor, organisation_id: UUID, user_id: UUID
) -> list[ChangeRefused]:
    """Why the member could not leave (or be removed) right now; empty when they could."""
    await may_check(session, actor, organisation_id, user_id)
    return await refusals(session, user_id, organisation_id, remaining=frozenset(), leaving=True)


async def role_change_check(
    session: AsyncSession,
    actor: Actor,
    organisation_id: UUID,
    user_id: UUID,
    roles: Iterable[Grant],
) -> list[ChangeRefused]:
    """Why the member's roles could not become ``roles`` (after the Superuser cascade)."""
    await may_check(session, actor, organisation_id, user_id)
    current = await Memberships(session).get(user_id, organisation_id)
    before = current.roles if current else frozenset()
    after = (await catalogue(session)).apply_cascade(before, roles)
    return await refusals(session, user_id, organisation_id, remaining=after, leaving=False)
