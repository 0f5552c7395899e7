"""Apache Kafka through aiokafka."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, TopicAlreadyExistsError

from eproc_runtime.bus.base import Delivered, Record

log = structlog.get_logger(__name__)


class KafkaPublisher:
    """An idempotent producer (acks=all): no duplicates from its own retries,
    order kept per partition."""

    def __init__(self, bootstrap: str, *, client_id: str = "eproc") -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            request_timeout_ms=15000,
            retry_backoff_ms=200,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, records: Sequence[Record]) -> None:
        # send() only enqueues; the futures resolve on the broker's ack. The
        # producer keeps per-partition order, so enqueueing in outbox order is
        # enough for per-key ordering.
        futures = [
            await self._producer.send(
                r.topic, value=r.value, key=r.key.encode(), headers=list(r.headers)
            )
            for r in records
        ]
        await asyncio.gather(*futures)


class KafkaSubscription:
    """A consumer-group member with manual offset commits."""

    def __init__(self, bootstrap: str, group: str, topics: Iterable[str]) -> None:
        self._topics = list(topics)
        self._consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=300000,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
        )

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def poll(self, max_records: int, timeout: float) -> list[Delivered]:
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        return [
            Delivered(
                topic=m.topic,
                partition=m.partition,
                offset=m.offset,
                key=m.key.decode() if m.key is not None else None,
                value=m.value or b"",
                headers=tuple(m.headers or ()),
            )
            for messages in batches.values()
            for m in messages
        ]

    async def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        # A partition revoked by a rebalance during the batch cannot be committed
        # (aiokafka raises IllegalStateError); its new owner re-reads it.
        assigned = self._consumer.assignment()
        to_commit = {
            tp: o for (t, p), o in offsets.items() if (tp := TopicPartition(t, p)) in assigned
        }
        if not to_commit:
            return
        try:
            await self._consumer.commit(to_commit)
        except (CommitFailedError, IllegalStateError):
            # The group rebalanced while we worked: the new owner re-reads
            # these messages and the processed-event rows turn them into no-ops.
            log.warning("offset commit lost to a rebalance", offsets=len(offsets))

    async def rewind(self, topic: str, partition: int, offset: int) -> None:
        tp = TopicPartition(topic, partition)
        if tp in self._consumer.assignment():
            self._consumer.seek(tp, offset)

    def assignment(self) -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in self._consumer.assignment()}


async def ensure_topics(bootstrap: str, names: Iterable[str], partitions: int = 4) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in missing]
                )
    finally:
        await admin.close()
