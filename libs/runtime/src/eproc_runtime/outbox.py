"""The transactional outbox: an event is written in the same transaction as
the state change it describes (STYLE.md habit 5), and a relay publishes it.

Every service adds the two messaging tables to its own MetaData with
:func:`add_messaging_tables` and keeps them in its Alembic history.
"""

from __future__ import annotations

from collections.abc import Callable
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
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.topics import encode, topic_of
from eproc_runtime.db import is_sqlite
from eproc_runtime.tracing import current_traceparent

OUTBOX_CHANNEL = "eproc_outbox"
"""The PostgreSQL notification channel a transaction that wrote the outbox signals
on commit; every relay of the database LISTENs on it (eproc_runtime.relay)."""

_WROTE_OUTBOX = "eproc_outbox_written"
_committed_listeners: dict[str, set[Callable[[], None]]] = {}


def database_key(url: URL) -> str:
    """The key under which a database's outbox commits are signalled in this process."""
    return url.render_as_string(hide_password=True)


def on_outbox_commit(database: str, wake: Callable[[], None]) -> Callable[[], None]:
    """Call ``wake`` after each commit in this process of a transaction that wrote
    the outbox of ``database`` (a :func:`database_key`); returns the unsubscribe."""
    _committed_listeners.setdefault(database, set()).add(wake)
    return lambda: _committed_listeners.get(database, set()).discard(wake)


@event.listens_for(Session, "after_commit")
def _signal_committed_outbox(session: Session) -> None:
    if not session.info.pop(_WROTE_OUTBOX, False):
        return
    for wake in tuple(_committed_listeners.get(database_key(session.get_bind().engine.url), ())):
        wake()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_outbox(session: Session) -> None:
    session.info.pop(_WROTE_OUTBOX, None)


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

        The commit wakes the relays at once: those of this process through an
        in-process signal, and on PostgreSQL every relay of the database through
        a ``NOTIFY`` sent in the same transaction (delivered only on commit).

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
        if not session.sync_session.info.get(_WROTE_OUTBOX):
            session.sync_session.info[_WROTE_OUTBOX] = True
            if not is_sqlite(session):
                await session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
        return envelope
