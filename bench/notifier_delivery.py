"""Delivery throughput of the notifier's sender against a local aiosmtpd.

    uv run python bench/notifier_delivery.py [--mails 1000]

Queues ``--mails`` rendered mails in a fresh PostgreSQL database (the test
server of ``eproc_runtime.testing.infra``), then measures how fast 1 and 2
senders drain them, and, for reference, raw aiosmtplib sends on one
connection without any bookkeeping. Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime

import aiosmtplib
import asyncpg
from sqlalchemy import func, select, update

from eproc_contracts.common import RequestKind
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import RequestRejected
from eproc_notifier.delivery import MailSender
from eproc_notifier.mails import build_message
from eproc_notifier.models import MailState, mail
from eproc_notifier.service import Notifications
from eproc_notifier.settings import Settings
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra


async def _database() -> str:
    admin = infra.postgres_url().replace("postgresql+asyncpg://", "postgresql://")
    name = f"bench_notifier_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return infra.async_url(admin).rsplit("/", 1)[0] + f"/{name}"


async def _drop(url: str) -> None:
    admin = infra.postgres_url().replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


async def main(mails: int) -> None:
    port = infra.free_port()
    maildir = tempfile.mkdtemp() + "/maildir"
    mailbox.Maildir(maildir, create=True)
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    # A long-lived server beside the benchmark, started once.
    server = subprocess.Popen(  # noqa: ASYNC220, S603
        [*command, "-c", "aiosmtpd.handlers.Mailbox", maildir]
    )
    await asyncio.sleep(1.5)
    url = await _database()
    await upgrade_async("eproc_notifier", url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    settings = Settings(
        database_url=url, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False
    )
    settings.sender_idle_interval = 0.01
    notifications = Notifications(settings)
    user_id = uuid.uuid4()
    started = time.perf_counter()
    async with unit_of_work(sessions) as session:
        await notifications.record_user(
            session,
            user_id,
            email="bench@example.org",
            language="fr",
            given_name="B",
            family_name="Bench",
        )
        for _ in range(mails):
            await notifications.request_event(
                session,
                Envelope.wrap(
                    RequestRejected(
                        request_id=uuid.uuid4(),
                        kind=RequestKind.JOIN,
                        requester_id=user_id,
                        organisation_id=uuid.uuid4(),
                        decided_by=uuid.uuid4(),
                        decided_at=datetime.now(UTC),
                    ),
                    producer="bench",
                ),
            )
    print(f"render + queue: {mails / (time.perf_counter() - started):.0f} mails/s")

    for senders in (1, 2):
        async with unit_of_work(sessions) as session:
            await session.execute(
                update(mail).values(state=MailState.PENDING, next_attempt_at=datetime.now(UTC))
            )
        workers = [MailSender(settings, sessions, instance=f"s{i}") for i in range(senders)]
        started = time.perf_counter()
        tasks = [asyncio.create_task(w.run()) for w in workers]
        while True:
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count()).select_from(mail).where(mail.c.state != MailState.SENT)
                )
            if not left:
                break
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)
        print(f"{senders} sender(s): {mails / elapsed:.0f} mails/s")

    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    started = time.perf_counter()
    for i in range(mails):
        await smtp.send_message(
            build_message(
                sender=settings.mail_from,
                to="bench@example.org",
                message_id=f"<{i}@bench>",
                language="en",
                subject="s",
                text="text " * 80,
                html="<p>html</p>" * 30,
            )
        )
    print(f"raw SMTP, one connection: {mails / (time.perf_counter() - started):.0f} mails/s")
    await smtp.quit()
    await engine.dispose()
    await _drop(url)
    server.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=1000)
    asyncio.run(main(parser.parse_args().mails))
