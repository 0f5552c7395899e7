"""The locked-down event bus (issue 11, item 4): Kafka with SASL/SCRAM and ACLs.

Each service writes only its own topics, a platform application reads the
membership topic and writes only dossier-link reports, and the broker itself
refuses a forged membership event written with an application's credentials.
Principals and ACLs come from :func:`eproc_runtime.bus.acl.access_model` (the
topic registry), provisioned per test prefix by the ``kafka_principals`` fixture.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from sqlalchemy import select

from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import DossierLinked, MembershipGranted
from eproc_contracts.topics import DOSSIER_LINK, MEMBERSHIP, TOPICS, decode, encode
from eproc_runtime.bus.acl import PLATFORM_APPLICATIONS, access_model, registry_services
from eproc_runtime.bus.kafka import KafkaConnection
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.messaging import Messaging
from eproc_runtime.settings import ServiceSettings
from eproc_runtime.testing import demo
from eproc_runtime.testing.plugin import CreateDatabase, ProvisionPrincipals

APP = "e-tendering"


def _granted(user: Any = None) -> Envelope[Any]:
    return Envelope.wrap(
        MembershipGranted(
            user_id=user or uuid4(),
            organisation_id=uuid4(),
            roles=[RoleGrant(application="eproc", role="Superuser")],
        ),
        producer="organisations",
    )


def _linked() -> Envelope[Any]:
    return Envelope.wrap(
        DossierLinked(application=APP, dossier_id="T-1", organisation_id=uuid4(), user_id=uuid4()),
        producer=APP,
    )


def _producer(connection: KafkaConnection) -> AIOKafkaProducer:
    return AIOKafkaProducer(**connection.aiokafka_options(), acks="all", request_timeout_ms=10000)


async def _send(connection: KafkaConnection, topic: str, value: bytes) -> None:
    producer = _producer(connection)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def _read_all(connection: KafkaConnection, topic: str, timeout: float = 10.0) -> list[bytes]:
    """Every record on the topic (no consumer group: all partitions from the start)."""
    consumer = AIOKafkaConsumer(
        topic,
        **connection.aiokafka_options(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        # aiokafka has no public "assigned" event: poll until the partitions arrive.
        while not consumer.assignment() and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        assignment = sorted(consumer.assignment())
        ends = await consumer.end_offsets(assignment)
        values: list[bytes] = []
        while time.monotonic() < deadline:
            positions = [await consumer.position(tp) for tp in assignment]
            if all(pos >= ends[tp] for pos, tp in zip(positions, assignment, strict=True)):
                break
            batch = await consumer.getmany(timeout_ms=200)
            values += [m.value or b"" for ms in batch.values() for m in ms]
        return values
    finally:
        await consumer.stop()


def test_the_registry_names_every_topic_each_service_consumes() -> None:
    """The ACLs are derived from the registry: it must list what services really read."""
    from eproc_edge.consumers import HANDLERS as edge_handlers
    from eproc_identity.consumers import HANDLERS as identity
    from eproc_notifier.consumers import handlers as notifier_handlers
    from eproc_notifier.service import Notifications
    from eproc_notifier.settings import Settings as NotifierSettings
    from eproc_organisations.consumers import HANDLERS as organisations
    from eproc_requests.consumers import HANDLERS as requests

    handlers = {
        "identity": identity,
        "organisations": organisations,
        "requests": requests,
        "notifier": notifier_handlers(Notifications(NotifierSettings())),
        "edge": edge_handlers,
    }
    model = access_model()
    for service, table in handlers.items():
        for topic in table.topics():
            assert model.allows(service, "READ", "topic", topic), (service, topic)
    assert set(registry_services()) == set(handlers)


async def test_an_application_reads_memberships_and_reports_links_but_cannot_forge_them(
    kafka_principals: ProvisionPrincipals, kafka_admin: KafkaConnection, topic_prefix: str
) -> None:
    bus = await kafka_principals(services=["organisations"], applications=[APP])
    app = bus[APP]
    membership = topic_prefix + MEMBERSHIP.name
    genuine = _granted()
    await _send(bus["organisations"], membership, encode(genuine))

    # It reads the membership topic in its own consumer group.
    reader = AIOKafkaConsumer(
        membership,
        **app.aiokafka_options(),
        group_id=bus.model.principal(APP).group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        batch = await reader.getmany(timeout_ms=15000)
        seen = [decode(m.value or b"").event_id for ms in batch.values() for m in ms]
    finally:
        await reader.stop()
    assert seen == [genuine.event_id]

    # It reports a dossier link.
    await _send(app, topic_prefix + DOSSIER_LINK.name, encode(_linked()))

    # A forged membership event with its credentials: the broker refuses it.
    forged = _granted()
    with pytest.raises(TopicAuthorizationFailedError):
        await _send(app, membership, encode(forged))

    on_topic = [decode(v).event_id for v in await _read_all(kafka_admin, membership)]
    assert on_topic == [genuine.event_id]
    links = await _read_all(kafka_admin, topic_prefix + DOSSIER_LINK.name)
    assert len(links) == 1


async def test_each_service_writes_only_the_topics_it_owns(
    kafka_principals: ProvisionPrincipals, topic_prefix: str
) -> None:
    services = list(registry_services())
    bus = await kafka_principals(services=services, applications=[APP])
    dead_letter_topics = {
        p.role: f"{topic_prefix}dlt.{p.group}" for p in bus.model.principals if p.kind == "service"
    }
    outcomes: dict[tuple[str, str], bool] = {}
    expected: dict[tuple[str, str], bool] = {}
    for role in [*services, APP]:
        producer = _producer(bus[role])
        await producer.start()
        try:
            targets = [topic_prefix + t.name for t in TOPICS] + list(dead_letter_topics.values())
            for topic in targets:
                try:
                    await producer.send_and_wait(topic, b"{}", key=b"k")
                    outcomes[role, topic] = True
                except TopicAuthorizationFailedError:
                    outcomes[role, topic] = False
            for t in TOPICS:
                owner = APP if t.producer == PLATFORM_APPLICATIONS else t.producer
                expected[role, topic_prefix + t.name] = owner == role
            for service, dlt in dead_letter_topics.items():
                expected[role, dlt] = service == role
        finally:
            await producer.stop()
    refused = [k for k, ok in outcomes.items() if not ok]
    assert outcomes == expected
    assert len(outcomes) == (len(services) + 1) * (len(TOPICS) + len(dead_letter_topics))
    assert len(refused) > len(outcomes) // 2


async def test_a_service_cannot_join_another_services_consumer_group(
    kafka_principals: ProvisionPrincipals, topic_prefix: str
) -> None:
    bus = await kafka_principals(services=["notifier", "requests"])
    intruder = AIOKafkaConsumer(
        topic_prefix + MEMBERSHIP.name,
        **bus["notifier"].aiokafka_options(),
        group_id=bus.model.principal("requests").group,
        enable_auto_commit=False,
    )
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            await intruder.start()
            await intruder.getmany(timeout_ms=5000)
    finally:
        await intruder.stop()


async def test_a_wrong_password_is_refused(
    kafka_principals: ProvisionPrincipals, kafka_admin: KafkaConnection
) -> None:
    bus = await kafka_principals(services=["identity"])
    wrong = kafka_admin.as_user(bus["identity"].username or "", "not-the-password")
    producer = AIOKafkaProducer(**wrong.aiokafka_options(), request_timeout_ms=5000)
    with pytest.raises((KafkaConnectionError, KafkaError)):
        await producer.start()
    await producer.stop()
    nobody = KafkaConnection(kafka_admin.bootstrap, protocol="PLAINTEXT")
    producer = AIOKafkaProducer(**nobody.aiokafka_options(), request_timeout_ms=5000)
    with pytest.raises((KafkaConnectionError, KafkaError)):
        await producer.start()
    await producer.stop()


async def test_relay_to_consumer_with_each_sides_own_principal(
    kafka_principals: ProvisionPrincipals, create_database: CreateDatabase, topic_prefix: str
) -> None:
    """The runtime's outbox relay and idempotent consumer, each with only its own
    principal: an application's dossier-link reports reach organisations."""
    bus = await kafka_principals(services=["organisations"], applications=[APP])
    engines = []
    sessions = []
    for label, metadata in (
        ("producer", demo.producer_metadata),
        ("consumer", demo.consumer_metadata),
    ):
        engine = create_engine(await create_database(label))
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        engines.append(engine)
        sessions.append(create_session_factory(engine))

    def settings(role: str) -> ServiceSettings:
        connection = bus[role]
        return ServiceSettings(
            service_name=bus.model.principal(role).group,
            bus="kafka",
            kafka_bootstrap=connection.bootstrap,
            kafka_username=connection.username,
            kafka_password=connection.password,
            topic_prefix=topic_prefix,
            relay_idle_interval=0.02,
        )

    relay = Messaging(settings(APP), sessions[0], demo.producer_tables)
    consumer = Messaging(
        settings("organisations"),
        sessions[1],
        demo.consumer_tables,
        handlers=demo.HANDLERS,
        relay=False,
    )
    await relay.start()
    await consumer.start()
    try:
        for _ in range(20):
            async with unit_of_work(sessions[0]) as session:
                await demo.increment(session, uuid4())
        deadline = time.monotonic() + 30
        rows: list[Any] = []
        while time.monotonic() < deadline:
            async with sessions[1]() as session:
                rows = list((await session.execute(select(demo.effect))).all())
            if len(rows) >= 20:
                break
            await asyncio.sleep(0.05)
    finally:
        await relay.stop()
        await consumer.stop()
        for engine in engines:
            await engine.dispose()
    assert len(rows) == 20
