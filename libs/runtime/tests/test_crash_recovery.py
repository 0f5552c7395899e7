"""Crash test with real processes (issue: foundation): a producer commits 2,000
state changes with their events while its relay and the consumer service are
killed with SIGKILL at random moments and restarted, and the Kafka broker is
restarted once. Afterwards the consumer's effect table holds every event
exactly once. The broker is this test's own (``private_infra``): restarting the
shared one would fail the fixtures of whatever suite runs next."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from eproc_runtime.db import create_engine
from eproc_runtime.testing import demo
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.private_infra import PrivateInfra, private_infra

EVENTS = 2000


@dataclass
class Worker:
    role: str
    database_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0
    log: list[str] = field(default_factory=list)

    def start(self, *extra: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eproc_runtime.testing.demo",
                self.role,
                "--database-url",
                self.database_url,
                *extra,
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture
def own_broker() -> Iterator[PrivateInfra]:
    with private_infra() as servers:
        yield servers


async def _count(url: str, query: object) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(query) or 0)  # type: ignore[call-overload]
    finally:
        await engine.dispose()


async def test_nothing_lost_nothing_doubled_through_kills_and_a_broker_restart(
    create_database: CreateDatabase,
    own_broker: PrivateInfra,
    topic_prefix: str,
    workers: list[Worker],
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = own_broker.kafka_admin()
    producer_url = await create_database("crash_producer")
    consumer_url = await create_database("crash_consumer")
    for url, metadata in (
        (producer_url, demo.producer_metadata),
        (consumer_url, demo.consumer_metadata),
    ):
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await engine.dispose()

    env = {
        **os.environ,
        "EPROC_BUS": "kafka",
        "EPROC_KAFKA_BOOTSTRAP": own_broker.kafka_bootstrap,
        "EPROC_KAFKA_USERNAME": admin.username or "",
        "EPROC_KAFKA_PASSWORD": admin.password or "",
        "EPROC_TOPIC_PREFIX": topic_prefix,
        "EPROC_LOG_JSON": "true",
    }
    producer = Worker("produce", producer_url, env)
    relay = Worker("relay", producer_url, env)
    consumer = Worker("consume", consumer_url, env)
    workers.extend([producer, relay, consumer])
    producer.start("--count", str(EVENTS), "--users", "60", "--seed", "42", "--pause", "0.006")
    relay.start()
    consumer.start()

    rng = random.Random(2026)
    broker_restarted = False
    deadline = time.monotonic() + 240
    applied = 0
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        victim = rng.choice([relay, consumer])
        if victim.kills < 6:
            victim.kill()
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            victim.start()
        applied = await _count(consumer_url, select(func.count()).select_from(demo.effect))
        if not broker_restarted and applied >= EVENTS // 3:
            # The broker goes away mid-stream and comes back with its data.
            await asyncio.to_thread(own_broker.script, "kafka.sh", "restart")
            broker_restarted = True
        if producer.process and producer.process.poll() is not None and applied >= EVENTS:
            break
    assert producer.process is not None and producer.process.wait(timeout=60) == 0

    # Let the survivors settle, then look for anything extra.
    for _ in range(100):
        applied = await _count(consumer_url, select(func.count()).select_from(demo.effect))
        if applied >= EVENTS:
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)
    applied = await _count(consumer_url, select(func.count()).select_from(demo.effect))
    distinct = await _count(consumer_url, select(func.count(func.distinct(demo.effect.c.event_id))))
    produced = await _count(producer_url, select(func.sum(demo.counter.c.value)))
    pending = await _count(
        producer_url, select(func.count()).select_from(demo.producer_tables.outbox)
    )

    with capsys.disabled():  # the counts belong in the CI log, not in captured output
        print(
            f"\ncrash test: produced={produced} applied={applied} distinct={distinct} "
            f"pending_outbox={pending} relay_kills={relay.kills} consumer_kills={consumer.kills} "
            f"broker_restarts={int(broker_restarted)}"
        )
    assert broker_restarted
    assert relay.kills > 0 and consumer.kills > 0
    assert produced == EVENTS
    assert pending == 0
    assert applied == EVENTS, "events lost or applied twice"
    assert distinct == EVENTS

    # Set equality: every (user, seq) the producer made was applied, no other.
    engine = create_engine(consumer_url)
    async with engine.connect() as conn:
        seen = {(r.user_id, r.seq) for r in await conn.execute(select(demo.effect))}
    await engine.dispose()
    engine = create_engine(producer_url)
    async with engine.connect() as conn:
        expected = {
            (r.user_id, seq)
            for r in await conn.execute(select(demo.counter))
            for seq in range(1, r.value + 1)
        }
    await engine.dispose()
    assert seen == expected


async def test_sigterm_stops_a_consumer_service_cleanly(
    create_database: CreateDatabase, kafka_bootstrap: str, topic_prefix: str
) -> None:
    url = await create_database("sigterm")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(demo.consumer_metadata.create_all)
    await engine.dispose()
    env = {
        **os.environ,
        "EPROC_BUS": "kafka",
        "EPROC_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "EPROC_TOPIC_PREFIX": topic_prefix,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "eproc_runtime.testing.demo", "consume", "--database-url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 60)
        assert line.strip() == b"ready"
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
        assert code == 0, "a SIGTERM must end the service cleanly"
        assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            process.kill()
