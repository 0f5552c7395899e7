"""Fixtures of the notifier tests: a migrated database, a publisher of input
events on the test's own topics, and the notifier itself (in-process, or as
real worker processes)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_contracts.common import Language, RequestKind, RoleGrant
from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.events import RequestRejected, UserRegistered
from eproc_contracts.topics import MEMBERSHIP, ORGANISATION, REQUEST, USER, encode, topic_of
from eproc_notifier.consumers import handlers
from eproc_notifier.delivery import MailSender
from eproc_notifier.held import HeldMailWatch
from eproc_notifier.models import mail, messaging_tables
from eproc_notifier.service import Notifications
from eproc_notifier.settings import Settings
from eproc_runtime.bus.base import Record
from eproc_runtime.bus.kafka import KafkaPublisher, ensure_topics
from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.messaging import Messaging
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase, SmtpSink

OPERATORS = ["ops@eproc.example", "helpdesk@eproc.example"]


@pytest.fixture
async def database_url(create_database: CreateDatabase) -> str:
    url = await create_database("notifier")
    await upgrade_async("eproc_notifier", url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


def notifier_settings(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, smtp: SmtpSink, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        # Its own consumer group per test: members of another test's group (a
        # SIGKILLed worker lingers until its session times out) cannot stall it.
        "service_name": f"{topic_prefix}notifier",
        "database_url": database_url,
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": topic_prefix,
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "operator_emails": OPERATORS,
        "portal_url": "https://eproc.example/",
        "consumer_retry_backoff": 0.05,
        "sender_idle_interval": 0.05,
        "sender_lease_seconds": 3.0,
        "server_backoff_base": 0.5,
        "server_backoff_max": 2.0,
        "log_json": False,
        **extra,
    }
    return Settings(**values)


@pytest.fixture
def settings(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, smtp_sink: SmtpSink
) -> Settings:
    """The test's notifier settings: its own database, topics and SMTP sink."""
    return notifier_settings(database_url, kafka_bootstrap, topic_prefix, smtp_sink)


Publish = Callable[..., Awaitable[list[Envelope[Any]]]]


