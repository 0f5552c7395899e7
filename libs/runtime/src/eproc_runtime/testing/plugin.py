"""pytest fixtures for real PostgreSQL, Kafka and SMTP (loaded by the root conftest)."""

from __future__ import annotations

import asyncio
import mailbox
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from eproc_runtime.bus.acl import BusAccessModel, access_model
from eproc_runtime.bus.kafka import KafkaConnection
from eproc_runtime.testing import infra

CreateDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Superuser URL of the test PostgreSQL server."""
    yield infra.postgres_url()


@pytest.fixture(scope="session")
async def create_database(postgres_server: str) -> AsyncIterator[CreateDatabase]:
    """Makes a fresh, empty database (dropped after the session); returns its asyncpg URL."""
    admin_url = postgres_server.replace("postgresql+asyncpg://", "postgresql://")
    created: list[str] = []

    async def create(label: str) -> str:
        name = f"t_{label}_{uuid.uuid4().hex[:10]}".lower()
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        created.append(name)
        base = infra.async_url(admin_url).rsplit("/", 1)[0]
        return f"{base}/{name}"

    yield create
    conn = await asyncpg.connect(admin_url)
    try:
        for name in created:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def kafka_admin() -> KafkaConnection:
    """The test broker with its super user's credentials, which every test's
    ``ServiceSettings`` and runtime Kafka clients use by default (set in the
    environment by :func:`infra.kafka_admin`). Tests that need a service's or
    an application's own principal use :func:`kafka_principals`."""
    return infra.kafka_admin()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_admin: KafkaConnection) -> str:
    return kafka_admin.bootstrap


@pytest.fixture(scope="session")
def kafka_options(kafka_admin: KafkaConnection) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client of the admin:
    ``AIOKafkaProducer(**kafka_options)`` (includes ``bootstrap_servers``)."""
    return kafka_admin.aiokafka_options()


@dataclass
class ProvisionedBus:
    """Principals provisioned for one test's prefixes, with their connections."""

    model: BusAccessModel
    connections: dict[str, KafkaConnection]
    """By role: the service name or the application's client id."""

    def __getitem__(self, role: str) -> KafkaConnection:
        return self.connections[role]


ProvisionPrincipals = Callable[..., Awaitable[ProvisionedBus]]


@pytest.fixture
def kafka_principals(kafka_admin: KafkaConnection, topic_prefix: str) -> ProvisionPrincipals:
    """``await kafka_principals(applications=["e-tendering"])``: SCRAM users with
    random passwords and the ACLs of :func:`eproc_runtime.bus.acl.access_model`
    for this test's ``topic_prefix`` (group and principal prefix derived from
    it), its topics created. Returns each principal's connection by role."""

    async def provision(
        *,
        services: list[str] | None = None,
        applications: list[str] = [],  # noqa: B006 - never mutated
        group_prefix: str | None = None,
    ) -> ProvisionedBus:
        from eproc_runtime.bus.provision import provision_async

        model = access_model(
            services=services,
            applications=applications,
            topic_prefix=topic_prefix,
            group_prefix=group_prefix if group_prefix is not None else topic_prefix,
        )
        passwords = {p.name: secrets.token_urlsafe(18) for p in model.principals}
        await provision_async(kafka_admin, model, passwords)
        return ProvisionedBus(
            model,
            {p.role: kafka_admin.as_user(p.name, passwords[p.name]) for p in model.principals},
        )

    return provision


@pytest.fixture
def topic_prefix() -> Iterator[str]:
    """A prefix that gives each test its own topics on the shared broker; they are
    deleted after the test. A suite leaves thousands of partitions behind otherwise,
    and a single test broker with that many answers ever more slowly (topics created
    but not led within 30 s on a loaded machine)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield prefix
    infra.delete_test_topics(prefix)


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd in a subprocess) that keeps every mail it receives."""

    host: str
    port: int
    maildir: Path
    process: subprocess.Popen[bytes]

    def messages(self) -> list[Message]:
        return [m for _, m in mailbox.Maildir(self.maildir, create=False).items()]

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def start(self) -> None:
        self.process = _spawn_smtpd(self.port, self.maildir)


def _spawn_smtpd(port: int, maildir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    import socket

    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise infra.InfrastructureUnavailable("aiosmtpd did not start")


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    maildir = tmp_path / "maildir"
    mailbox.Maildir(maildir, create=True)
    port = infra.free_port()
    sink = SmtpSink("127.0.0.1", port, maildir, _spawn_smtpd(port, maildir))
    yield sink
    if sink.process.poll() is None:
        sink.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    infra.stop_containers()
    # In CI a skipped test is a failure: a missing service never passes silently.
    if _in_ci() and _skipped and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _in_ci() and _skipped:
        terminalreporter.write_line(
            f"CI: {len(_skipped)} test(s) skipped; a skip is a failure in CI", red=True
        )


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"true", "1"}
