"""A typed consumer of the user-management events (``org.membership.v1`` and others).

Register handlers by event class; each gets a SQLAlchemy session whose
transaction also records the event id (see :mod:`eproc_platform_sdk.idempotency`),
the typed payload and its envelope:

.. code-block:: python

    handlers = EventHandlers()

    @handlers.on(MembershipGranted)
    async def granted(
        session: AsyncSession, event: MembershipGranted, envelope: Envelope[Any]
    ) -> None:
        ...

    consumer = EventConsumer(
        handlers, sessions=sessions, processed=processed,
        bootstrap_servers="kafka:9092", group_id="e-tendering",
        kafka_options=sasl_options("e-tendering", password),  # the app's own principal
    )
    await consumer.start()   # ... await consumer.stop()

Delivery rules:

- per record: one transaction (processed-id insert first, then the handler);
  the Kafka offset is committed only *after* that transaction committed — a
  crash in between redelivers the event, and the processed-events table makes
  the redelivery a no-op;
- a handler that raises is retried (exponential backoff up to ``max_backoff``)
  and the partition waits: events of one user stay in order;
- event types this version of the contracts does not know, and types without a
  handler, are skipped (producers may add event types: that is not breaking);
- a record that is not a valid envelope is logged and skipped.

The consumer is ``eproc_messaging``'s, the one the hub's own services run
(they add a dead-letter topic, which an application's principal may not write).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts import handlers as shared
from eproc_messaging import consumer
from eproc_messaging.consumer import handle_once
from eproc_messaging.kafka import KafkaSubscription

__all__ = ["EventConsumer", "EventHandlers", "handle_once"]


class EventHandlers(shared.EventHandlers[AsyncSession]):
    """A registry of handlers by event class (one handler per event type); the same
    registry the user-management services use (``eproc_contracts.handlers``)."""


class EventConsumer:
    """Consumes the handlers' topics from Kafka with manual, after-commit offsets."""

    def __init__(
        self,
        handlers: EventHandlers,
        *,
        sessions: async_sessionmaker[AsyncSession],
        processed: Table,
        bootstrap_servers: str,
        group_id: str,
        topic_prefix: str = "",
        retry_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_records: int = 100,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        """``kafka_options``: further aiokafka client options, e.g. the SASL
        credentials of the application's principal (:func:`sasl_options`)."""
        self.handlers = handlers
        self.sessions = sessions
        self.processed = processed
        self.group_id = group_id
        self.topics = [topic_prefix + name for name in handlers.topics()]
        self._options = {"bootstrap_servers": bootstrap_servers, **(kafka_options or {})}
        self._topic_prefix = topic_prefix
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff
        self._max_records = max_records
        self._consumer = self._new_consumer()
        self._task: asyncio.Task[None] | None = None

    def _new_consumer(self) -> consumer.EventConsumer:
        return consumer.EventConsumer(
            group=self.group_id,
            subscription=KafkaSubscription(self._options, self.group_id, self.topics),
            sessions=self.sessions,
            processed=self.processed,
            handlers=self.handlers,
            topic_prefix=self._topic_prefix,
            retry_backoff=self._retry_backoff,
            max_backoff=self._max_backoff,
            batch_size=self._max_records,
        )

    @property
    def handled(self) -> int:
        """Events whose handler ran (not counting duplicates and skips)."""
        return self._consumer.handled

    @property
    def failures(self) -> int:
        """Handler attempts that raised."""
        return self._consumer.failures

    async def start(self) -> None:
        """Join the consumer group and consume in a background task."""
        if not self.topics:
            raise ValueError("no handler is registered")
        self._consumer = self._new_consumer()
        self._task = asyncio.create_task(
            self._consumer.run(), name=f"eproc-consumer-{self.group_id}"
        )

    async def stop(self) -> None:
        """Stop after the record in hand (uncommitted work is redelivered later)."""
        self._consumer.stop()
        if self._task is not None:
            await self._task
            self._task = None

    async def __aenter__(self) -> EventConsumer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
