"""The idempotent event consumer.

For each message: in one transaction, record (consumer, event id) in the
processed-events table first, then run the handler; an event id already there
means the event was applied before, and nothing runs. Offsets are committed
only after that transaction, so a crash in between redelivers the event and
the record makes the redelivery a no-op.

A handler that raises is rolled back and retried with backoff; the partition
waits, so the events of one key stay in order. With a dead-letter publisher, a
message that still fails after ``max_attempts`` goes to the group's dead-letter
topic with the error and the consumer moves on; without one (an application
that may not write dead-letter topics) it is retried until it succeeds or the
consumer stops. While the database itself is unreachable nothing is
dead-lettered: the consumer waits and retries. Event types this version of the
contracts does not know, and types without a handler, are skipped.
"""

from __future__ import annotations

import asyncio
import traceback
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.envelope import Envelope
from eproc_contracts.handlers import EventHandlers
from eproc_contracts.topics import MalformedEvent, UnknownEventType, decode
from eproc_messaging.bus import Delivered, Publisher, Record, Subscription
from eproc_messaging.loops import StopSignal, backoff
from eproc_messaging.metrics import CONSUMED
from eproc_messaging.tracing import consumer_span

log = structlog.get_logger(__name__)


def dead_letter_topic(group: str, prefix: str = "") -> str:
    """Where consumer group ``group`` puts the messages it could not handle."""
    return f"{prefix}dlt.{group}"


async def first_time(session: AsyncSession, table: Table, consumer: str, event_id: UUID) -> bool:
    """Record ``event_id`` as processed by ``consumer``; ``False`` if it already was.

    Call it first in the transaction that applies the event: the record commits
    (or rolls back) with the handler's writes, and a concurrent duplicate waits
    on the key until the first transaction ends.
    """
    values: dict[str, Any] = {
        "consumer": consumer,
        "event_id": event_id,
        "processed_at": datetime.now(UTC),
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result: Any = await session.execute(
            builder(table).values(**values).on_conflict_do_nothing()
        )
        return bool(result.rowcount == 1)
    # Other databases: a savepoint, so the duplicate does not abort the transaction.
    try:
        async with session.begin_nested():
            await session.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


async def handle_once(
    handlers: EventHandlers[AsyncSession],
    sessions: async_sessionmaker[AsyncSession],
    processed: Table,
    consumer: str,
    envelope: Envelope[Any],
) -> bool:
    """Apply ``envelope`` in one transaction unless ``consumer`` processed it before.

    Returns whether the handler ran. Usable without a bus (replays, tests).
    """
    if handlers.handler_for(envelope.type) is None:
        return False
    async with sessions() as session, session.begin():
        if not await first_time(session, processed, consumer, envelope.event_id):
            return False
        await handlers.dispatch(session, envelope)
    return True


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
        processed: Table,
        handlers: EventHandlers[AsyncSession],
        dead_letters: Publisher | None = None,
        topic_prefix: str = "",
        max_attempts: int = 5,
        retry_backoff: float = 0.2,
        max_backoff: float = 30.0,
        batch_size: int = 200,
    ) -> None:
        self.group = group
        self._subscription = subscription
        self._sessions = sessions
        self._processed = processed
        self._handlers = handlers
        self._dead_letters = dead_letters
        self._prefix = topic_prefix
        self._max_attempts = max_attempts
        self._backoff = retry_backoff
        self._max_backoff = max_backoff
        self._batch_size = batch_size
        self._stopping = StopSignal()
        self.handled = 0
        """Events whose handler ran (not counting duplicates and skips)."""
        self.failures = 0
        """Handler attempts that raised."""

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
        """Consume until :meth:`stop`."""
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
                if self._stopping.is_set() or not await self._handle(message):
                    break
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

    async def _handle(self, message: Delivered) -> bool:
        """Settle one message; ``False`` when stopping left it unsettled."""
        try:
            envelope = decode(message.value)
        except UnknownEventType:
            CONSUMED.labels(self.group, "unknown_type").inc()
            return True
        except MalformedEvent as exc:
            if self._dead_letters is None:
                log.error("skipping a malformed event", group=self.group, error=str(exc))
                CONSUMED.labels(self.group, "malformed").inc()
            else:
                await self._dead_letter(self._dead_letters, message, exc, attempts=1)
            return True
        if self._handlers.handler_for(envelope.type) is None:
            CONSUMED.labels(self.group, "ignored").inc()
            return True
        attempt = 0
        while True:
            attempt += 1
            try:
                with consumer_span(
                    self.group, envelope.type, str(envelope.event_id), envelope.traceparent
                ):
                    ran = await handle_once(
                        self._handlers, self._sessions, self._processed, self.group, envelope
                    )
            except Exception as exc:
                if _is_infrastructure_failure(exc):
                    # Not the message's fault: wait for the database, do not count it.
                    attempt -= 1
                    delay = 1.0
                    log.warning(
                        "consumer waiting for infrastructure", group=self.group, error=repr(exc)
                    )
                else:
                    self.failures += 1
                    if self._dead_letters is not None and attempt >= self._max_attempts:
                        await self._dead_letter(self._dead_letters, message, exc, attempts=attempt)
                        return True
                    delay = backoff(attempt, base=self._backoff, cap=self._max_backoff)
                    log.warning(
                        "handler failed; retrying",
                        group=self.group,
                        event_type=envelope.type,
                        event_id=str(envelope.event_id),
                        attempt=attempt,
                        error=repr(exc),
                    )
                if await self._stopping.pause(delay):
                    return False
                continue
            if ran:
                self.handled += 1
                CONSUMED.labels(self.group, "handled").inc()
            else:
                CONSUMED.labels(self.group, "duplicate").inc()
            return True

    async def _dead_letter(
        self, publisher: Publisher, message: Delivered, exc: BaseException, *, attempts: int
    ) -> None:
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
                await publisher.publish(
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
