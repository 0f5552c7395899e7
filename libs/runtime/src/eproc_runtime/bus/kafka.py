"""Apache Kafka through aiokafka: the connection settings of the services, topic
creation, and the publisher and subscription of ``eproc_messaging.kafka`` on them."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eproc_messaging import kafka as messaging_kafka

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


class KafkaPublisher(messaging_kafka.KafkaPublisher):
    """``eproc_messaging.kafka.KafkaPublisher`` on a :class:`KafkaConnection` (or a
    bare address with the environment's credentials)."""

    def __init__(self, bootstrap: str | KafkaConnection, *, client_id: str = "eproc") -> None:
        super().__init__(kafka_connection(bootstrap).aiokafka_options(), client_id=client_id)


class KafkaSubscription(messaging_kafka.KafkaSubscription):
    """``eproc_messaging.kafka.KafkaSubscription`` on a :class:`KafkaConnection` (or
    a bare address with the environment's credentials)."""

    def __init__(
        self,
        bootstrap: str | KafkaConnection,
        group: str,
        topics: Iterable[str],
        *,
        instance_id: str | None = None,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        super().__init__(
            kafka_connection(bootstrap).aiokafka_options(),
            group,
            topics,
            instance_id=instance_id,
            fetch_max_wait_ms=fetch_max_wait_ms,
        )


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
            await _until_led(admin, missing)
    finally:
        await admin.close()


async def _until_led(admin: AIOKafkaAdminClient, names: list[str], timeout: float = 30.0) -> None:
    """Returns once every partition of ``names`` has a leader in the broker's metadata.
    CreateTopics answers when the controller recorded the topics; the brokers learn
    of them a moment later, and a client that produces or subscribes in between gets
    UnknownTopicOrPartition (seen on a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        described = await admin.describe_topics(names)
        if all(
            t.get("error_code") == 0
            and t.get("partitions")
            and all(p.get("leader", -1) >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"topics without a leader after {timeout:.0f} s: {names}")
        await asyncio.sleep(0.1)
