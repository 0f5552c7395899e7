"""Backends for the messaging suite: the same tests run on Kafka + PostgreSQL
and on the in-process log + SQLite (the embedded mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.messaging import Bus, _log_brokers
from eproc_runtime.settings import ServiceSettings
from eproc_runtime.testing import demo
from eproc_runtime.testing.plugin import CreateDatabase


@dataclass
class Backend:
    name: str
    producer_sessions: async_sessionmaker[AsyncSession]
    consumer_sessions: async_sessionmaker[AsyncSession]
    producer_settings: ServiceSettings
    consumer_settings: ServiceSettings

    @property
    def bus(self) -> Bus:
        return Bus(self.producer_settings)

    @property
    def relays_can_run_concurrently(self) -> bool:
        return self.name == "kafka-postgres"


@pytest.fixture(params=["kafka-postgres", "log-sqlite"])
async def backend(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    topic_prefix: str,
    create_database: CreateDatabase,
) -> AsyncIterator[Backend]:
    engines: list[AsyncEngine] = []
    if request.param == "kafka-postgres":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        producer_url = await create_database("producer")
        consumer_url = await create_database("consumer")
        common = {"bus": "kafka", "kafka_bootstrap": bootstrap, "topic_prefix": topic_prefix}
    else:
        producer_url = f"sqlite+aiosqlite:///{tmp_path}/producer.db"
        consumer_url = f"sqlite+aiosqlite:///{tmp_path}/consumer.db"
        common = {"bus": "inprocess", "bus_database_url": f"sqlite+aiosqlite:///{tmp_path}/bus.db"}
    for url, metadata in (
        (producer_url, demo.producer_metadata),
        (consumer_url, demo.consumer_metadata),
    ):
        engine = create_engine(url)
        engines.append(engine)
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    yield Backend(
        name=request.param,
        producer_sessions=create_session_factory(engines[0]),
        consumer_sessions=create_session_factory(engines[1]),
        producer_settings=ServiceSettings(
            service_name="demo-producer",
            database_url=producer_url,
            relay_idle_interval=0.02,
            **common,
        ),
        consumer_settings=ServiceSettings(
            service_name="demo-consumer",
            database_url=consumer_url,
            consumer_retry_backoff=0.01,
            consumer_max_attempts=3,
            **common,
        ),
    )
    for engine in engines:
        await engine.dispose()
    for broker in _log_brokers.values():
        await broker.stop()
    _log_brokers.clear()
