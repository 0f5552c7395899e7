"""What a platform application keeps from the user-management events: who holds
which of *its* roles in which organisation (a consumer of ``org.membership.v1``),
and the dossier links it reports (``platform.dossier-link.v1``, through an
outbox, so the organisations service can refuse a leave while a user is
linked to dossiers: R-REQ-8)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, String, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts import events as ev
from eproc_contracts.envelope import Envelope
from eproc_runtime.consumer import Handler
from eproc_runtime.db import new_metadata
from eproc_runtime.outbox import Outbox, add_messaging_tables

metadata = new_metadata()
messaging_tables = add_messaging_tables(metadata)
member = Table(
    "member",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("roles", JSON, nullable=False),  # this application's roles only
)
dossier_link = Table(
    "dossier_link",
    metadata,
    Column("dossier_id", String(100), primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, nullable=False),
)


def make_handlers(application: str) -> dict[str, Handler]:
    """Membership handlers keeping ``member`` for one application."""

    async def membership_changed(session: AsyncSession, envelope: Envelope[Any]) -> None:
        data = envelope.data
        where = (member.c.user_id == data.user_id, member.c.organisation_id == data.organisation_id)
        await session.execute(member.delete().where(*where))
        if isinstance(data, ev.MembershipRevoked):
            return
        roles = sorted(r.role for r in data.roles if r.application == application)
        if roles:
            await session.execute(
                member.insert().values(
                    user_id=data.user_id, organisation_id=data.organisation_id, roles=roles
                )
            )

    return {
        ev.MembershipGranted.EVENT_TYPE: membership_changed,
        ev.MembershipRolesChanged.EVENT_TYPE: membership_changed,
        ev.MembershipRevoked.EVENT_TYPE: membership_changed,
    }


async def members_of(session: AsyncSession, organisation_id: UUID) -> list[tuple[UUID, list[str]]]:
    rows = await session.execute(
        select(member.c.user_id, member.c.roles)
        .where(member.c.organisation_id == organisation_id)
        .order_by(member.c.user_id)
    )
    return [(r.user_id, list(r.roles)) for r in rows]


async def link_dossier(
    session: AsyncSession,
    outbox: Outbox,
    *,
    application: str,
    dossier_id: str,
    user_id: UUID,
    organisation_id: UUID,
) -> None:
    """Link the user to one of the application's dossiers and report it."""
    exists = await session.scalar(
        select(dossier_link.c.dossier_id).where(
            dossier_link.c.dossier_id == dossier_id, dossier_link.c.user_id == user_id
        )
    )
    if exists is not None:
        return
    await session.execute(
        dossier_link.insert().values(
            dossier_id=dossier_id, user_id=user_id, organisation_id=organisation_id
        )
    )
    await outbox.add(
        session,
        ev.DossierLinked(
            application=application,
            dossier_id=dossier_id,
            organisation_id=organisation_id,
            user_id=user_id,
        ),
    )


async def unlink_dossier(
    session: AsyncSession, outbox: Outbox, *, application: str, dossier_id: str, user_id: UUID
) -> None:
    row = (
        await session.execute(
            select(dossier_link).where(
                dossier_link.c.dossier_id == dossier_id, dossier_link.c.user_id == user_id
            )
        )
    ).first()
    if row is None:
        return
    await session.execute(
        dossier_link.delete().where(
            dossier_link.c.dossier_id == dossier_id, dossier_link.c.user_id == user_id
        )
    )
    await outbox.add(
        session,
        ev.DossierUnlinked(
            application=application,
            dossier_id=dossier_id,
            organisation_id=row.organisation_id,
            user_id=user_id,
        ),
    )
