"""Apache Kafka through aiokafka: the bus of production.

Both classes take aiokafka's client options (``bootstrap_servers`` and, on the
hub's bus, the SASL/SCRAM credentials of the principal).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

from eproc_messaging.bus import Delivered, Record

log = structlog.get_logger(__name__)


class KafkaPublisher:
    """An idempotent producer (acks=all): no duplicates from its own retries,
    order kept per partition."""

    def __init__(self, options: Mapping[str, Any], *, client_id: str = "eproc") -> None:
        """``options``: aiokafka client options (``bootstrap_servers``, the SASL
        credentials, ...)."""
        self._producer = AIOKafkaProducer(
            **{
                "client_id": client_id,
                "enable_idempotence": True,
                "acks": "all",
                "linger_ms": 2,
                "request_timeout_ms": 15000,
                "retry_backoff_ms": 200,
                **options,
            }
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


class _Membership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Follows the member's state: assigned after a join, not during a rebalance."""

    def __init__(self, subscription: KafkaSubscription) -> None:
        self._subscription = subscription

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._subscription._joined = False

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._subscription._joined = True


class KafkaSubscription:
    """A consumer-group member with manual offset commits, tuned for latency.

    The broker answers a fetch as soon as one byte is there (``fetch_min_bytes``
    1), so ``fetch_max_wait_ms`` bounds only how long an idle fetch is held:
    a record produced meanwhile is delivered at once.

    With an ``instance_id`` the member is static (KIP-345, ``group.instance.id``):
    a restart within the session timeout gets its partitions back without a
    rebalance of the group. Two live members must never share one: the broker
    fences the older. Only for instances with a stable, unique name (a
    StatefulSet's pod, a supervisor's numbered process).
    """

    def __init__(
        self,
        options: Mapping[str, Any],
        group: str,
        topics: Iterable[str],
        *,
        instance_id: str | None = None,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        self._topics = list(topics)
        self._joined = False
        self._consumer = AIOKafkaConsumer(
            **{
                "client_id": instance_id or group,
                "auto_offset_reset": "earliest",
                "fetch_min_bytes": 1,
                "fetch_max_wait_ms": fetch_max_wait_ms,
                "max_poll_interval_ms": 300000,
                "session_timeout_ms": 10000,
                "heartbeat_interval_ms": 1000,
                **options,
            },
            group_id=group,
            group_instance_id=instance_id,
            # Offsets move only after the database commit (the consumer commits them).
            enable_auto_commit=False,
        )

    async def start(self) -> None:
        self._consumer.subscribe(self._topics, listener=_Membership(self))
        await self._consumer.start()

    async def stop(self) -> None:
        self._joined = False
        await self._consumer.stop()

    def joined(self) -> bool:
        return self._joined

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
