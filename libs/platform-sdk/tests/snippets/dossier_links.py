import os

from sqlalchemy import Column, MetaData, String, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_platform_sdk import (
    Caller,
    DossierLinkReporter,
    OutboxRelay,
    outbox_table,
    sasl_options,
)

CLIENT_ID = os.environ.get("EPROC_CLIENT_ID", "e-auction")
KAFKA = os.environ.get("EPROC_KAFKA_BOOTSTRAP", "kafka:9092")
# Your application's own principal on the bus (SASL/SCRAM; the hub's operators give it).
KAFKA_USER = os.environ.get("EPROC_KAFKA_USERNAME", CLIENT_ID)
KAFKA_PASSWORD = os.environ.get("EPROC_KAFKA_PASSWORD", "")
TOPIC_PREFIX = os.environ.get("EPROC_TOPIC_PREFIX", "")

metadata = MetaData()
outbox = outbox_table(metadata)  # add it to your migrations
auction_participant = Table(
    "auction_participant",
    metadata,
    Column("auction_id", String(100), primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, nullable=False),
)
reporter = DossierLinkReporter(CLIENT_ID, outbox)


async def add_participant(
    sessions: async_sessionmaker[AsyncSession], relay: OutboxRelay, auction_id: str, caller: Caller
) -> None:
    assert caller.user_id is not None and caller.organisation is not None
    async with sessions.begin() as session:  # the link and its report commit together
        await session.execute(
            auction_participant.insert().values(
                auction_id=auction_id,
                user_id=caller.user_id,
                organisation_id=caller.organisation.id,
            )
        )
        await reporter.linked(
            session,
            dossier_id=auction_id,
            organisation_id=caller.organisation.id,
            user_id=caller.user_id,
        )
    relay.nudge()  # publish now rather than at the next poll


def dossier_link_relay(sessions: async_sessionmaker[AsyncSession]) -> OutboxRelay:
    """Start it with your app (``await relay.start()``), stop it at shutdown."""
    return OutboxRelay(
        sessions=sessions,
        outbox=outbox,
        bootstrap_servers=KAFKA,
        topic_prefix=TOPIC_PREFIX,
        kafka_options=sasl_options(KAFKA_USER, KAFKA_PASSWORD),
    )
