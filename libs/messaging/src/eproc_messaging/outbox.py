"""The transactional outbox: an event is written in the same transaction as
the state change it describes, and a relay (:mod:`eproc_messaging.relay`)
publishes it once that transaction committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from sqlalchemy import Table, event, func, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.topics import encode, topic_of
from eproc_messaging.tracing import current_traceparent

OUTBOX_CHANNEL = "eproc_outbox"
"""The PostgreSQL notification channel a transaction that wrote the outbox signals
on commit; every relay of the database LISTENs on it (:mod:`eproc_messaging.relay`)."""

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


class Outbox:
    """Writes a producer's events into its outbox table (:func:`~eproc_messaging.outbox_table`),
    inside the caller's transaction."""

    def __init__(self, table: Table, *, producer: str) -> None:
        self.table = table
        self.producer = producer

    def envelope(
        self,
        payload: Payload,
        *,
        causation: Envelope[Any] | None = None,
        correlation_id: UUID | None = None,
        traceparent: str | None = None,
    ) -> Envelope[Any]:
        """``payload`` as this producer's event (without an explicit ``traceparent``,
        the current span's: the request's, or the consumer's when a handler reacts)."""
        return Envelope.wrap(
            payload,
            producer=self.producer,
            causation=causation,
            correlation_id=correlation_id,
            traceparent=traceparent or current_traceparent(),
        )

    @staticmethod
    def row(envelope: Envelope[Any]) -> dict[str, Any]:
        """The outbox row of an event: what :meth:`add` inserts, and what a bulk
        writer (the directory's loader) copies in many at a time."""
        return {
            "event_id": envelope.event_id,
            "topic": topic_of(envelope.data).name,
            "key": envelope.partition_key,
            "event_type": envelope.type,
            "payload": encode(envelope).decode(),
            "traceparent": envelope.traceparent,
        }

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

        Without an explicit ``traceparent`` the current span's is recorded.
        """
        envelope = self.envelope(
            payload, causation=causation, correlation_id=correlation_id, traceparent=traceparent
        )
        await session.execute(insert(self.table).values(**self.row(envelope)))
        if not session.sync_session.info.get(_WROTE_OUTBOX):
            session.sync_session.info[_WROTE_OUTBOX] = True
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))
        return envelope
