"""The outbox relay: publishes committed outbox rows to the bus, at least once.

The relay sleeps until a commit that wrote the outbox wakes it: in this
process through the in-process signal of :mod:`eproc_messaging.outbox`, from any
process on PostgreSQL through ``LISTEN`` on the channel that
:meth:`~eproc_messaging.outbox.Outbox.add` ``NOTIFY``-s in the writing
transaction. Polling remains only as a slow safety net (``idle_interval``), for
a notification lost while the listening connection was down.

Several relays of one service may run at once (``FOR UPDATE SKIP LOCKED``):
each takes the oldest rows nobody else holds. Per-key order is kept by
leaving alone any key whose older rows another relay is still publishing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_messaging.bus import Publisher, Record
from eproc_messaging.loops import StopSignal, backoff
from eproc_messaging.metrics import RELAY_PUBLISHED
from eproc_messaging.outbox import OUTBOX_CHANNEL, database_key, on_outbox_commit

log = structlog.get_logger(__name__)


class OutboxRelay:
    """Publishes the rows of ``outbox`` (:func:`~eproc_messaging.outbox_table`) to
    ``publisher``: :meth:`run` until :meth:`stop`, or one batch with
    :meth:`publish_pending`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        publisher: Publisher,
        *,
        topic_prefix: str = "",
        batch_size: int = 500,
        idle_interval: float = 2.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._publisher = publisher
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._idle_interval = idle_interval
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._stopping = StopSignal()
        self.published = 0
        """Rows published by this relay."""

    def nudge(self) -> None:
        """Publish now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Make :meth:`run` return after the batch in hand."""
        self._stopping.set()
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish one batch of pending events; return how many were published."""
        outbox = self._outbox
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        outbox.c.id,
                        outbox.c.key,
                        outbox.c.topic,
                        outbox.c.payload,
                        outbox.c.event_type,
                        outbox.c.event_id,
                        outbox.c.traceparent,
                    )
                    .order_by(outbox.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            if session.get_bind().dialect.name != "sqlite":
                rows = await self._without_keys_held_elsewhere(session, rows)
                if not rows:
                    return 0
            await self._publisher.publish([self._record(row) for row in rows])
            await session.execute(delete(outbox).where(outbox.c.id.in_([r.id for r in rows])))
        RELAY_PUBLISHED.inc(len(rows))
        self.published += len(rows)
        return len(rows)

    async def _without_keys_held_elsewhere(
        self, session: AsyncSession, rows: Sequence[Any]
    ) -> list[Any]:
        first_id: dict[str, int] = {}
        for row in rows:
            first_id.setdefault(row.key, row.id)
        ours = [row.id for row in rows]
        older_elsewhere = await session.execute(
            select(self._outbox.c.key, self._outbox.c.id).where(
                self._outbox.c.key.in_(list(first_id)),
                self._outbox.c.id < max(ours),
                self._outbox.c.id.not_in(ours),
            )
        )
        held = {key for key, row_id in older_elsewhere if row_id < first_id[key]}
        return [row for row in rows if row.key not in held]

    def _record(self, row: Any) -> Record:
        headers = [
            ("event-type", row.event_type.encode()),
            ("event-id", str(row.event_id).encode()),
        ]
        if row.traceparent:
            headers.append(("traceparent", row.traceparent.encode()))
        return Record(
            topic=self._prefix + row.topic,
            key=row.key,
            value=row.payload.encode(),
            headers=tuple(headers),
        )

    async def run(self) -> None:
        """Publish until :meth:`stop`; back off while the bus or database is down."""
        engine: AsyncEngine | None = self._sessions.kw.get("bind")
        unsubscribe = on_outbox_commit(database_key(engine.url), self.nudge) if engine else None
        listener = (
            asyncio.create_task(self._listen(engine), name="outbox-listen")
            # LISTEN needs asyncpg's notification API; other drivers poll.
            if engine is not None and engine.dialect.driver == "asyncpg"
            else None
        )
        try:
            await self._publish_until_stopped()
        finally:
            if unsubscribe is not None:
                unsubscribe()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _listen(self, engine: AsyncEngine) -> None:
        """Hold a connection that LISTENs on the outbox channel; reconnect when it drops."""
        failures = 0
        while not self._stopping.is_set():
            lost = asyncio.Event()
            try:
                async with engine.connect() as conn:
                    driver: Any = (await conn.get_raw_connection()).driver_connection
                    driver.add_termination_listener(lambda _conn, lost=lost: lost.set())

                    def notified(*_args: Any) -> None:
                        self.nudge()

                    await driver.add_listener(OUTBOX_CHANNEL, notified)
                    failures = 0
                    self.nudge()  # rows committed while nobody listened
                    try:
                        await lost.wait()
                    finally:
                        if not driver.is_closed():
                            with contextlib.suppress(Exception):
                                await driver.remove_listener(OUTBOX_CHANNEL, notified)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("outbox listener lost; the poll covers meanwhile", error=repr(exc))
            await self._stopping.pause(backoff(failures + 1, base=0.1, cap=self._max_backoff))

    async def _publish_until_stopped(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                published = await self.publish_pending()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = backoff(failures + 1, base=0.1, cap=self._max_backoff)
                log.warning(
                    "outbox relay failed; retrying", error=repr(exc), retry_in=round(delay, 2)
                )
                await self._sleep(delay)
                continue
            if published < self._batch_size:
                await self._sleep(self._idle_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
