"""The in-process transport of the hub's embedded mode (``eproc`` CLI, no Kafka).

The application code is the same as on Kafka: the SDK's handler registry applies
the events and the SDK's outbox relay reports dossier links; only the transport
changes, to the runtime's SQLite-backed bus shared by the embedded services. Real
deployments use Kafka (the default); this module needs ``eproc-runtime``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_contracts.events import ClaimsChanged, TokensRevoked
from eproc_platform_sdk import EventHandlers, OutgoingMessage, RevocationList


async def start_inprocess(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    handlers: EventHandlers,
    *,
    group: str,
    bus_database_url: str,
    topic_prefix: str,
) -> Any:
    """Start a consumer of the handlers' events on the in-process bus; returns the
    runtime's ``Messaging`` (its ``publisher`` and ``stop()``)."""
    from eproc_runtime.db import new_metadata
    from eproc_runtime.messaging import Messaging
    from eproc_runtime.outbox import add_messaging_tables
    from eproc_runtime.settings import ServiceSettings

    metadata = new_metadata()
    tables = add_messaging_tables(metadata)  # the runtime consumer's own bookkeeping
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)

    messaging = Messaging(
        ServiceSettings(
            service_name=group,
            database_url=str(engine.url),
            bus="inprocess",
            bus_database_url=bus_database_url,
            topic_prefix=topic_prefix,
        ),
        sessions,
        tables,
        handlers=handlers,
        relay=False,
    )
    await messaging.start()
    return messaging


def into(revocations: RevocationList) -> Any:
    """A handler that takes the edge's revocation events into ``revocations``."""

    async def handle(
        session: AsyncSession, event: TokensRevoked | ClaimsChanged, envelope: Any
    ) -> None:
        revocations.apply(event)

    return handle


def publisher_of(messaging: Any) -> Any:
    """The SDK relay's ``publish`` function, on the in-process bus."""

    async def publish(messages: Sequence[OutgoingMessage]) -> None:
        await messaging.publisher.publish(messages)

    return publish
