"""Idempotent event handling in the application's own database.

Kafka delivers at least once: after a crash or a rebalance, an event may come
again. Record each processed event id in a table *in the same transaction* as
the handler's writes, inserting it *first*: if the insert finds the id already
there, the event was handled before and the handler is skipped. Because the id
and the effects commit together, there is no window where one exists without
the other.

.. code-block:: python

    metadata = MetaData()
    processed = processed_events_table(metadata)

    async with sessions.begin() as session:
        if await first_time(session, processed, "my-app", envelope.event_id):
            ...  # apply the event
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, MetaData, String, Table, Uuid
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

PROCESSED_EVENTS_TABLE = "eproc_processed_event"


def processed_events_table(metadata: MetaData, name: str = PROCESSED_EVENTS_TABLE) -> Table:
    """The table of processed event ids, keyed by (consumer, event id).

    Add it to your migrations like any table of yours. ``consumer`` lets
    several consumers of one database (e.g. two consumer groups) keep
    separate records.
    """
    return Table(
        name,
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


async def first_time(session: AsyncSession, table: Table, consumer: str, event_id: UUID) -> bool:
    """Record ``event_id`` as processed by ``consumer``; ``False`` if it already was.

    Call it first in the transaction that applies the event; the record
    commits (or rolls back) with the handler's writes.
    """
    values: dict[str, Any] = {
        "consumer": consumer,
        "event_id": event_id,
        "processed_at": datetime.now(UTC),
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql_insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(table).values(**values).on_conflict_do_nothing()
    else:
        # Other databases: a savepoint, so the duplicate does not abort the transaction.
        try:
            async with session.begin_nested():
                await session.execute(table.insert().values(**values))
        except IntegrityError:
            return False
        return True
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0) == 1)
