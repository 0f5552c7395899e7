"""End to end over real Kafka: the requests service's RequestApproved arrives on its topic,
the organisations service (its real app lifespan: relay + consumer) applies it, and the
outcome leaves on org.membership.v1 through the outbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from eproc_contracts.common import RequestKind, RoleGrant
from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.events import DossierLinked, RequestApproved
from eproc_contracts.topics import decode, encode, topic_of
from eproc_organisations.main import create_app
from eproc_organisations.models import dossier_link
from eproc_organisations.settings import Settings
from eproc_runtime.bus.base import Record
from eproc_runtime.bus.kafka import KafkaPublisher, kafka_connection
from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import Db, create_organisation


async def _publish(bootstrap: str, prefix: str, payload: Payload, producer: str) -> None:
    envelope = Envelope.wrap(payload, producer=producer)
    publisher = KafkaPublisher(bootstrap, client_id=producer)
    await publisher.start()
    try:
        await publisher.publish(
            [
                Record(
                    topic=prefix + topic_of(payload).name,
                    key=envelope.partition_key,
                    value=encode(envelope),
                )
            ]
        )
    finally:
        await publisher.stop()


async def _wait_for(
    consumer: AIOKafkaConsumer, wanted: str, user: UUID, timeout: float = 60
) -> Envelope[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batches = await consumer.getmany(timeout_ms=500)
        for messages in batches.values():
            for message in messages:
                envelope = decode(message.value)
                if envelope.type == wanted and envelope.data.user_id == user:
                    return envelope
    raise AssertionError(f"no {wanted} for {user} within {timeout} s")


def _approval(
    kind: RequestKind, user: UUID, organisation: UUID, roles: list[RoleGrant]
) -> RequestApproved:
    return RequestApproved(
        request_id=uuid4(),
        kind=kind,
        requester_id=user,
        organisation_id=organisation,
        roles=roles,
        decided_by=uuid4(),
        decided_at=datetime.now(UTC),
    )


async def test_an_approved_join_over_kafka_grants_the_membership(
    create_database: CreateDatabase, kafka_bootstrap: str, topic_prefix: str, issuer: TestIssuer
) -> None:
    url = await create_database("organisations_kafka")
    await upgrade_async("eproc_organisations", url)
    engine = create_engine(url)
    db = Db(url, engine, create_session_factory(engine))
    boss, user = uuid4(), uuid4()
    organisation = await create_organisation(db, superuser=boss)

    settings = Settings(
        database_url=url,
        bus="kafka",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        relay_idle_interval=0.02,
        consumer_retry_backoff=0.01,
        log_json=False,
    )
    app = create_app(settings, token_verifier=issuer.verifier())
    membership_events = AIOKafkaConsumer(
        topic_prefix + "org.membership.v1",
        **kafka_connection(kafka_bootstrap).aiokafka_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"observer-{uuid4().hex[:8]}",
    )
    async with app.router.lifespan_context(app):
        await membership_events.start()
        try:
            await _publish(
                kafka_bootstrap,
                topic_prefix,
                _approval(
                    RequestKind.JOIN,
                    user,
                    organisation,
                    [RoleGrant(application="e-tendering", role="dossier-manager")],
                ),
                producer="requests",
            )
            granted = await _wait_for(membership_events, "membership.granted", user)
            assert granted.data.organisation_id == organisation
            assert [(r.application, r.role) for r in granted.data.roles] == [
                ("e-tendering", "dossier-manager")
            ]
            assert granted.causation_id is not None  # caused by the approval

            # A dossier link reported by e-Tendering, then a leave approved: refused.
            await _publish(
                kafka_bootstrap,
                topic_prefix,
                DossierLinked(
                    application="e-tendering",
                    dossier_id="T-1",
                    organisation_id=organisation,
                    user_id=user,
                ),
                producer="e-tendering",
            )
            await _wait_for_link(db, user)
            await _publish(
                kafka_bootstrap,
                topic_prefix,
                _approval(RequestKind.LEAVE, user, organisation, []),
                producer="requests",
            )
            refused = await _wait_for(membership_events, "membership.change-refused", user)
            assert refused.data.reason == "linked_dossiers"
        finally:
            await membership_events.stop()
    await engine.dispose()


async def _wait_for_link(db: Db, user: UUID, timeout: float = 60) -> None:
    async def linked() -> UUID | None:
        async with db.sessions() as session:
            return await session.scalar(
                select(dossier_link.c.user_id).where(dossier_link.c.user_id == user)
            )

    await eventually(linked, timeout=timeout, what="the dossier link")
