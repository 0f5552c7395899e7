"""Event handlers that keep the claims projection (R-SSO-4).

Membership events are ordered per user (the partition key), and each row
remembers the time of the last event applied to it, so that a late, older
event can never bring back a revoked membership. Every change bumps the
user's projection version in the same transaction: that is what invalidates
the claims cache of every edge instance (eproc_edge.claims.ClaimsCache).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts import events as ev
from eproc_contracts.envelope import Envelope
from eproc_edge.models import (
    projected_default_organisation,
    projected_membership,
    projected_organisation,
    projected_user,
    projection_version,
)
from eproc_runtime.consumer import Handler


async def _bump(session: AsyncSession, user_id: UUID) -> None:
    """Invalidate the user's cached claims on every edge instance."""
    updated = await session.execute(
        update(projection_version)
        .where(projection_version.c.user_id == user_id)
        .values(version=projection_version.c.version + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        await session.execute(projection_version.insert().values(user_id=user_id, version=1))


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _upsert(
    session: AsyncSession, table: Any, key: dict[str, Any], values: dict[str, Any]
) -> None:
    where = [table.c[name] == value for name, value in key.items()]
    exists = await session.scalar(select(table.c[next(iter(key))]).where(*where))
    if exists is None:
        await session.execute(table.insert().values(**key, **values))
    else:
        await session.execute(table.update().where(*where).values(**values))


async def _set_default(session: AsyncSession, user_id: UUID, organisation_id: UUID | None) -> bool:
    """Record the user's default organisation; whether it changed."""
    current = await session.execute(
        select(projected_default_organisation.c.organisation_id).where(
            projected_default_organisation.c.user_id == user_id
        )
    )
    row = current.first()
    if row is not None and row.organisation_id == organisation_id:
        return False
    await _upsert(
        session,
        projected_default_organisation,
        {"user_id": user_id},
        {"organisation_id": organisation_id},
    )
    return True


def make_handlers() -> dict[str, Handler]:
    """The edge's handlers, keyed by event type."""

    async def user_changed(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data = envelope.data
        values: dict[str, Any] = {
            "given_name": data.given_name,
            "family_name": data.family_name,
            "email": data.email,
            "language": str(data.language),
        }
        if isinstance(data, ev.UserRegistered):
            values["username"] = data.username
            await _upsert(session, projected_user, {"user_id": data.user_id}, values)
        else:
            exists = await session.scalar(
                select(projected_user.c.user_id).where(projected_user.c.user_id == data.user_id)
            )
            if exists is None:
                # The registration has not been seen: the username stays unknown.
                values["username"] = ""
            await _upsert(session, projected_user, {"user_id": data.user_id}, values)
        await _bump(session, data.user_id)

    async def organisation_changed(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data = envelope.data
        names = data.names.model_dump(exclude_none=True)
        await _upsert(
            session,
            projected_organisation,
            {"organisation_id": data.organisation_id},
            {"names": names},
        )
        members = await session.execute(
            select(projected_membership.c.user_id).where(
                projected_membership.c.organisation_id == data.organisation_id
            )
        )
        for user_id in members.scalars():
            await _bump(session, user_id)

    async def membership_changed(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data = envelope.data
        occurred = _utc(envelope.occurred_at)
        key = {"user_id": data.user_id, "organisation_id": data.organisation_id}
        row = (
            await session.execute(
                select(projected_membership.c.last_event_at).where(
                    projected_membership.c.user_id == data.user_id,
                    projected_membership.c.organisation_id == data.organisation_id,
                )
            )
        ).first()
        if row is not None and _utc(row.last_event_at) > occurred:
            return  # an older event delivered late changes nothing
        if isinstance(data, ev.MembershipRevoked):
            values: dict[str, Any] = {"roles": [], "revoked": True, "last_event_at": occurred}
        else:
            values = {
                "roles": [r.model_dump() for r in data.roles],
                "revoked": False,
                "last_event_at": occurred,
            }
        await _upsert(session, projected_membership, key, values)
        if isinstance(data, ev.MembershipGranted) and data.default:
            # The whole approval in one event: the next token has both at once.
            await _set_default(session, data.user_id, data.organisation_id)
        await _bump(session, data.user_id)

    async def default_changed(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data = envelope.data
        if await _set_default(session, data.user_id, data.organisation_id):
            await _bump(session, data.user_id)

    return {
        ev.UserRegistered.EVENT_TYPE: user_changed,
        ev.UserProfileChanged.EVENT_TYPE: user_changed,
        ev.OrganisationRegistered.EVENT_TYPE: organisation_changed,
        ev.OrganisationUpdated.EVENT_TYPE: organisation_changed,
        ev.MembershipGranted.EVENT_TYPE: membership_changed,
        ev.MembershipRolesChanged.EVENT_TYPE: membership_changed,
        ev.MembershipRevoked.EVENT_TYPE: membership_changed,
        ev.DefaultOrganisationChanged.EVENT_TYPE: default_changed,
    }
