"""The idempotent event consumer (STYLE.md habit 6, DESIGN.md "Messaging rules").

For each message: in one transaction, insert a processed-event row keyed by
(consumer, event id) and run the handler; a duplicate key means the event was
already handled. Offsets are committed only after that transaction. A message
that keeps failing goes to the group's dead-letter topic with the error, and
the consumer moves on. While the database itself is unreachable nothing is
dead-lettered: the consumer waits and retries.
"""

from __future__ import annotations

import asyncio
import random
import traceback
from typing import Any

import structlog
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts import handlers as shared
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import MalformedEvent, UnknownEventType, decode
from eproc_runtime.bus.base import Delivered, Publisher, Record, Subscription
from eproc_runtime.metrics import CONSUMED
from eproc_runtime.outbox import MessagingTables
from eproc_runtime.tracing import consumer_span

log = structlog.get_logger(__name__)


class EventHandlers(shared.EventHandlers[AsyncSession]):
    """A service's event handlers, registered by event class (``eproc_contracts.handlers``):

    .. code-block:: python

        handlers = EventHandlers()

        @handlers.on(MembershipGranted)
        async def on_granted(
            session: AsyncSession, event: MembershipGranted, envelope: Envelope[Any]
        ) -> None:
            await memberships.member_has_roles(session, event)

    The handler runs in the consumer's transaction, after the processed-event marker.
    """


def dead_letter_topic(group: str, prefix: str = "") -> str:
    return f"{prefix}dlt.{group}"


class _AlreadyProcessed(Exception):
    pass


def _is_infrastructure_failure(exc: BaseException) -> bool:
    if isinstance(
        exc, OperationalError | InterfaceError | ConnectionError | OSError | TimeoutError
    ):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class EventConsumer:
    """Consumes the topics of ``handlers``' events as one member of consumer group ``group``."""

    def __init__(
        self,
        *,
        group: str,
        subscription: Subscription,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        handlers: shared.EventHandlers[AsyncSession],
        dead_letters: Publisher,
        topic_prefix: str = "",
        max_attempts: int = 5,
        retry_backoff: float = 0.2,
        batch_size: int = 200,
    ) -> None:
        self.group = group
        self._subscription = subscription
        self._sessions = sessions
        self._processed = tables.processed_event
        self._handlers = handlers
        self._dead_letters = dead_letters
        self._prefix = topic_prefix
        self._max_attempts = max_attempts
        self._backoff = retry_backoff
        self._batch_size = batch_size
        self._stopping = asyncio.Event()

    @property
    def topics(self) -> list[str]:
        return [self._prefix + t for t in self._handlers.topics()]

    @property
    def joined(self) -> bool:
        """Whether this instance is a member of its group with its partitions assigned."""
        return self._subscription.joined()

    def stop(self) -> None:
        """Finish the message in hand, commit, and leave the group."""
        self._stopping.set()

    async def run(self) -> None:
        await self._subscription.start()
        try:
            while not self._stopping.is_set():
                await self.poll_once(timeout=0.5)
        finally:
            await self._subscription.stop()

    async def poll_once(self, timeout: float) -> int:
        """Handle one batch; return how many messages were read."""
        batch = await self._subscription.poll(self._batch_size, timeout)
        done: dict[tuple[str, int], int] = {}
        try:
            for message in batch:
                if self._stopping.is_set():
                    break
                await self._handle(message)
                done[(message.topic, message.partition)] = message.offset + 1
        finally:
            await self._subscription.commit(done)
            # Whatever was not handled (stopping, or an error escaped) is read again.
            rewind: dict[tuple[str, int], int] = {}
            for message in batch:
                tp = (message.topic, message.partition)
                if message.offset >= done.get(tp, message.offset):
                    rewind[tp] = min(rewind.get(tp, message.offset), message.offset)
            for (topic, partition), offset in rewind.items():
                await self._subscription.rewind(topic, partition, offset)
        return len(batch)

    async def _handle(self, message: Delivered) -> None:
        try:
            envelope = decode(message.value)
        except UnknownEventType:
            CONSUMED.labels(self.group, "unknown_type").inc()
            return
        except MalformedEvent as exc:
            await self._dead_letter(message, exc, attempts=1)
            return
        if self._handlers.handler_for(envelope.type) is None:
            CONSUMED.labels(self.group, "ignored").inc()
            return
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._apply(envelope)
                CONSUMED.labels(self.group, "handled").inc()
                return
            except _AlreadyProcessed:
                CONSUMED.labels(self.group, "duplicate").inc()
                return
            except Exception as exc:
                if _is_infrastructure_failure(exc):
                    # Not the message's fault: wait for the database, do not count it.
                    attempt -= 1
                    delay = 1.0
                    log.warning(
                        "consumer waiting for infrastructure", group=self.group, error=repr(exc)
                    )
                elif attempt >= self._max_attempts:
                    await self._dead_letter(message, exc, attempts=attempt)
                    return
                else:
                    delay = self._backoff * 2 ** (attempt - 1) * (0.5 + random.random() / 2)
                    log.warning(
                        "handler failed; retrying",
                        group=self.group,
                        event_type=envelope.type,
                        event_id=str(envelope.event_id),
                        attempt=attempt,
                        error=repr(exc),
                    )
                if self._stopping.is_set():
                    raise
                await asyncio.sleep(delay)

    async def _apply(self, envelope: Envelope[Any]) -> None:
        with consumer_span(self.group, envelope.type, str(envelope.event_id), envelope.traceparent):
            await self._apply_in_transaction(envelope)

    async def _apply_in_transaction(self, envelope: Envelope[Any]) -> None:
        async with self._sessions() as session, session.begin():
            # The marker goes first: a duplicate fails here, before any effect,
            # and a concurrent duplicate waits on the key until the first commits.
            try:
                await session.execute(
                    insert(self._processed).values(consumer=self.group, event_id=envelope.event_id)
                )
            except IntegrityError:
                raise _AlreadyProcessed from None
            await self._handlers.dispatch(session, envelope)

    async def _dead_letter(self, message: Delivered, exc: BaseException, *, attempts: int) -> None:
        error = "".join(traceback.format_exception_only(exc)).strip()
        log.error(
            "message dead-lettered",
            group=self.group,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            attempts=attempts,
            error=error,
        )
        headers = (
            *message.headers,
            ("dlt-original-topic", message.topic.encode()),
            ("dlt-original-partition", str(message.partition).encode()),
            ("dlt-original-offset", str(message.offset).encode()),
            ("dlt-error", error[:2000].encode()),
            ("dlt-attempts", str(attempts).encode()),
        )
        while True:
            try:
                await self._dead_letters.publish(
                    [
                        Record(
                            topic=dead_letter_topic(self.group, self._prefix),
                            key=message.key or "",
                            value=message.value,
                            headers=headers,
                        )
                    ]
                )
                break
            except Exception as publish_error:
                log.warning("dead-letter publish failed; retrying", error=repr(publish_error))
                await asyncio.sleep(1.0)
        CONSUMED.labels(self.group, "dead_lettered").inc()
