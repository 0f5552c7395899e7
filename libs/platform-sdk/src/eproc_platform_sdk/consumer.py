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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts import handlers as shared
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import MalformedEvent, UnknownEventType, decode
from eproc_platform_sdk.idempotency import first_time

log = logging.getLogger(__name__)


class EventHandlers(shared.EventHandlers[AsyncSession]):
    """A registry of handlers by event class (one handler per event type); the same
    registry the user-management services use (``eproc_contracts.handlers``)."""


async def handle_once(
    handlers: EventHandlers,
    sessions: async_sessionmaker[AsyncSession],
    processed: Table,
    consumer: str,
    envelope: Envelope[Any],
) -> bool:
    """Apply ``envelope`` in one transaction unless it was processed before.

    Returns whether the handler ran. Usable without Kafka (replays, tests, other buses).
    """
    if handlers.handler_for(envelope.type) is None:
        return False
    async with sessions() as session, session.begin():
        if not await first_time(session, processed, consumer, envelope.event_id):
            return False
        await handlers.dispatch(session, envelope)
    return True


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
        self._kafka_options = dict(kafka_options or {})
        self.sessions = sessions
        self.processed = processed
        self.group_id = group_id
        self.topics = [topic_prefix + name for name in handlers.topics()]
        self._bootstrap = bootstrap_servers
        self._retry_backoff = retry_backoff
        self._max_backoff = max_backoff
        self._max_records = max_records
        self._kafka: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.handled = 0
        """Events whose handler ran (not counting duplicates and skips)."""
        self.failures = 0
        """Handler attempts that raised."""

    async def start(self) -> None:
        """Join the consumer group and consume in a background task."""
        if not self.topics:
            raise ValueError("no handler is registered")
        options: dict[str, Any] = {
            "bootstrap_servers": self._bootstrap,
            "group_id": self.group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            **self._kafka_options,
        }
        self._kafka = AIOKafkaConsumer(*self.topics, **options)
        await self._kafka.start()
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=f"eproc-consumer-{self.group_id}")

    async def stop(self) -> None:
        """Stop after the record in hand (uncommitted work is redelivered later)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._kafka is not None:
            await self._kafka.stop()
            self._kafka = None

    async def __aenter__(self) -> EventConsumer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        assert self._kafka is not None
        kafka = self._kafka
        while not self._stopping.is_set():
            try:
                batch = await kafka.getmany(timeout_ms=200, max_records=self._max_records)
            except KafkaError:
                log.exception("polling %s failed; retrying", self.topics)
                await asyncio.sleep(self._retry_backoff)
                continue
            for partition, records in batch.items():
                for record in records:
                    if not await self._process(record.value):
                        return  # stopping while a handler kept failing: not committed
                    # The app's transaction committed: only now move the offset.
                    try:
                        await kafka.commit({partition: record.offset + 1})
                    except KafkaError:
                        # E.g. a rebalance took the partition: its next owner redelivers
                        # from the last commit, and the processed-events table skips it.
                        log.warning("offset commit failed for %s", partition, exc_info=True)

    async def _process(self, raw: bytes | None) -> bool:
        try:
            envelope = decode(raw or b"")
        except UnknownEventType:
            return True  # a newer producer's event type: not ours to know
        except MalformedEvent as exc:
            log.error("skipping a malformed event on %s: %s", self.topics, exc)
            return True
        backoff = self._retry_backoff
        while True:
            try:
                if await handle_once(
                    self.handlers, self.sessions, self.processed, self.group_id, envelope
                ):
                    self.handled += 1
                return True
            except Exception:
                self.failures += 1
                log.exception("handler for %s failed; retrying", envelope.type)
                try:
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                    return False
                except TimeoutError:
                    backoff = min(backoff * 2, self._max_backoff)
