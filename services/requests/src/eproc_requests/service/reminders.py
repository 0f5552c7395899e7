"""Reminders for requests waiting too long (R-REQ-14).

A loop in every instance of the service; several may run at once. Each batch
claims due requests with ``FOR UPDATE SKIP LOCKED`` (so two instances never
take the same request), records the reminder under its number (a primary key
that refuses a second emission) and its event in the same transaction, and
moves the request's next reminder on by the configured delay.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.events import RequestReminderDue
from eproc_requests.repository import RequestRepository
from eproc_requests.service.common import event_fields, outbox, utcnow
from eproc_requests.working_days import add_working_days
from eproc_runtime.db import unit_of_work
from eproc_runtime.jobs import PeriodicJob

log = structlog.get_logger(__name__)


async def emit_due_reminders(
    session: AsyncSession, *, now: datetime, delay_working_days: int, limit: int
) -> int:
    """Emit one RequestReminderDue per due request (at most ``limit``); return how many."""
    requests = RequestRepository(session)
    rows = await requests.claim_due_reminders(now, limit)
    for row in rows:
        number = row.reminders_sent + 1
        # The next one counts from now, so a long outage sends one reminder, not a burst.
        next_at = add_working_days(now, delay_working_days)
        # Claimed as due (next_reminder_at <= now), so it has one.
        due_at = row.next_reminder_at or now
        await requests.record_reminder(row.id, number, due_at, now, next_at)
        await outbox.add(
            session,
            RequestReminderDue(
                **event_fields(row), waiting_since=row.submitted_at, reminder_number=number
            ),
        )
    return len(rows)


class ReminderJob(PeriodicJob):
    """Runs :func:`emit_due_reminders` every ``interval`` seconds until stopped
    (at once again after a full batch)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        delay_working_days: int,
        interval: float,
        batch_size: int = 100,
    ) -> None:
        super().__init__(interval=interval, full_batch=batch_size)
        self.sessions = sessions
        self.delay_working_days = delay_working_days
        self.batch_size = batch_size

    async def run_once(self, now: datetime | None = None) -> int:
        """One batch in its own transaction."""
        async with unit_of_work(self.sessions) as session:
            return await emit_due_reminders(
                session,
                now=now or utcnow(),
                delay_working_days=self.delay_working_days,
                limit=self.batch_size,
            )
