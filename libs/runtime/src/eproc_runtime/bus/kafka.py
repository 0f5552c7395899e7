"""Apache Kafka through aiokafka."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, TopicAlreadyExistsError
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eproc_runtime.bus.base import Delivered, Record

log = structlog.get_logger(__name__)

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True)
class KafkaConnection:
    """Where the broker is and who we are to it.

    With a ``username`` the protocol defaults to ``SASL_PLAINTEXT`` with
    SCRAM-SHA-512 (the broker of ``deploy/local/kafka.sh``, compose and k8s);
    without one, ``PLAINTEXT``. The password never appears in ``repr`` or logs.
    """

    bootstrap: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    mechanism: SaslMechanism = "SCRAM-SHA-512"
    protocol: SecurityProtocol | None = None

    @property
    def security_protocol(self) -> SecurityProtocol:
        if self.protocol is not None:
            return self.protocol
        return "SASL_PLAINTEXT" if self.username else "PLAINTEXT"

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        protocol = self.security_protocol
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": protocol,
        }
        if protocol.startswith("SASL"):
            options.update(
                sasl_mechanism=self.mechanism,
                sasl_plain_username=self.username or "",
                sasl_plain_password=self.password or "",
            )
        if protocol.endswith("SSL"):
            options["ssl_context"] = ssl.create_default_context()
        return options

    def librdkafka_config(self) -> dict[str, str]:
        """The same connection for a librdkafka client (confluent-kafka's admin)."""
        config = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.security_protocol.startswith("SASL"):
            config.update(
                {
                    "sasl.mechanism": self.mechanism,
                    "sasl.username": self.username or "",
                    "sasl.password": self.password or "",
                }
            )
        return config

    def as_user(self, username: str, password: str) -> KafkaConnection:
        """The same broker with other credentials."""
        return KafkaConnection(
            self.bootstrap, username, password, mechanism=self.mechanism, protocol=self.protocol
        )


class _KafkaEnvironment(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPROC_KAFKA_", extra="ignore")

    username: str | None = None
    password: SecretStr | None = None
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    security_protocol: SecurityProtocol | None = None


def kafka_connection(bootstrap: str | KafkaConnection) -> KafkaConnection:
    """A connection as given, or for a bare address the credentials of the
    environment (``EPROC_KAFKA_USERNAME``, ``EPROC_KAFKA_PASSWORD``,
    ``EPROC_KAFKA_SASL_MECHANISM``, ``EPROC_KAFKA_SECURITY_PROTOCOL``) — the
    same variables :class:`eproc_runtime.settings.ServiceSettings` reads."""
    if isinstance(bootstrap, KafkaConnection):
        return bootstrap
    env = _KafkaEnvironment()
    return KafkaConnection(
        bootstrap,
        env.username,
        env.password.get_secret_value() if env.password else None,
        mechanism=env.sasl_mechanism,
        protocol=env.security_protocol,
    )


class KafkaPublisher:
    """An idempotent producer (acks=all): no duplicates from its own retries,
    order kept per partition."""

    def __init__(self, bootstrap: str | KafkaConnection, *, client_id: str = "eproc") -> None:
        self._producer = AIOKafkaProducer(
            **kafka_connection(bootstrap).aiokafka_options(),
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
        bootstrap: str | KafkaConnection,
        group: str,
        topics: Iterable[str],
        *,
        instance_id: str | None = None,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        self._topics = list(topics)
        self._joined = False
        self._consumer = AIOKafkaConsumer(
            **kafka_connection(bootstrap).aiokafka_options(),
            group_id=group,
            group_instance_id=instance_id,
            client_id=instance_id or group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_min_bytes=1,
            fetch_max_wait_ms=fetch_max_wait_ms,
            max_poll_interval_ms=300000,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
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


async def ensure_topics(
    bootstrap: str | KafkaConnection, names: Iterable[str], partitions: int = 4
) -> None:
    """Create the topics that do not exist yet (idempotent).

    Only topics the principal may DESCRIBE are listed, and creating needs
    CREATE on them: with ACLs a service creates at most its own topics
    (``eproc kafka provision`` creates all of them beforehand).
    """
    admin = AIOKafkaAdminClient(**kafka_connection(bootstrap).aiokafka_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing:
            # Three replicas where the cluster has three brokers, else one each.
            brokers = (await admin.describe_cluster())["brokers"]
            replicas = min(3, max(1, len(brokers)))
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(n, num_partitions=partitions, replication_factor=replicas)
                        for n in missing
                    ]
                )
    finally:
        await admin.close()
