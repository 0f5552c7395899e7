"""Reporting dossier links (R-REQ-8) through an outbox in the application's database.

Why an outbox rather than publishing straight to Kafka: the organisations
service refuses a user's leave while they are linked to dossiers, so a link
must never be lost, nor reported for a dossier change that rolled back. Writing
the event into the application's own database in the *same transaction* as the
link itself makes both commit or neither; the :class:`OutboxRelay` then
publishes committed rows (idempotent producer, key = user id, so one user's
links stay in order) and deletes them. A crash between publishing and
deleting republishes the row: consumers de-duplicate by event id. The outbox
and relay are ``eproc_messaging``'s, the ones the hub's own services run.

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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import DossierLinked, DossierUnlinked
from eproc_messaging import relay, tables
from eproc_messaging.bus import Record
from eproc_messaging.kafka import KafkaPublisher
from eproc_messaging.outbox import Outbox

__all__ = [
    "OUTBOX_TABLE",
    "DossierLinkReporter",
    "Outbox",
    "OutboxRelay",
    "OutgoingMessage",
    "Publish",
    "outbox_table",
]

OUTBOX_TABLE = "eproc_outbox"


def outbox_table(metadata: MetaData, name: str = OUTBOX_TABLE) -> Table:
    """The outbox: one row per event to publish, in commit order (``id``); the
    relay deletes a row once Kafka acknowledged it."""
    return tables.outbox_table(metadata, name)


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


OutgoingMessage = Record
"""One outbox row on its way to the bus (``topic`` includes the prefix): ``topic``,
``key``, ``value`` (and the ``headers`` event-type, event-id, traceparent)."""

Publish = Callable[[Sequence[OutgoingMessage]], Awaitable[None]]
"""Publishes messages in order, raising if any was not acknowledged."""


class _PublishFunction:
    """A ``publish`` function as the relay's publisher."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, records: Sequence[Record]) -> None:
        await self._publish(records)


class OutboxRelay:
    """Publishes committed outbox rows to Kafka, in order, and deletes them.

    Several instances may run against one database: on PostgreSQL rows are
    claimed with ``FOR UPDATE SKIP LOCKED`` and a key whose older rows another
    instance holds is left to it. Give ``bootstrap_servers`` for Kafka (an
    idempotent producer, ``acks=all``), or your own ``publish`` function for
    another transport (a test double, an in-process bus). On PostgreSQL with
    asyncpg a commit that wrote the outbox wakes the relay at once
    (``LISTEN``/``NOTIFY``); ``poll_interval`` is the safety net.
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
        if (bootstrap_servers is None) == (publish is None):
            raise ValueError("give exactly one of bootstrap_servers and publish")
        self.sessions = sessions
        self.table = outbox
        self.topic_prefix = topic_prefix
        self._publisher: KafkaPublisher | _PublishFunction = (
            _PublishFunction(publish)
            if publish is not None
            else KafkaPublisher(
                {"bootstrap_servers": bootstrap_servers, **(kafka_options or {})},
                client_id="eproc-outbox-relay",
            )
        )
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self._relay = self._new_relay()
        self._task: asyncio.Task[None] | None = None

    def _new_relay(self) -> relay.OutboxRelay:
        return relay.OutboxRelay(
            self.sessions,
            self.table,
            self._publisher,
            topic_prefix=self.topic_prefix,
            batch_size=self._batch_size,
            idle_interval=self._poll_interval,
        )

    @property
    def published(self) -> int:
        """Rows published since start."""
        return self._relay.published

    async def start(self) -> None:
        """Connect the producer and relay in a background task."""
        await self._publisher.start()
        self._relay = self._new_relay()
        self._task = asyncio.create_task(self._relay.run(), name="eproc-outbox-relay")

    async def stop(self) -> None:
        self._relay.stop()
        if self._task is not None:
            await self._task
            self._task = None
        await self._publisher.stop()

    async def __aenter__(self) -> OutboxRelay:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def nudge(self) -> None:
        """Publish now rather than at the next poll (a commit in this process
        already does it)."""
        self._relay.nudge()

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many."""
        return await self._relay.publish_pending()
