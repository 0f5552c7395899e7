"""Wires a service's outbox relay and consumers to the bus chosen in its settings."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts import handlers as shared
from eproc_runtime.bus.base import Publisher, Subscription
from eproc_runtime.bus.kafka import KafkaPublisher, KafkaSubscription, ensure_topics
from eproc_runtime.bus.log import LogBroker
from eproc_runtime.consumer import EventConsumer, dead_letter_topic
from eproc_runtime.outbox import MessagingTables
from eproc_runtime.relay import OutboxRelay
from eproc_runtime.settings import ServiceSettings

_log_brokers: dict[str, LogBroker] = {}


def log_broker(url: str) -> LogBroker:
    """The process-wide in-process broker for ``url``.

    Every service of the embedded mode shares it.
    """
    if url not in _log_brokers:
        _log_brokers[url] = LogBroker(url)
    return _log_brokers[url]


async def close_log_brokers() -> None:
    """Stop every in-process broker (end of the embedded mode's lifespan)."""
    for broker in _log_brokers.values():
        await broker.stop()
    _log_brokers.clear()


class Bus:
    """Makes publishers and subscriptions for the configured bus."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings

    def publisher(self) -> Publisher:
        if self.settings.bus == "inprocess":
            return log_broker(self.settings.bus_database_url).publisher()
        return KafkaPublisher(
            self.settings.kafka_connection(), client_id=self.settings.service_name
        )

    def subscription(self, group: str, topics: Iterable[str]) -> Subscription:
        if self.settings.bus == "inprocess":
            return log_broker(self.settings.bus_database_url).subscription(group, topics)
        instance = self.settings.instance_name
        return KafkaSubscription(
            self.settings.kafka_connection(),
            group,
            topics,
            instance_id=f"{group}.{instance}" if instance else None,
            fetch_max_wait_ms=self.settings.consumer_fetch_max_wait_ms,
        )

    async def ensure_topics(self, topics: Iterable[str]) -> None:
        if self.settings.bus == "kafka":
            await ensure_topics(self.settings.kafka_connection(), topics)


class Messaging:
    """A service's relay and consumer, started and stopped together (in ``lifespan``)."""

    def __init__(
        self,
        settings: ServiceSettings,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        handlers: shared.EventHandlers[AsyncSession] | None = None,
        relay: bool = True,
    ) -> None:
        self.bus = Bus(settings)
        self.settings = settings
        self.publisher = self.bus.publisher()
        self.relay = (
            OutboxRelay(
                sessions,
                tables.outbox,
                self.publisher,
                topic_prefix=settings.topic_prefix,
                batch_size=settings.relay_batch_size,
                idle_interval=settings.relay_idle_interval,
            )
            if relay
            else None
        )
        self.consumer: EventConsumer | None = None
        if handlers:
            group = settings.service_name
            topics = [settings.topic_prefix + t for t in handlers.topics()]
            self.consumer = EventConsumer(
                group=group,
                subscription=self.bus.subscription(group, topics),
                sessions=sessions,
                processed=tables.processed_event,
                handlers=handlers,
                dead_letters=self.publisher,
                topic_prefix=settings.topic_prefix,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff=settings.consumer_retry_backoff,
            )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if self.consumer is not None:
            await self.bus.ensure_topics(
                [
                    *self.consumer.topics,
                    dead_letter_topic(self.consumer.group, self.settings.topic_prefix),
                ]
            )
        await self.publisher.start()
        if self.relay is not None:
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.consumer is not None:
            self._tasks.append(asyncio.create_task(self.consumer.run(), name="event-consumer"))

    async def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        if self.consumer is not None:
            self.consumer.stop()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=10)
        self._tasks.clear()
        await self.publisher.stop()


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGTERM or SIGINT (graceful shutdown)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
