"""Messaging runtime: commit-to-consumer latency and throughput through the
outbox, the relay, the bus and an idempotent consumer.

    uv run python bench/messaging.py [--events 2000]

Runs on Kafka + PostgreSQL (started by deploy/local scripts when needed) and on
the in-process log + SQLite, and writes the "Messaging" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, percentile, write_section

from eproc_contracts.events import DossierLinked
from eproc_runtime.consumer import EventHandlers
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.messaging import Messaging
from eproc_runtime.settings import ServiceSettings
from eproc_runtime.testing import demo, infra


async def _postgres_database(label: str) -> str:
    admin = infra.postgres_url()
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return infra.async_url(admin).rsplit("/", 1)[0] + f"/{name}"


async def run(backend: str, events: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp())
    if backend == "kafka-postgres":
        producer_url = await _postgres_database("producer")
        consumer_url = await _postgres_database("consumer")
        common: dict[str, Any] = {
            "bus": "kafka",
            "kafka_bootstrap": infra.kafka_bootstrap(),
            "topic_prefix": f"b{uuid.uuid4().hex[:8]}.",
        }
    else:
        producer_url = f"sqlite+aiosqlite:///{tmp}/producer.db"
        consumer_url = f"sqlite+aiosqlite:///{tmp}/consumer.db"
        common = {"bus": "inprocess", "bus_database_url": f"sqlite+aiosqlite:///{tmp}/bus.db"}
    engines = [create_engine(producer_url), create_engine(consumer_url)]
    for engine, metadata in zip(
        engines, (demo.producer_metadata, demo.consumer_metadata), strict=True
    ):
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    producer_sessions = create_session_factory(engines[0])
    consumer_sessions = create_session_factory(engines[1])

    committed: dict[str, float] = {}
    applied: dict[str, float] = {}

    handlers = EventHandlers()

    @handlers.on(DossierLinked)
    async def handler(session: Any, event: DossierLinked, envelope: Any) -> None:
        await demo.record_effect(session, event, envelope)
        applied[event.dossier_id] = time.perf_counter()

    relay = Messaging(
        ServiceSettings(service_name="bench-producer", database_url=producer_url, **common),
        producer_sessions,
        demo.producer_tables,
    )
    consumer = Messaging(
        ServiceSettings(service_name="bench-consumer", database_url=consumer_url, **common),
        consumer_sessions,
        demo.consumer_tables,
        handlers=handlers,
        relay=False,
    )
    await relay.start()
    await consumer.start()
    await asyncio.sleep(3 if backend == "kafka-postgres" else 0.2)  # group join

    # Latency: one change at a time, as a user's click would make it.
    users = [uuid4() for _ in range(20)]
    for i in range(200):
        async with unit_of_work(producer_sessions) as session:
            seq = await demo.increment(session, users[i % 20], dossier_prefix=f"lat{i}")
        committed[f"lat{i}-{seq}"] = time.perf_counter()
        assert relay.relay is not None
        relay.relay.nudge()
        await asyncio.sleep(0.01)
    await _wait(applied, 200)
    latencies = [(applied[k] - committed[k]) * 1000 for k in committed]

    # Throughput: a burst of changes committed by 8 concurrent writers.
    applied.clear()
    start = time.perf_counter()

    async def writer(w: int) -> None:
        for i in range(events // 8):
            async with unit_of_work(producer_sessions) as session:
                await demo.increment(session, users[(w + i) % 20], dossier_prefix=f"tp{w}x{i}")

    await asyncio.gather(*(writer(w) for w in range(8)))
    produced_at = time.perf_counter()
    await _wait(applied, (events // 8) * 8)
    finished = time.perf_counter()
    await relay.stop()
    await consumer.stop()
    for engine in engines:
        await engine.dispose()
    total = (events // 8) * 8
    return {
        "backend": backend,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "events": total,
        "commit_rate": total / (produced_at - start),
        "end_to_end_rate": total / (finished - start),
    }


async def _wait(applied: dict[str, float], count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while len(applied) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(applied)} of {count} events applied")
        await asyncio.sleep(0.01)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    results = [await run(b, args.events) for b in ("kafka-postgres", "log-sqlite")]
    rows = "\n".join(
        f"| {r['backend']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['events']} | "
        f"{r['commit_rate']:.0f} | {r['end_to_end_rate']:.0f} |"
        for r in results
    )
    write_section(
        "messaging",
        f"""## Messaging: outbox → bus → idempotent consumer

`uv run python bench/messaging.py --events {args.events}` — {machine()}; producer, relay
and consumer in one process (one event loop), the broker and database on the same machine.

- *Latency*: 200 single changes, each committed alone (as a click would), from the
  commit to the consumer's committed effect.
- *Throughput*: a burst from 8 concurrent writers, each change its own transaction;
  "end to end" counts until the consumer has applied the last event.

| bus + database | latency p50 (ms) | latency p99 (ms) | burst events | commits/s | end-to-end events/s |
|---|---|---|---|---|---|
{rows}
""",
    )
    for r in results:
        print(r)


if __name__ == "__main__":
    asyncio.run(main())
