"""The envelope every event travels in, whatever its topic.

The envelope carries what infrastructure needs (identity for idempotency, the
partition key for ordering, correlation/causation and the W3C ``traceparent``
for tracing); ``data`` carries the event's payload, a model from
:mod:`eproc_contracts.events`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

import uuid6
from pydantic import BaseModel, ConfigDict, Field


def new_event_id() -> UUID:
    """A fresh UUIDv7: unique, and sortable by creation time."""
    return UUID(bytes=uuid6.uuid7().bytes)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Payload(BaseModel):
    """Base of every event payload.

    ``EVENT_TYPE`` names the event globally (``"membership.granted"``);
    unknown fields are ignored so that adding a field is never breaking.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1

    def partition_key(self) -> str:
        """The aggregate id the event is ordered by; every payload says which."""
        raise NotImplementedError


P = TypeVar("P", bound=Payload)


class Envelope(BaseModel, Generic[P]):
    """An event as it is stored in an outbox and carried on the bus."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: UUID = Field(default_factory=new_event_id)
    type: str
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utcnow)
    producer: str
    partition_key: str
    correlation_id: UUID | None = None
    causation_id: UUID | None = None
    traceparent: str | None = None
    data: P

    @classmethod
    def wrap(
        cls,
        payload: P,
        *,
        producer: str,
        correlation_id: UUID | None = None,
        causation: Envelope[Any] | None = None,
        traceparent: str | None = None,
    ) -> Envelope[P]:
        """Put ``payload`` in a new envelope.

        When the event is caused by another one, pass it as ``causation``: the
        correlation id and trace context are carried over.
        """
        if causation is not None:
            correlation_id = correlation_id or causation.correlation_id or causation.event_id
            traceparent = traceparent or causation.traceparent
        typed: type[Envelope[P]] = Envelope[type(payload)]  # type: ignore[misc,assignment]
        return typed(
            type=payload.EVENT_TYPE,
            schema_version=payload.SCHEMA_VERSION,
            producer=producer,
            partition_key=payload.partition_key(),
            correlation_id=correlation_id,
            causation_id=causation.event_id if causation is not None else None,
            traceparent=traceparent,
            data=payload,
        )
