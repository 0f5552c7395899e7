"""The bus interface the outbox relay and the consumers are written against
(Kafka: :mod:`eproc_messaging.kafka`; the services' in-process log:
``eproc_runtime.bus.log``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Record:
    """A message to publish."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Delivered:
    """A message as a subscriber receives it."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode()
        return None


class Publisher(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, records: Sequence[Record]) -> None:
        """Publish every record, in order per key; return once all are acknowledged.

        Raises when any record could not be published; the caller retries the
        whole batch (at least once).
        """
        ...


class Subscription(Protocol):
    """A member of a consumer group, reading the topics it subscribed to."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def poll(self, max_records: int, timeout: float) -> list[Delivered]:
        """The next messages of the assigned partitions, in order per partition."""
        ...

    async def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Commit ``(topic, partition) -> next offset to read`` for the group."""
        ...

    async def rewind(self, topic: str, partition: int, offset: int) -> None:
        """Read ``(topic, partition)`` again from ``offset`` (after a failed batch)."""
        ...

    def joined(self) -> bool:
        """Whether the group has given this member its share of the partitions
        (possibly none: more members than partitions) and not taken it back
        for a rebalance since: the readiness of a consuming service."""
        ...
