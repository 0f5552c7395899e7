"""What the application keeps from user management, with the SDK: who holds which of
*its* roles where (membership events, exactly once), and its dossier links
(reported through the outbox, R-REQ-8)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, MetaData, String, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts import events as ev
from eproc_contracts.envelope import Envelope
from eproc_platform_sdk import (
    DossierLinkReporter,
    EventHandlers,
    outbox_table,
    processed_events_table,
)

metadata = MetaData()
processed = processed_events_table(metadata)
outbox = outbox_table(metadata)
member = Table(
    "member",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("roles", JSON, nullable=False),  # this application's roles only
)
person = Table(
    # Who the members are, as their own tokens said when they opened the
    # application or the hub's SCIM service said when they had not (directory.py):
    # membership events carry ids only, pages show names.
    "person",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("name", String(400), nullable=False),
)
dossier_link = Table(
    "dossier_link",
    metadata,
    Column("dossier_id", String(100), primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, nullable=False),
)

Membership = ev.MembershipGranted | ev.MembershipRolesChanged | ev.MembershipRevoked


def make_handlers(application: str) -> EventHandlers:
    """Membership handlers keeping ``member`` for one application."""
    handlers = EventHandlers()

    async def membership_changed(
        session: AsyncSession, event: Membership, envelope: Envelope[Any]
    ) -> None:
        where = (
            member.c.user_id == event.user_id,
            member.c.organisation_id == event.organisation_id,
        )
        await session.execute(member.delete().where(*where))
        if isinstance(event, ev.MembershipRevoked):
            return
        roles = sorted(r.role for r in event.roles if r.application == application)
        if roles:
            await session.execute(
                member.insert().values(
                    user_id=event.user_id, organisation_id=event.organisation_id, roles=roles
                )
            )

    handlers.add(ev.MembershipGranted, membership_changed)
    handlers.add(ev.MembershipRolesChanged, membership_changed)
    handlers.add(ev.MembershipRevoked, membership_changed)
    return handlers


async def members_of(
    session: AsyncSession, organisation_id: UUID
) -> list[tuple[UUID, str | None, list[str]]]:
    """(user id, name if known (a visit, or SCIM), roles), by name."""
    rows = await session.execute(
        select(member.c.user_id, person.c.name, member.c.roles)
        .select_from(member.outerjoin(person, person.c.user_id == member.c.user_id))
        .where(member.c.organisation_id == organisation_id)
        .order_by(person.c.name.is_(None), person.c.name, member.c.user_id)
    )
    return [(r.user_id, r.name, list(r.roles)) for r in rows]


async def remember_person(session: AsyncSession, user_id: UUID, name: str) -> None:
    """The member's name as their token (at each visit) or SCIM gives it."""
    known = await session.scalar(select(person.c.name).where(person.c.user_id == user_id))
    if known is None:
        await session.execute(person.insert().values(user_id=user_id, name=name))
    elif known != name:
        await session.execute(person.update().where(person.c.user_id == user_id).values(name=name))


async def link_dossier(
    session: AsyncSession,
    reporter: DossierLinkReporter,
    *,
    dossier_id: str,
    user_id: UUID,
    organisation_id: UUID,
) -> None:
    """Link the user to one of the application's dossiers and report it (same transaction)."""
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
    await reporter.linked(
        session, dossier_id=dossier_id, organisation_id=organisation_id, user_id=user_id
    )


async def unlink_dossier(
    session: AsyncSession, reporter: DossierLinkReporter, *, dossier_id: str, user_id: UUID
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
    await reporter.unlinked(
        session, dossier_id=dossier_id, organisation_id=row.organisation_id, user_id=user_id
    )
