"""The two tables of the messaging plumbing, in the producer's or consumer's own
database (and migrations): the outbox and the processed events."""

from __future__ import annotations

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
)


def outbox_table(metadata: MetaData, name: str = "outbox") -> Table:
    """The outbox: one row per event to publish, in commit order (``id``).

    The relay deletes a row once the bus acknowledged it.
    """
    table = Table(
        name,
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
    # The relay looks for older rows of the keys it holds (per-key order).
    Index(f"ix_{name}_key_id", table.c.key, table.c.id)
    return table


def processed_events_table(metadata: MetaData, name: str = "processed_event") -> Table:
    """The events a consumer applied, keyed by (consumer, event id).

    ``consumer`` (the consumer group) lets several consumers of one database
    keep separate records.
    """
    return Table(
        name,
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
