"""The watch over held "new request" mails (issue 19, point 5): one that waited
``superuser_wait_seconds`` for its organisation's Superusers to be known in vain
is told to the operators as an orphan, once; it stays held for the Superusers.

A background job in every instance (``Job("held-mails")``); rows are claimed with
``SKIP LOCKED`` and marked in the same transaction, so two instances never tell the
operators twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_notifier.repository import MailRepository
from eproc_notifier.service import Notifications
from eproc_notifier.settings import Settings
from eproc_runtime.db import unit_of_work
from eproc_runtime.jobs import PeriodicJob

log = structlog.get_logger(__name__)


class HeldMailWatch(PeriodicJob):
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        notifications: Notifications | None = None,
    ) -> None:
        super().__init__(interval=settings.held_mail_interval)
        self.settings = settings
        self.sessions = sessions
        self.notifications = notifications or Notifications(settings)

    async def run_once(self, limit: int = 50) -> int:
        """Tell the operators of every overdue held mail; return how many were overdue."""
        async with unit_of_work(self.sessions) as session:
            overdue = await MailRepository(session).claim_overdue_held(datetime.now(UTC), limit)
            for row in overdue:
                await self.notifications.orphan_overdue(session, row)
        if overdue:
            log.info("held mails overdue; operators told", mails=len(overdue))
        return len(overdue)
