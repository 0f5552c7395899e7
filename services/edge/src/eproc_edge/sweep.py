"""Forgetting what has expired: the ``jti`` of private_key_jwt client assertions
(kept only to refuse a replay until the assertion expires, RFC 7523 §3) and
initial access tokens of dynamic registration past their end.

One background job (``expired-rows``, declared to ``create_service_app``) sweeps
both every ``expired_rows_sweep_interval`` seconds, off the token path. Every
instance runs it: deleting rows that have expired is the same work whoever does
it first, so no claim is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_edge.dynamic_registration import INITIAL
from eproc_edge.models import client_assertion, registration_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    assertions: int
    initial_tokens: int


async def sweep_expired(db: AsyncSession, now: datetime) -> Swept:
    """Delete the assertions' ``jti`` and the initial access tokens expired by ``now``."""
    assertions = await db.execute(
        delete(client_assertion).where(client_assertion.c.expires_at < now)
    )
    tokens = await db.execute(
        delete(registration_token).where(
            registration_token.c.kind == INITIAL, registration_token.c.expires_at < now
        )
    )
    return Swept(assertions.rowcount or 0, tokens.rowcount or 0)  # type: ignore[attr-defined]


class ExpiredRowsSweep:
    """The background job: :func:`sweep_expired` every ``interval`` seconds until stopped."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], interval: float) -> None:
        self.sessions = sessions
        self.interval = interval
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                async with self.sessions() as db, db.begin():
                    swept = await sweep_expired(db, datetime.now(UTC))
                if swept.assertions or swept.initial_tokens:
                    log.info(
                        "expired rows swept: %d assertion jti, %d initial access tokens",
                        swept.assertions,
                        swept.initial_tokens,
                    )
            except Exception:
                # The database may be briefly away: the next round tries again.
                log.exception("sweeping expired rows failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=self.interval)

    def stop(self) -> None:
        self._stopped.set()
