"""Group commit of refresh-token rotations (issue 16).

Every refresh grant marks the presented token used and stores its successor.
Grants that arrive within ``linger`` seconds of each other are rotated together:
one statement, one commit (:func:`eproc_edge.repository.rotate_refresh_tokens`),
and each waiting grant gets its own row back. A grant is answered only after
the commit of its batch has returned, so no token is handed out before its
rotation is durable. A failed batch (the database went away, a deadlock with
another instance's batch) is retried grant by grant, so one bad grant never
fails the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from eproc_edge import repository
from eproc_edge.repository import Rotation
from eproc_runtime.db import create_engine

log = structlog.get_logger(__name__)


class RotationBatcher:
    """Collects concurrent refresh rotations and commits them in batches
    (through ``engine``, which it owns)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        refresh_token_lifetime: int,
        linger: float = 0.001,
        max_batch: int = 128,
    ) -> None:
        # PostgreSQL: the batch is one statement in autocommit, so it is durable
        # when it returns, in one round trip. SQLite: an explicit transaction.
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._lifetime = refresh_token_lifetime
        self._linger = linger
        self._max_batch = max_batch
        self._pending: list[tuple[Rotation, asyncio.Future[Any]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = asyncio.Event()
        self.batches = 0
        """How many batches were committed (for tests and the benchmark)."""

    @classmethod
    def for_database(
        cls, url: str, *, pool_size: int, refresh_token_lifetime: int, linger: float
    ) -> RotationBatcher:
        """A batcher with the token path's own small pool, without a ping per
        checkout (a connection that died fails its batch, which is retried)."""
        if url.startswith("sqlite"):
            engine = create_engine(url)
        else:
            engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False
            )
        return cls(engine, refresh_token_lifetime=refresh_token_lifetime, linger=linger)

    async def rotate(self, rotation: Rotation) -> Any | None:
        """Rotate one token; its row once committed, or None when refused."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((rotation, future))
        if len(self._pending) >= self._max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self._linger, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.create_task(self._commit(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _commit(self, batch: list[tuple[Rotation, asyncio.Future[Any]]]) -> None:
        rotations = [r for r, _ in batch]
        try:
            rows = await self._run(rotations)
        except DBAPIError as error:
            # A connection that died in the pool, or a deadlock with another
            # instance's batch (a token presented to both at once): once more,
            # grant by grant.
            log.warning("refresh_batch_retried", size=len(batch), error=str(error))
            for item in batch:
                try:
                    single = await self._run([item[0]])
                except Exception as exc:
                    _settle([item], error=exc)
                else:
                    _settle([item], rows={0: single.get(0)})
            return
        except Exception as exc:
            _settle(batch, error=exc)
            return
        self.batches += 1
        _settle(batch, rows=rows)

    async def _run(self, rotations: Sequence[Rotation]) -> dict[int, Any]:
        now = datetime.now(UTC)
        if self._engine.dialect.name == "postgresql":
            async with self._autocommit.connect() as conn:
                return await repository.rotate_refresh_tokens(
                    conn, rotations, now=now, lifetime=self._lifetime
                )
        async with self._engine.begin() as conn:
            return await repository.rotate_refresh_tokens(
                conn, rotations, now=now, lifetime=self._lifetime
            )

    async def run(self) -> None:
        """A background job of the edge (``eproc_runtime.jobs``): until stopped,
        then :meth:`close`."""
        await self._stopped.wait()
        await self.close()

    def stop(self) -> None:
        self._stopped.set()

    async def close(self) -> None:
        """Commit what is pending, wait for the batches in flight, close the pool."""
        self._flush()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._engine.dispose()


def _settle(
    batch: list[tuple[Rotation, asyncio.Future[Any]]],
    *,
    rows: dict[int, Any] | None = None,
    error: BaseException | None = None,
) -> None:
    for ordinal, (_, future) in enumerate(batch):
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            assert rows is not None
            future.set_result(rows.get(ordinal))
