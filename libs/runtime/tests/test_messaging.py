"""The delivery contract of the messaging runtime, on both buses (R-NOT-2 and
DESIGN.md "Messaging rules"): state and event commit together, every event is
applied exactly once and in order per key, poison messages are dead-lettered
and the consumer goes on, and a consumer group shares the work."""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select

from eproc_contracts.events import DossierLinked
from eproc_runtime.bus import Record
from eproc_runtime.bus.log import LogBroker
from eproc_runtime.consumer import EventConsumer, EventHandlers, dead_letter_topic
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.messaging import Messaging
from eproc_runtime.relay import OutboxRelay
from eproc_runtime.testing import demo
from eproc_runtime.testing.eventually import eventually

from .conftest import Backend


async def _effects(backend: Backend) -> list[Any]:
    async with backend.consumer_sessions() as session:
        return list((await session.execute(select(demo.effect).order_by(demo.effect.c.id))).all())


async def _wait_for_effects(backend: Backend, count: int, timeout: float = 60) -> list[Any]:
    async def enough() -> list[Any]:
        rows = await _effects(backend)
        return rows if len(rows) >= count else []

    return await eventually(enough, timeout=timeout, interval=0.05, what=f"{count} effects")


def _consumer_messaging(backend: Backend, handlers: Any = None) -> Messaging:
    return Messaging(
        backend.consumer_settings,
        backend.consumer_sessions,
        demo.consumer_tables,
        handlers=handlers or demo.HANDLERS,
        relay=False,
    )


async def _pending_outbox(backend: Backend) -> int:
    async with backend.producer_sessions() as session:
        return int(
            await session.scalar(select(func.count()).select_from(demo.producer_tables.outbox)) or 0
        )


async def test_every_event_applied_exactly_once_and_in_order_per_key(backend: Backend) -> None:
    users = [uuid4() for _ in range(12)]
    rng = random.Random(7)
    relays = [
        Messaging(backend.producer_settings, backend.producer_sessions, demo.producer_tables)
        for _ in range(2 if backend.relays_can_run_concurrently else 1)
    ]
    consumer = _consumer_messaging(backend)
    for messaging in (*relays, consumer):
        await messaging.start()
    try:
        for _ in range(300):
            async with unit_of_work(backend.producer_sessions) as session:
                await demo.increment(session, rng.choice(users))
        rows = await _wait_for_effects(backend, 300)
        await asyncio.sleep(0.3)  # anything extra would arrive now
        rows = await _effects(backend)
    finally:
        for messaging in (*relays, consumer):
            await messaging.stop()

    assert len(rows) == 300
    assert len({r.event_id for r in rows}) == 300
    per_user: dict[UUID, list[int]] = defaultdict(list)
    for row in rows:
        per_user[row.user_id].append(row.seq)
    for seqs in per_user.values():
        assert seqs == list(range(1, len(seqs) + 1)), "events of one key arrived out of order"
    assert await _pending_outbox(backend) == 0


async def test_a_rolled_back_change_publishes_nothing(backend: Backend) -> None:
    user = uuid4()
    try:
        async with unit_of_work(backend.producer_sessions) as session:
            await demo.increment(session, user, dossier_prefix="ghost")
            raise RuntimeError("the use case failed after writing")
    except RuntimeError:
        pass
    async with unit_of_work(backend.producer_sessions) as session:
        await demo.increment(session, user, dossier_prefix="real")

    relay = Messaging(backend.producer_settings, backend.producer_sessions, demo.producer_tables)
    consumer = _consumer_messaging(backend)
    await relay.start()
    await consumer.start()
    try:
        rows = await _wait_for_effects(backend, 1)
        await asyncio.sleep(0.3)
        rows = await _effects(backend)
    finally:
        await relay.stop()
        await consumer.stop()
    assert [r.dossier_id for r in rows] == ["real-1"]


async def test_a_redelivered_event_is_applied_once(backend: Backend) -> None:
    user = uuid4()
    async with unit_of_work(backend.producer_sessions) as session:
        await demo.increment(session, user)
    # The relay publishes but dies before deleting the rows: the next relay
    # publishes the same events again.
    async with backend.producer_sessions() as session:
        rows = (await session.execute(select(demo.producer_tables.outbox))).all()
    publisher = backend.bus.publisher()
    await publisher.start()
    relay = OutboxRelay(
        backend.producer_sessions,
        demo.producer_tables.outbox,
        publisher,
        topic_prefix=backend.producer_settings.topic_prefix,
    )
    await publisher.publish([relay._record(r) for r in rows])
    assert await relay.publish_pending() == 1
    await publisher.stop()

    consumer = _consumer_messaging(backend)
    await consumer.start()
    try:
        await _wait_for_effects(backend, 1)
        await asyncio.sleep(0.5)
        effects = await _effects(backend)
    finally:
        await consumer.stop()
    assert len(effects) == 1


