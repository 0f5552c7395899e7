"""The transactional outbox: an event is written in the same transaction as
the state change it describes (STYLE.md habit 5), and a relay publishes it.

Every service adds the two messaging tables to its own MetaData with
:func:`add_messaging_tables` and keeps them in its Alembic history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    insert,
)
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.topics import encode, topic_of
from eproc_runtime.tracing import current_traceparent


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    processed_event: Table


def add_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define the ``outbox`` and ``processed_event`` tables in a service's MetaData."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("topic", String(255), nullable=False),
        Column("key", String(255), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("payload", Text, nullable=False),
        Column("traceparent", String(55), nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Index("ix_outbox_key_id", outbox.c.key, outbox.c.id)
    processed_event = Table(
        "processed_event",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return MessagingTables(outbox=outbox, processed_event=processed_event)


class Outbox:
    """Writes a service's events into its outbox, inside the caller's transaction."""

    def __init__(self, tables: MessagingTables, *, producer: str) -> None:
        self.tables = tables
        self.producer = producer

    async def add(
        self,
        session: AsyncSession,
        payload: Payload,
        *,
        causation: Envelope[Any] | None = None,
        correlation_id: UUID | None = None,
        traceparent: str | None = None,
    ) -> Envelope[Any]:
        """Record ``payload`` as an event; it is published only if the transaction commits.

        Without an explicit ``traceparent`` the current span's is recorded (the
        request's, or the consumer's when a handler reacts to an event).
        """
        traceparent = traceparent or current_traceparent()
        envelope = Envelope.wrap(
            payload,
            producer=self.producer,
            causation=causation,
            correlation_id=correlation_id,
            traceparent=traceparent,
        )
        await session.execute(
            insert(self.tables.outbox).values(
                event_id=envelope.event_id,
                topic=topic_of(payload).name,
                key=envelope.partition_key,
                event_type=envelope.type,
                payload=encode(envelope).decode(),
                traceparent=envelope.traceparent,
            )
        )
        return envelope
