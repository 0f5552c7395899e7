"""Fixtures of the organisations tests: one migrated PostgreSQL database shared by the
tests (each test works on its own organisations and users, fresh UUIDs), an app wired to
it with a test token issuer, and helpers to create data the way the service would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_contracts.common import (
    Address,
    LocalisedName,
    ProposedOrganisation,
    RequestKind,
    RoleGrant,
)
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import RequestApproved
from eproc_org_dataset import generate
from eproc_organisations.main import create_app
from eproc_organisations.models import messaging_tables
from eproc_organisations.service import approvals, directory
from eproc_organisations.service.common import Actor
from eproc_organisations.settings import Settings
from eproc_runtime.app import ServiceState
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

OPERATOR = Actor("operator", uuid4())
ADDRESS = Address(street="Wetstraat", number="16", postcode="1000", municipality="Brussel")

# Enterprise numbers for organisations made by the tests: valid (mod 97), and far from
# the generated dataset's ranges (which start at 0200...).
_sequence = iter(range(1_000_000, 1_999_999, 7))


def next_enterprise_number() -> str:
    body = next(_sequence) + (uuid4().int % 5000) * 1000
    return f"{body:08d}{97 - body % 97:02d}"


@dataclass
class Db:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@pytest.fixture(scope="session", params=["postgres", "sqlite"])
async def db(
    request: pytest.FixtureRequest,
    create_database: CreateDatabase,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Db]:
    """The service's database, on PostgreSQL and on SQLite (the embedded mode)."""
    if request.param == "postgres":
        url = await create_database("organisations")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('organisations')}/organisations.db"
    await upgrade_async("eproc_organisations", url)
    engine = create_engine(url)
    yield Db(url, engine, create_session_factory(engine))
    await engine.dispose()


@pytest.fixture(scope="session")
def issuer() -> TestIssuer:
    return TestIssuer()


@pytest.fixture
async def client(db: Db, issuer: TestIssuer) -> AsyncIterator[httpx.AsyncClient]:
    """The service's HTTP API on the shared database (no bus: the outbox is inspected)."""
    settings = Settings(database_url=db.url)
    app = create_app(settings, token_verifier=issuer.verifier())
    app.state.service = ServiceState(
        settings,
        db.engine,
        db.sessions,
        SimpleNamespace(relay=None),  # type: ignore[arg-type]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://organisations") as c:
        yield c


def bearer(issuer: TestIssuer, user_id: UUID, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.user_token(user_id, **kwargs)}"}


async def create_organisation(
    db: Db,
    *,
    parent_id: UUID | None = None,
    superuser: UUID | None = None,
    name: str = "Test organisation",
) -> UUID:
    """An organisation bootstrapped by an operator, with ``superuser`` as its Superuser."""
    organisation_id = uuid4()
    async with unit_of_work(db.sessions) as session:
        await directory.bootstrap(
            session,
            OPERATOR,
            organisation_id=organisation_id,
            parent_id=parent_id,
            names=LocalisedName(nl=f"{name} {organisation_id.hex[:6]}"),
            enterprise_number=next_enterprise_number(),
            address=ADDRESS,
            superuser_id=superuser,
        )
    return organisation_id


def approved(
    kind: RequestKind,
    requester: UUID,
    organisation_id: UUID | None,
    roles: list[tuple[str, str]] = (),  # type: ignore[assignment]
    *,
    proposed: ProposedOrganisation | None = None,
    decided_by: UUID | None = None,
    request_id: UUID | None = None,
) -> Envelope[Any]:
    """The envelope the requests service publishes when a Superuser approves."""
    return Envelope.wrap(
        RequestApproved(
            request_id=request_id or uuid4(),
            kind=kind,
            requester_id=requester,
            organisation_id=organisation_id,
            roles=[RoleGrant(application=a, role=r) for a, r in roles],
            proposed_organisation=proposed,
            decided_by=decided_by or uuid4(),
            decided_at=datetime.now(UTC),
        ),
        producer="requests",
    )


async def apply(db: Db, envelope: Envelope[Any]) -> str:
    async with unit_of_work(db.sessions) as session:
        return await approvals.apply_approved_request(session, envelope.data, envelope)


async def events_of(db: Db, key: UUID, event_type: str | None = None) -> list[dict[str, Any]]:
    """Events in the outbox for one partition key (a user or an organisation), in order."""
    outbox = messaging_tables.outbox
    query = select(outbox.c.payload).where(outbox.c.key == str(key)).order_by(outbox.c.id)
    if event_type:
        query = query.where(outbox.c.event_type == event_type)
    async with db.sessions() as session:
        return [json.loads(p) for p in (await session.execute(query)).scalars()]


@pytest.fixture(scope="session")
def small_dataset() -> list[Any]:
    return generate(3000, seed=1)
