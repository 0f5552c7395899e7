"""The sender against a real SMTP server that answers 5xx and 4xx on purpose
(aiosmtpd with a policy), on PostgreSQL and on SQLite (the embedded mode)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.common import RequestKind
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import RequestRejected
from eproc_notifier.delivery import MailSender
from eproc_notifier.models import MailState, mail
from eproc_notifier.service import Notifications
from eproc_notifier.settings import Settings
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase


class PolicyHandler:
    """Refuses ``nobody@`` for good (550), ``later@`` twice (451), ``never@`` always (451)."""

    def __init__(self) -> None:
        self.rcpt_attempts: Counter[str] = Counter()
        self.delivered: list[tuple[str, str]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.rcpt_attempts[address] += 1
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("never@") or (
            address.startswith("later@") and self.rcpt_attempts[address] <= 2
        ):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content.decode("utf-8", "replace")
        message_id = next(
            line.split(":", 1)[1].strip()
            for line in content.splitlines()
            if line.lower().startswith("message-id:")
        )
        for rcpt in envelope.rcpt_tos:
            self.delivered.append((rcpt, message_id))
        return "250 Message accepted"


@pytest.fixture
def smtp_policy() -> Iterator[tuple[PolicyHandler, int]]:
    handler = PolicyHandler()
    port = infra.free_port()
    # Without SMTPUTF8, as many servers: a non-ASCII address cannot go through.
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(params=["postgres", "sqlite"])
async def any_sessions(
    request: pytest.FixtureRequest, create_database: CreateDatabase, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "postgres":
        url = await create_database("notifier_delivery")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/notifier.db"
    await upgrade_async("eproc_notifier", url)
    engine = create_engine(url)
    yield create_session_factory(engine)
    await engine.dispose()


async def test_5xx_fails_for_good_4xx_is_retried_with_backoff(
    any_sessions: async_sessionmaker[AsyncSession], smtp_policy: tuple[PolicyHandler, int]
) -> None:
    handler, port = smtp_policy
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        retry_base_delay=0.05,
        retry_max_delay=0.2,
        max_attempts=4,
        sender_idle_interval=0.02,
        log_json=False,
    )
    notifications = Notifications(settings)
    people = {local: uuid4() for local in ("ok", "nobody", "later", "never", "unicode")}
    async with unit_of_work(any_sessions) as session:
        for local, user_id in people.items():
            address = "chloé@example.org" if local == "unicode" else f"{local}@example.org"
            await notifications.record_user(
                session,
                user_id,
                email=address,
                language="en",
                given_name=local,
                family_name="Test",
            )
            await notifications.request_event(
                session,
                Envelope.wrap(
                    RequestRejected(
                        request_id=uuid4(),
                        kind=RequestKind.JOIN,
                        requester_id=user_id,
                        organisation_id=uuid4(),
                        decided_by=uuid4(),
                        decided_at=datetime.now(UTC),
                    ),
                    producer="tests",
                ),
            )

    sender = MailSender(settings, any_sessions, instance="test-sender")
    running = asyncio.create_task(sender.run())

    async def settled() -> bool:
        async with any_sessions() as session:
            states = (await session.execute(select(mail.c.state))).scalars().all()
        return all(s in (MailState.SENT, MailState.FAILED) for s in states)

    try:
        await eventually(settled, timeout=20)
    finally:
        sender.stop()
        await running

    async with any_sessions() as session:
        rows = {r.recipient_user_id: r for r in (await session.execute(select(mail))).all()}
    outcome = {local: rows[user_id] for local, user_id in people.items()}
    assert outcome["ok"].state == MailState.SENT and outcome["ok"].attempts == 1
    assert outcome["ok"].sent_by == "test-sender"
    assert outcome["nobody"].state == MailState.FAILED and outcome["nobody"].attempts == 1
    assert "550" in outcome["nobody"].last_error
    assert outcome["later"].state == MailState.SENT and outcome["later"].attempts == 3
    assert outcome["never"].state == MailState.FAILED and outcome["never"].attempts == 4
    assert "451" in outcome["never"].last_error
    assert outcome["unicode"].state == MailState.FAILED
    # Each delivered mail arrived once; a refused one never did.
    assert sorted(rcpt for rcpt, _ in handler.delivered) == ["later@example.org", "ok@example.org"]
    assert handler.rcpt_attempts["nobody@example.org"] == 1
    assert handler.rcpt_attempts["never@example.org"] == 4
    assert sender.stats.server_failures == 0


async def test_a_dead_server_costs_one_connection_attempt_per_backoff_step(
    any_sessions: async_sessionmaker[AsyncSession],
) -> None:
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=infra.free_port(),  # nobody listens
        server_backoff_base=0.1,
        server_backoff_max=0.4,
        sender_idle_interval=0.01,
        log_json=False,
    )
    notifications = Notifications(settings)
    user_id = uuid4()
    async with unit_of_work(any_sessions) as session:
        await notifications.record_user(
            session, user_id, email="a@example.org", language="nl", given_name="A", family_name="B"
        )
        for _ in range(50):
            await notifications.request_event(
                session,
                Envelope.wrap(
                    RequestRejected(
                        request_id=uuid4(),
                        kind=RequestKind.JOIN,
                        requester_id=user_id,
                        organisation_id=uuid4(),
                        decided_by=uuid4(),
                        decided_at=datetime.now(UTC),
                    ),
                    producer="tests",
                ),
            )
    sender = MailSender(settings, any_sessions)
    running = asyncio.create_task(sender.run())
    await asyncio.sleep(2.0)
    sender.stop()
    await running
    # 2 s with steps of 0.05-0.1, 0.1-0.2, then 0.2-0.4 s: at most ~12 attempts
    # for 50 mails, and no mail was charged an attempt for the server's absence.
    assert 3 <= sender.stats.server_failures <= 14
    async with any_sessions() as session:
        rows = (await session.execute(select(mail.c.state, mail.c.attempts))).all()
    assert len(rows) == 50
    assert {(r.state, r.attempts) for r in rows} == {(MailState.PENDING, 0)}
