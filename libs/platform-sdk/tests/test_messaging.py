"""The membership-event consumer and the dossier-link outbox, on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import JSON, Column, MetaData, Table, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import decode, encode
from eproc_platform_sdk import (
    DossierLinkReporter,
    EventConsumer,
    EventHandlers,
    OutboxRelay,
    first_time,
    outbox_table,
    processed_events_table,
)
from eproc_runtime.bus.kafka import kafka_connection
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase

metadata = MetaData()
processed = processed_events_table(metadata)
outbox = outbox_table(metadata)
member = Table(
    "member",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("roles", JSON, nullable=False),
)


@pytest.fixture
async def sessions(create_database: CreateDatabase) -> Any:
    engine = create_async_engine(await create_database("sdk_app"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def test_membership_events_are_applied_once_in_order_with_retries(
    sessions: async_sessionmaker[AsyncSession], kafka_bootstrap: str, topic_prefix: str
) -> None:
    handlers = EventHandlers()
    calls: list[str] = []

    @handlers.on(ev.MembershipGranted)
    async def granted(
        session: AsyncSession, event: ev.MembershipGranted, envelope: Envelope[Any]
    ) -> None:
        calls.append("granted")
        roles = sorted(r.role for r in event.roles if r.application == "e-tendering")
        await session.execute(
            member.insert().values(
                user_id=event.user_id, organisation_id=event.organisation_id, roles=roles
            )
        )

    @handlers.on(ev.MembershipRevoked)
    async def revoked(
        session: AsyncSession, event: ev.MembershipRevoked, envelope: Envelope[Any]
    ) -> None:
        calls.append("revoked")
        await session.execute(
            member.delete().where(
                member.c.user_id == event.user_id,
                member.c.organisation_id == event.organisation_id,
            )
        )
        if calls.count("revoked") == 1:
            raise RuntimeError("the database hiccups once")  # rolled back, then retried

    user, org = uuid.uuid4(), uuid.uuid4()
    grant = Envelope.wrap(
        ev.MembershipGranted(
            user_id=user,
            organisation_id=org,
            roles=[RoleGrant(application="e-tendering", role="dossier-manager")],
        ),
        producer="organisations",
    )
    revoke = Envelope.wrap(
        ev.MembershipRevoked(user_id=user, organisation_id=org, reason=ev.RevocationReason.LEFT),
        producer="organisations",
    )
    unknown = json.dumps({"type": "membership.something-new", "data": {}}).encode()
    topic = topic_prefix + "org.membership.v1"
    producer = AIOKafkaProducer(**kafka_connection(kafka_bootstrap).aiokafka_options())
    await producer.start()
    try:
        for value in (encode(grant), encode(grant), unknown):  # a redelivery, a newer type
            await producer.send_and_wait(topic, value, key=str(user).encode())
        group = f"e-tendering-{uuid.uuid4().hex[:8]}"
        consumer = EventConsumer(
            handlers,
            sessions=sessions,
            processed=processed,
            bootstrap_servers=kafka_bootstrap,
            kafka_options=kafka_connection(kafka_bootstrap).aiokafka_options(),
            group_id=group,
            topic_prefix=topic_prefix,
            retry_backoff=0.05,
        )
        assert consumer.topics == [topic]
        async with consumer:

            async def one_member() -> bool:
                async with sessions() as s:
                    return await s.scalar(select(func.count()).select_from(member)) == 1

            await eventually(one_member)
            await producer.send_and_wait(topic, encode(revoke), key=str(user).encode())

            async def revoked_applied() -> bool:
                return consumer.handled == 2

            await eventually(revoked_applied)
        assert calls == ["granted", "revoked", "revoked"]  # the duplicate grant did not run
        assert consumer.failures == 1
        async with sessions() as s:
            assert await s.scalar(select(func.count()).select_from(member)) == 0
            assert await s.scalar(select(func.count()).select_from(processed)) == 2
        # Offsets were committed after each commit: the same group starts where it stopped.
        again = EventConsumer(
            handlers,
            sessions=sessions,
            processed=processed,
            bootstrap_servers=kafka_bootstrap,
            kafka_options=kafka_connection(kafka_bootstrap).aiokafka_options(),
            group_id=group,
            topic_prefix=topic_prefix,
        )
        async with again:
            await asyncio.sleep(1.0)
        assert again.handled == 0 and calls == ["granted", "revoked", "revoked"]
    finally:
        await producer.stop()


async def test_first_time_on_sqlite_too(tmp_path: Any) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/app.db")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = async_sessionmaker(engine)
    event_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        assert await first_time(session, processed, "app", event_id)
    async with sessions() as session, session.begin():
        assert not await first_time(session, processed, "app", event_id)
        assert await first_time(session, processed, "other-consumer", event_id)
    await engine.dispose()


async def test_dossier_links_leave_through_the_outbox_only_when_committed(
    sessions: async_sessionmaker[AsyncSession], kafka_bootstrap: str, topic_prefix: str
) -> None:
    reporter = DossierLinkReporter("e-tendering", outbox)
    user, org = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await reporter.linked(session, dossier_id="T-0", organisation_id=org, user_id=user)
            raise RuntimeError("the link itself failed: nothing may be reported")
    async with sessions() as session, session.begin():
        await reporter.linked(session, dossier_id="T-1", organisation_id=org, user_id=user)
        await reporter.unlinked(session, dossier_id="T-1", organisation_id=org, user_id=user)
    reader = AIOKafkaConsumer(
        topic_prefix + "platform.dossier-link.v1",
        **kafka_connection(kafka_bootstrap).aiokafka_options(),
        group_id=f"reader-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    relay = OutboxRelay(
        sessions=sessions,
        outbox=outbox,
        bootstrap_servers=kafka_bootstrap,
        kafka_options=kafka_connection(kafka_bootstrap).aiokafka_options(),
        topic_prefix=topic_prefix,
        poll_interval=0.1,
    )
    await reader.start()
    try:
        async with relay:
            received: list[Any] = []
            for _ in range(100):
                batch = await reader.getmany(timeout_ms=200)
                received += [decode(r.value) for rs in batch.values() for r in rs]
                if len(received) >= 2:
                    break
        assert [type(e.data) for e in received] == [ev.DossierLinked, ev.DossierUnlinked]
        assert {(e.data.dossier_id, e.data.user_id, e.producer) for e in received} == {
            ("T-1", user, "e-tendering")
        }
        assert relay.published == 2
        async with sessions() as s:
            # Published rows leave the outbox.
            assert await s.scalar(select(func.count()).select_from(outbox)) == 0
    finally:
        await reader.stop()
