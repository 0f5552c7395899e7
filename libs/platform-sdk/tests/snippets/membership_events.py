import os
from typing import Any

from sqlalchemy import JSON, Column, MetaData, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import MembershipGranted, MembershipRevoked, MembershipRolesChanged
from eproc_platform_sdk import EventConsumer, EventHandlers, processed_events_table, sasl_options

CLIENT_ID = os.environ.get("EPROC_CLIENT_ID", "e-auction")
KAFKA = os.environ.get("EPROC_KAFKA_BOOTSTRAP", "kafka:9092")
# Your application's own principal on the bus (SASL/SCRAM; the hub's operators give it).
KAFKA_USER = os.environ.get("EPROC_KAFKA_USERNAME", CLIENT_ID)
KAFKA_PASSWORD = os.environ.get("EPROC_KAFKA_PASSWORD", "")
TOPIC_PREFIX = os.environ.get("EPROC_TOPIC_PREFIX", "")

metadata = MetaData()
processed = processed_events_table(metadata)  # add it to your migrations
role_holder = Table(
    "role_holder",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("roles", JSON, nullable=False),
)
handlers = EventHandlers()


async def _replace_roles(session: AsyncSession, user_id: Any, org_id: Any, roles: Any) -> None:
    mine = sorted(r.role for r in roles if r.application == CLIENT_ID)
    key = (role_holder.c.user_id == user_id, role_holder.c.organisation_id == org_id)
    await session.execute(role_holder.delete().where(*key))
    if mine:
        await session.execute(
            role_holder.insert().values(user_id=user_id, organisation_id=org_id, roles=mine)
        )


@handlers.on(MembershipGranted)
async def granted(session: AsyncSession, event: MembershipGranted, envelope: Envelope[Any]) -> None:
    await _replace_roles(session, event.user_id, event.organisation_id, event.roles)


@handlers.on(MembershipRolesChanged)
async def roles_changed(
    session: AsyncSession, event: MembershipRolesChanged, envelope: Envelope[Any]
) -> None:
    await _replace_roles(session, event.user_id, event.organisation_id, event.roles)


@handlers.on(MembershipRevoked)
async def revoked(session: AsyncSession, event: MembershipRevoked, envelope: Envelope[Any]) -> None:
    await _replace_roles(session, event.user_id, event.organisation_id, [])


def membership_consumer(sessions: async_sessionmaker[AsyncSession]) -> EventConsumer:
    """Start it with your app (``await consumer.start()``), stop it at shutdown."""
    return EventConsumer(
        handlers,
        sessions=sessions,
        processed=processed,
        bootstrap_servers=KAFKA,
        kafka_options=sasl_options(KAFKA_USER, KAFKA_PASSWORD),
        group_id=CLIENT_ID,  # one group per application: its instances share the work
        topic_prefix=TOPIC_PREFIX,
    )
