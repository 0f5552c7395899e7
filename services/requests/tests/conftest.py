"""Fixtures of the requests service's tests: a migrated PostgreSQL database,
the app on it (without relay or consumer, so tests read the outbox), tokens,
and a way to feed it organisations events through its real handlers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.events import MembershipGranted
from eproc_requests.api import _directory, _leave_guard
from eproc_requests.consumers import HANDLERS
from eproc_requests.leave_guard import LeaveVerdict
from eproc_requests.main import create_app
from eproc_requests.models import messaging_tables
from eproc_requests.settings import Settings
from eproc_runtime.app import ServiceState
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.errors import Unavailable
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

SUPERUSER = RoleGrant(application="user-management", role="superuser")
BUYER = RoleGrant(application="user-management", role="buyer")
PUBLISHER = RoleGrant(application="e-notification", role="publisher")


async def migrated_database(create_database: CreateDatabase, label: str = "requests") -> str:
    url = await create_database(label)
    await upgrade_async("eproc_requests", url)
    return url


@pytest.fixture(scope="session")
async def database_url(create_database: CreateDatabase) -> str:
    """One migrated database for the API tests; each test works on its own fresh ids."""
    return await migrated_database(create_database)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=25, max_overflow=5)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@dataclass
class FakeLeaveGuard:
    """The leave-guard port, answering from a set of refusals."""

    refusals: dict[tuple[UUID, UUID], str] = field(default_factory=dict)
    asked: list[tuple[UUID, UUID]] = field(default_factory=list)

    async def check_leave(self, user_id: UUID, organisation_id: UUID) -> LeaveVerdict:
        self.asked.append((user_id, organisation_id))
        reason = self.refusals.get((user_id, organisation_id))
        return LeaveVerdict(allowed=reason is None, reason=reason, detail="")


@pytest.fixture
def leave_guard() -> FakeLeaveGuard:
    return FakeLeaveGuard()


@dataclass
class FakeDirectory:
    """The directory port (the organisations service): every organisation exists and
    no enterprise number is taken, except those the test names."""

    unknown: set[UUID] = field(default_factory=set)
    taken: set[str] = field(default_factory=set)
    down: bool = False  # answers as HttpDirectory does when the service is unreachable
    asked: list[UUID] = field(default_factory=list)

    async def organisation_exists(self, organisation_id: UUID) -> bool:
        self.asked.append(organisation_id)
        if self.down:
            raise Unavailable("directory_unavailable", "The directory cannot be reached.")
        return organisation_id not in self.unknown

    async def enterprise_number_taken(self, enterprise_number: str) -> bool:
        return enterprise_number in self.taken


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory()


@pytest.fixture
async def app(
    database_url: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    issuer: TestIssuer,
    leave_guard: FakeLeaveGuard,
    directory: FakeDirectory,
) -> Any:
    settings = Settings(database_url=database_url, reminder_job_enabled=False)
    app = create_app(settings, token_verifier=issuer.verifier())
    # No relay and no consumer: the tests read the outbox and feed events themselves.
    messaging = SimpleNamespace(relay=None)
    app.state.service = ServiceState(settings, engine, sessions, messaging)  # type: ignore[arg-type]
    app.dependency_overrides[_leave_guard] = lambda: leave_guard
    app.dependency_overrides[_directory] = lambda: directory
    return app


@dataclass
class Api:
    """An HTTP client of the app that signs in as whoever the test says."""

    client: httpx.AsyncClient
    issuer: TestIssuer

    def headers(
        self, user: UUID, *, organisation: UUID | None = None, operator: bool = False
    ) -> dict[str, str]:
        token = self.issuer.user_token(user, organisation=organisation, operator=operator)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        method: str,
        path: str,
        user: UUID,
        *,
        organisation: UUID | None = None,
        operator: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = self.headers(user, organisation=organisation, operator=operator)
        return await self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
async def api(app: Any, issuer: TestIssuer) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://requests") as client:
        yield Api(client, issuer)


Feed = Callable[[Payload], Any]


@pytest.fixture
def feed(sessions: async_sessionmaker[AsyncSession]) -> Feed:
    """Deliver an organisations event to the service's handler, as the consumer would."""

    async def deliver(payload: Payload) -> Envelope[Any]:
        envelope = Envelope.wrap(payload, producer="organisations")
        async with unit_of_work(sessions) as session:
            await HANDLERS.dispatch(session, envelope)
        return envelope

    return deliver


@pytest.fixture
def grant(feed: Feed) -> Callable[..., Any]:
    """Make ``user`` a member of ``organisation`` with ``roles`` (default: Superuser)."""

    async def make(
        user: UUID, organisation: UUID, roles: list[RoleGrant] | None = None
    ) -> Envelope[Any]:
        return await feed(
            MembershipGranted(
                user_id=user,
                organisation_id=organisation,
                roles=roles if roles is not None else [SUPERUSER, BUYER],
            )
        )

    return make


async def events_of(
    sessions: async_sessionmaker[AsyncSession], key: UUID | str, event_type: str | None = None
) -> list[dict[str, Any]]:
    """The envelopes (as JSON) waiting in the outbox for aggregate ``key``."""
    outbox = messaging_tables.outbox
    query = select(outbox.c.payload).where(outbox.c.key == str(key)).order_by(outbox.c.id)
    if event_type is not None:
        query = query.where(outbox.c.event_type == event_type)
    async with sessions() as session:
        return [json.loads(p) for p in (await session.scalars(query)).all()]


def ids(n: int) -> list[UUID]:
    return [uuid4() for _ in range(n)]