async def test_a_poison_message_is_dead_lettered_and_the_consumer_goes_on(backend: Backend) -> None:
    user = uuid4()
    async with unit_of_work(backend.producer_sessions) as session:
        await demo.increment(session, user, dossier_prefix="ok")
        await demo.increment(session, user, dossier_prefix="poison")
        await demo.increment(session, user, dossier_prefix="ok")
    # A message that is not even JSON, on the same topic.
    from eproc_contracts.topics import DOSSIER_LINK
    from eproc_runtime.bus.base import Record

    prefix = backend.consumer_settings.topic_prefix
    publisher = backend.bus.publisher()
    await publisher.start()
    await publisher.publish(
        [Record(topic=prefix + DOSSIER_LINK.name, key=str(user), value=b"\x00garbage")]
    )

    relay = Messaging(backend.producer_settings, backend.producer_sessions, demo.producer_tables)
    consumer = _consumer_messaging(backend)
    await relay.start()
    await consumer.start()
    dead_letters = backend.bus.subscription(
        "dlt-reader", [dead_letter_topic("demo-consumer", prefix)]
    )
    await dead_letters.start()
    try:
        rows = await _wait_for_effects(backend, 2)
        found: list[Any] = []
        deadline = time.monotonic() + 30
        while len(found) < 2 and time.monotonic() < deadline:
            found.extend(await dead_letters.poll(10, 0.5))
    finally:
        await dead_letters.stop()
        await relay.stop()
        await consumer.stop()
        await publisher.stop()

    assert [r.dossier_id for r in rows] == ["ok-1", "ok-3"]
    assert len(found) == 2
    errors = sorted(m.header("dlt-error") or "" for m in found)
    assert any("cannot handle poison-2" in e for e in errors)
    assert any("not JSON" in e for e in errors)
    poison = next(m for m in found if "poison" in (m.header("dlt-error") or ""))
    assert poison.header("dlt-attempts") == "3"
    assert poison.header("dlt-original-topic") == prefix + DOSSIER_LINK.name


async def test_two_members_of_a_group_split_the_partitions(backend: Backend) -> None:
    users = [uuid4() for _ in range(40)]
    for user in users:
        async with unit_of_work(backend.producer_sessions) as session:
            await demo.increment(session, user)
            await demo.increment(session, user)

    handled: dict[str, int] = defaultdict(int)

    def counting(name: str) -> Any:
        handlers = EventHandlers()

        @handlers.on(DossierLinked)
        async def handler(session: Any, event: DossierLinked, envelope: Any) -> None:
            handled[name] += 1
            await demo.record_effect(session, event, envelope)

        return handlers

    first = _consumer_messaging(backend, counting("first"))
    second = _consumer_messaging(backend, counting("second"))
    relay = Messaging(backend.producer_settings, backend.producer_sessions, demo.producer_tables)
    await first.start()
    await second.start()
    try:
        assert first.consumer and second.consumer
        assignments = await _wait_for_assignments(first.consumer, second.consumer)
        await relay.start()
        rows = await _wait_for_effects(backend, 80)
        await asyncio.sleep(0.5)
        rows = await _effects(backend)
    finally:
        await relay.stop()
        await first.stop()
        await second.stop()

    a, b = assignments
    assert a and b and not (a & b), f"partitions not split: {a} / {b}"
    assert len(rows) == 80 and len({r.event_id for r in rows}) == 80
    assert handled["first"] > 0 and handled["second"] > 0
    assert handled["first"] + handled["second"] == 80


async def _wait_for_assignments(*consumers: EventConsumer) -> list[set[tuple[str, int]]]:
    deadline = time.monotonic() + 30
    while True:
        assignments = [c._subscription.assignment() for c in consumers]  # type: ignore[attr-defined]
        total = sum(len(a) for a in assignments)
        if (all(assignments) and total >= 4) or time.monotonic() > deadline:
            return assignments
        await asyncio.sleep(0.1)


async def test_a_commit_wakes_the_relay_without_waiting_for_its_poll(backend: Backend) -> None:
    """The relay's poll is only a safety net: an event leaves as soon as the
    transaction that wrote it commits, whether the writer is in this process
    (the in-process signal) or, on PostgreSQL, another one (LISTEN/NOTIFY)."""
    settings = backend.producer_settings.model_copy(update={"relay_idle_interval": 120.0})
    relay = Messaging(settings, backend.producer_sessions, demo.producer_tables)
    consumer = _consumer_messaging(backend)
    # A writer the in-process signal cannot reach on PostgreSQL: another engine
    # under another URL, as another process would be.
    url = settings.database_url
    other_process = create_engine(
        url + "?prepared_statement_cache_size=99" if backend.name == "kafka-postgres" else url
    )
    writers = [backend.producer_sessions, create_session_factory(other_process)]
    await relay.start()
    await consumer.start()
    try:
        await asyncio.sleep(0.5)  # the relay's first pass is behind it: it sleeps now
        for count, sessions in enumerate(writers, start=1):
            async with unit_of_work(sessions) as session:
                await demo.increment(session, uuid4(), dossier_prefix=f"woken{count}")
            rows = await _wait_for_effects(backend, count, timeout=30)
            assert len(rows) == count, "the committed event waited for the relay's poll"
    finally:
        await relay.stop()
        await consumer.stop()
        await other_process.dispose()
    assert [r.dossier_id for r in rows] == ["woken1-1", "woken2-1"]


async def test_the_log_does_not_miss_an_append_that_lands_while_a_consumer_reads(
    tmp_path: Path,
) -> None:
    """The embedded bus: a record appended after a consumer looked for records
    but before it started waiting wakes it at once; before, it waited out its
    poll timeout (half a second per hop: the embedded approval-to-token p50 of
    269 ms)."""
    broker = LogBroker(f"sqlite+aiosqlite:///{tmp_path}/bus.db")
    await broker.start()
    try:
        seen = broker.appends  # the consumer looked: nothing there yet
        await broker.append([Record("t", "k", b"v")])  # lands before it waits
        started = time.monotonic()
        await broker.wait_for_records(timeout=10, seen=seen)
        assert time.monotonic() - started < 1, "the append was missed until the timeout"
        assert broker.end_offset("t", broker.partition_for("k")) == 1
        # With nothing new, it does wait.
        started = time.monotonic()
        await broker.wait_for_records(timeout=0.3, seen=broker.appends)
        assert time.monotonic() - started >= 0.25
    finally:
        await broker.stop()