@pytest.fixture
async def publish(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[Publish]:
    """Publishes payloads as their producers would (envelope, key, topic)."""
    await ensure_topics(
        kafka_bootstrap, [topic_prefix + t.name for t in (USER, ORGANISATION, MEMBERSHIP, REQUEST)]
    )
    publisher = KafkaPublisher(kafka_bootstrap, client_id="notifier-tests")
    await publisher.start()

    async def send(*payloads: Payload) -> list[Envelope[Any]]:
        envelopes = [Envelope.wrap(p, producer="tests") for p in payloads]
        await publisher.publish(
            [
                Record(
                    topic=topic_prefix + topic_of(e.data).name,
                    key=e.partition_key,
                    value=encode(e),
                    headers=(("event-type", e.type.encode()),),
                )
                for e in envelopes
            ]
        )
        return envelopes

    yield send
    await publisher.stop()


@dataclass
class InProcessNotifier:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    messaging: Messaging
    sender: MailSender
    watch: HeldMailWatch
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        self.sender.stop()
        self.watch.stop()
        await asyncio.gather(*self.tasks)
        await self.messaging.stop()


@pytest.fixture
async def start_notifier(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Callable[[Settings], Awaitable[InProcessNotifier]]]:
    running: list[InProcessNotifier] = []

    async def start(settings: Settings) -> InProcessNotifier:
        notifications = Notifications(settings)
        consume = handlers(notifications)
        messaging = Messaging(settings, sessions, messaging_tables, handlers=consume, relay=False)
        await messaging.start()
        notifier = InProcessNotifier(
            settings,
            sessions,
            messaging,
            MailSender(settings, sessions),
            HeldMailWatch(settings, sessions, notifications),
        )
        notifier.tasks = [
            asyncio.create_task(notifier.sender.run()),
            asyncio.create_task(notifier.watch.run()),
        ]
        running.append(notifier)
        return notifier

    yield start
    for notifier in running:
        await notifier.stop()


@pytest.fixture
async def notifier(
    settings: Settings, start_notifier: Callable[[Settings], Awaitable[InProcessNotifier]]
) -> InProcessNotifier:
    """A notifier running in this process with the test's ``settings``; a test that
    needs other settings calls ``start_notifier`` itself."""
    return await start_notifier(settings)


# --- helpers ---------------------------------------------------------------------


def maildir_count(sink: SmtpSink) -> int:
    """How many mails the sink holds (cheaper than parsing them)."""
    return len(os.listdir(sink.maildir / "new")) + len(os.listdir(sink.maildir / "cur"))


def received(sink: SmtpSink) -> list[EmailMessage]:
    """The sink's mails, parsed with the modern policy (decoded headers)."""
    return [
        message_from_bytes(m.as_bytes(), policy=policy.default)  # type: ignore[misc]
        for m in sink.messages()
    ]


async def wait_for_mails(sink: SmtpSink, count: int, timeout: float = 30.0) -> list[EmailMessage]:
    async def arrived() -> bool:
        return maildir_count(sink) >= count

    await eventually(arrived, timeout=timeout, interval=0.2, what=f"{count} mails")
    return received(sink)


async def mail_rows(sessions: async_sessionmaker[AsyncSession], **where: Any) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(mail)
        for column, value in where.items():
            query = query.where(mail.c[column] == value)
        return int(await session.scalar(query) or 0)


def message_ids(messages: list[Message]) -> list[str]:
    return [str(m["Message-ID"]) for m in messages]


# --- the notifier as real processes ------------------------------------------------


@dataclass
class Worker:
    """``python -m eproc_notifier.worker`` as a child process."""

    name: str
    env: dict[str, str]
    log_dir: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    starts: int = 0
    _logs: list[Any] = field(default_factory=list)

    def start(self) -> None:
        self.starts += 1
        log = (self.log_dir / f"{self.name}-{self.starts}.log").open("wb")
        self._logs.append(log)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "eproc_notifier.worker"],
            env={**self.env, "EPROC_INSTANCE_NAME": f"{self.name}#{self.starts}"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                # A member that just rejoined may wait out a killed member's Kafka
                # session before it can leave cleanly; no need to sit through it.
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for log in self._logs:
            log.close()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a worker process these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPROC_")}
    for name, value in settings.model_dump(exclude_none=True).items():
        key = f"EPROC_{name.upper()}"
        if isinstance(value, list):
            env[key] = json.dumps(value)
        elif isinstance(value, bool):
            env[key] = str(value).lower()
        elif hasattr(value, "get_secret_value"):
            env[key] = value.get_secret_value()
        else:
            env[key] = str(value)
    return env


# --- input events ---------------------------------------------------------------


def user(language: Language, given: str, family: str) -> UserRegistered:
    user_id = uuid4()
    return UserRegistered(
        user_id=user_id,
        username=f"{given.lower()}.{family.lower()}",
        given_name=given,
        family_name=family,
        email=f"{user_id.hex[:8]}.{family.lower()}@example.org",
        language=language,
        phone="+32 2 123 45 67",
    )


def rejections(requester_id: UUID, count: int) -> list[RequestRejected]:
    """``count`` rejected join requests of one requester: one mail each, at once (an
    approval is mailed only once applied)."""
    return [
        RequestRejected(
            request_id=uuid4(),
            kind=RequestKind.JOIN,
            requester_id=requester_id,
            organisation_id=uuid4(),
            decided_by=uuid4(),
            decided_at=datetime.now(UTC),
        )
        for _ in range(count)
    ]


SUPERUSER = RoleGrant(application="user-management", role="superuser")
BUYER = RoleGrant(application="user-management", role="buyer")


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())
