"""Reminders (R-REQ-14): after the configured number of working days, once per
reminder even with several instances of the job running."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from eproc_contracts.common import RequestKind
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import MembershipGranted
from eproc_requests.consumers import HANDLERS
from eproc_requests.models import messaging_tables, reminder
from eproc_requests.service.common import RequestsContext
from eproc_requests.service.reminders import ReminderJob
from eproc_requests.service.submission import file_request
from eproc_requests.working_days import add_working_days
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.testing.plugin import CreateDatabase

from .conftest import BUYER, SUPERUSER, ids, migrated_database

MONDAY_NINE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_working_days_skip_weekends() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert add_working_days(friday, 3) == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday
    assert add_working_days(MONDAY_NINE, 3) == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert add_working_days(saturday, 1) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert add_working_days(friday, 5) == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


async def _reminder_events(sessions: object) -> list[str]:
    outbox = messaging_tables.outbox
    async with sessions() as session:  # type: ignore[operator]
        return list(
            (
                await session.scalars(
                    select(outbox.c.key).where(outbox.c.event_type == "request.reminder-due")
                )
            ).all()
        )


async def test_two_reminder_jobs_emit_each_due_reminder_once(
    create_database: CreateDatabase,
) -> None:
    url = await migrated_database(create_database, "reminders")
    engines = [create_engine(url) for _ in range(2)]
    sessions = [create_session_factory(e) for e in engines]
    context = RequestsContext(reminder_delay_working_days=3)
    organisations = ids(3)
    orphan_org = ids(1)[0]
    try:
        async with unit_of_work(sessions[0]) as session:
            for org in organisations:
                envelope = Envelope.wrap(
                    MembershipGranted(user_id=ids(1)[0], organisation_id=org, roles=[SUPERUSER]),
                    producer="organisations",
                )
                await HANDLERS.dispatch(session, envelope)
            request_ids = []
            for i in range(60):
                row = await file_request(
                    session,
                    context,
                    kind=RequestKind.JOIN,
                    requester_id=ids(1)[0],
                    organisation_id=organisations[i % 3],
                    roles=[BUYER],
                    # Half of them are young: not due yet.
                    at=MONDAY_NINE - timedelta(days=1 if i % 2 else 7),
                )
                request_ids.append(row.id)
            await file_request(
                session,
                context,
                kind=RequestKind.JOIN,
                requester_id=ids(1)[0],
                organisation_id=orphan_org,
                roles=[BUYER],
                at=MONDAY_NINE - timedelta(days=30),
            )
        old = {r for i, r in enumerate(request_ids) if i % 2 == 0}

        # Two instances, small batches, many rounds, all at the same time.
        jobs = [ReminderJob(s, delay_working_days=3, interval=1, batch_size=4) for s in sessions]

        async def rounds(job: ReminderJob) -> int:
            emitted = 0
            for _ in range(15):
                emitted += await job.run_once(now=MONDAY_NINE)
            return emitted

        counts = await asyncio.gather(*(rounds(job) for job in jobs))
        assert sum(counts) == 30
        assert all(c > 0 for c in counts), counts  # both instances did part of the work
        keys = await _reminder_events(sessions[0])
        assert sorted(keys) == sorted(str(r) for r in old)  # each due one exactly once
        # The orphaned request has nobody to remind: the operators were told instead.

        # Nothing more is due until three more working days have passed.
        assert await jobs[0].run_once(now=MONDAY_NINE + timedelta(days=2)) == 0
        later = add_working_days(MONDAY_NINE, 3)
        counts = await asyncio.gather(*(j.run_once(now=later) for j in jobs * 10))
        assert sum(counts) == 60  # the 30 old ones (2nd reminder) and the 30 young (1st)
        async with sessions[0]() as session:
            numbers = dict(
                (
                    await session.execute(
                        select(reminder.c.reminder_number, func.count()).group_by(
                            reminder.c.reminder_number
                        )
                    )
                ).all()
            )
        assert numbers == {1: 60, 2: 30}
    finally:
        for engine in engines:
            await engine.dispose()
