"""R-MEM-2 as a property: after any sequence of joins, leaves and default changes, a user
with at least one membership has exactly one default organisation, one of their own; a
user without memberships has none; and the last default-changed event says the same (so
the edge's projection agrees)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from eproc_contracts.common import RequestKind
from eproc_organisations.models import membership
from eproc_organisations.service import memberships
from eproc_organisations.service.common import Actor
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.errors import UseCaseError

from .conftest import Db, apply, approved, create_organisation, events_of

ORGANISATIONS = 4
operations = st.lists(
    st.tuples(st.sampled_from(["join", "leave", "default"]), st.integers(0, ORGANISATIONS - 1)),
    max_size=12,
)


def _check_property(url: str) -> None:
    """Runs in its own thread and event loop: hypothesis drives a synchronous function."""
    loop = asyncio.new_event_loop()
    engine = create_engine(url)
    db = Db(url, engine, create_session_factory(engine))
    boss = uuid4()
    organisations = [
        loop.run_until_complete(create_organisation(db, superuser=boss))
        for _ in range(ORGANISATIONS)
    ]

    async def run(steps: list[tuple[str, int]]) -> None:
        user = uuid4()
        for action, index in steps:
            target = organisations[index]
            if action == "join":
                await apply(
                    db, approved(RequestKind.JOIN, user, target, [("e-catalogue", "buyer")])
                )
            elif action == "leave":
                await apply(db, approved(RequestKind.LEAVE, user, target))
            else:
                try:
                    async with unit_of_work(db.sessions) as session:
                        await memberships.set_default_organisation(
                            session, Actor("user", user), target
                        )
                except UseCaseError:
                    pass  # not a member: refused, nothing changed
            await _assert_one_default(db, user)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(operations)
    def property_holds(steps: list[tuple[str, int]]) -> None:
        loop.run_until_complete(run(steps))

    try:
        property_holds()
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()


async def _assert_one_default(db: Db, user: UUID) -> None:
    async with db.sessions() as session:
        rows = (
            await session.execute(
                select(membership.c.organisation_id, membership.c.is_default).where(
                    membership.c.user_id == user
                )
            )
        ).all()
    defaults = [organisation for organisation, is_default in rows if is_default]
    if rows:
        assert len(defaults) == 1, rows
    else:
        assert defaults == []
    announced = await events_of(db, user, "membership.default-changed")
    last = announced[-1]["data"]["organisation_id"] if announced else None
    assert last == (str(defaults[0]) if defaults else None)


async def test_a_member_always_has_exactly_one_default_organisation(db: Db) -> None:
    await asyncio.to_thread(_check_property, db.url)
