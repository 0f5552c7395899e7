"""Reporting dossier links (R-REQ-8) through an outbox in the application's database.

Why an outbox rather than publishing straight to Kafka: the organisations
service refuses a user's leave while they are linked to dossiers, so a link
must never be lost, nor reported for a dossier change that rolled back. Writing
the event into the application's own database in the *same transaction* as the
link itself makes both commit or neither; the :class:`OutboxRelay` then
publishes committed rows (idempotent producer, key = user id, so one user's
links stay in order) and marks them sent. A crash between publishing and
marking republishes the row: consumers de-duplicate by event id.

.. code-block:: python

    outbox = outbox_table(metadata)
    reporter = DossierLinkReporter("e-tendering", outbox)

    async with sessions.begin() as session:
        ...  # link the user to the dossier in your own tables
        await reporter.linked(session, dossier_id="T-1", organisation_id=org, user_id=user)

    relay = OutboxRelay(sessions=sessions, outbox=outbox, bootstrap_servers="kafka:9092")
    await relay.start()  # ... relay.nudge() after a commit; await relay.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaProducer
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.events import DossierLinked, DossierUnlinked
from eproc_contracts.topics import encode, topic_of

log = logging.getLogger(__name__)

OUTBOX_TABLE = "eproc_outbox"


def outbox_table(metadata: MetaData, name: str = OUTBOX_TABLE) -> Table:
    """The outbox: one row per event to publish, in commit order (``id``)."""
    return Table(
        name,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True, index=True),
    )


class Outbox:
    """Adds events to the outbox table inside the caller's transaction."""

    def __init__(self, table: Table, *, producer: str) -> None:
        self.table = table
        self.producer = producer

    async def add(
        self, session: AsyncSession, payload: Payload, *, causation: Envelope[Any] | None = None
    ) -> Envelope[Any]:
        """Queue ``payload``; it is published only if the transaction commits."""
        envelope = Envelope.wrap(payload, producer=self.producer, causation=causation)
        await session.execute(
            self.table.insert().values(
                event_id=envelope.event_id,
                topic=topic_of(payload).name,
                key=envelope.partition_key,
                value=encode(envelope),
                created_at=datetime.now(UTC),
            )
        )
        return envelope


class DossierLinkReporter:
    """Reports ``DossierLinked``/``DossierUnlinked`` (``platform.dossier-link.v1``)."""

    def __init__(self, application: str, table: Table) -> None:
        self.application = application
        self.outbox = Outbox(table, producer=application)

    async def linked(
        self, session: AsyncSession, *, dossier_id: str, organisation_id: UUID, user_id: UUID
    ) -> Envelope[Any]:
        """The user is now linked to the dossier (call in the transaction that links them)."""
        return await self.outbox.add(
            session,
            DossierLinked(
                application=self.application,
                dossier_id=dossier_id,
                organisation_id=organisation_id,
                user_id=user_id,
            ),
        )

    async def unlinked(
        self, session: AsyncSession, *, dossier_id: str, organisation_id: UUID, user_id: UUID
    ) -> Envelope[Any]:
        """The user is no longer linked to the dossier."""
        return await self.outbox.add(
            session,
            DossierUnlinked(
                application=self.application,
                dossier_id=dossier_id,
                organisation_id=organisation_id,
                user_id=user_id,
            ),
        )


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row on its way to the bus (``topic`` includes the prefix)."""

    topic: str
    key: str
    value: bytes


Publish = Callable[[Sequence[OutgoingMessage]], Awaitable[None]]
"""Publishes messages in order, raising if any was not acknowledged."""


class OutboxRelay:
    """Publishes committed outbox rows to Kafka, in order, and marks them sent.

    Several instances may run against one database: on PostgreSQL rows are
    claimed with ``FOR UPDATE SKIP LOCKED``. Give ``bootstrap_servers`` for Kafka
    (an idempotent producer, ``acks=all``), or your own ``publish`` function for
    another transport (a test double, an in-process bus).
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        bootstrap_servers: str | None = None,
        publish: Publish | None = None,
        topic_prefix: str = "",
        poll_interval: float = 1.0,
        batch_size: int = 100,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        """``kafka_options``: further aiokafka producer options, e.g. the SASL
        credentials of the application's principal (:func:`sasl_options`)."""
        self.sessions = sessions
        self._kafka_options = dict(kafka_options or {})
        self.table = outbox
        self.topic_prefix = topic_prefix
        if (bootstrap_servers is None) == (publish is None):
            raise ValueError("give exactly one of bootstrap_servers and publish")
        self._bootstrap = bootstrap_servers
        self._publish = publish
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.published = 0
        """Rows published since start."""

    async def start(self) -> None:
        """Connect the producer and relay in a background task."""
        if self._bootstrap is not None:
            self._producer = AIOKafkaProducer(
                **{
                    "bootstrap_servers": self._bootstrap,
                    "enable_idempotence": True,
                    "acks": "all",
                    **self._kafka_options,
                }
            )
            await self._producer.start()
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="eproc-outbox-relay")

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def __aenter__(self) -> OutboxRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def nudge(self) -> None:
        """Publish now rather than at the next poll (call after committing outbox rows)."""
        self._wake.set()

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many."""
        publish = self._publish or self._publish_to_kafka
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        self.table.c.id, self.table.c.topic, self.table.c.key, self.table.c.value
                    )
                    .where(self.table.c.sent_at.is_(None))
                    .order_by(self.table.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await publish(
                [OutgoingMessage(self.topic_prefix + row.topic, row.key, row.value) for row in rows]
            )
            await session.execute(
                update(self.table)
                .where(self.table.c.id.in_([row.id for row in rows]))
                .values(sent_at=datetime.now(UTC))
            )
        self.published += len(rows)
        return len(rows)

    async def _publish_to_kafka(self, messages: Sequence[OutgoingMessage]) -> None:
        assert self._producer is not None, "start() the relay first"
        futures = [
            await self._producer.send(m.topic, value=m.value, key=m.key.encode()) for m in messages
        ]
        await asyncio.gather(*futures)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                while await self.relay_once() == self._batch_size:
                    pass
            except Exception:
                log.exception("outbox relay failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()
