"""A minimal producer service and consumer service, used to test the messaging
plumbing itself (the outbox/consumer suite and the crash test).

The producer keeps a counter per user and emits a ``DossierLinked`` event per
increment (any contract event would do); the consumer appends one row per
event it handles to an effect table *without* a unique constraint, so a
duplicate delivery that slipped past the idempotency guard would show up as an
extra row.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, Integer, String, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import DossierLinked
from eproc_runtime.consumer import EventHandlers
from eproc_runtime.db import create_engine, create_session_factory, new_metadata, unit_of_work
from eproc_runtime.messaging import Messaging, stop_on_signals
from eproc_runtime.outbox import Outbox, add_messaging_tables
from eproc_runtime.settings import ServiceSettings

producer_metadata = new_metadata()
producer_tables = add_messaging_tables(producer_metadata)
counter = Table(
    "counter",
    producer_metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("value", Integer, nullable=False),
)

consumer_metadata = new_metadata()
consumer_tables = add_messaging_tables(consumer_metadata)
effect = Table(
    "effect",
    consumer_metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("event_id", Uuid, nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("dossier_id", String(100), nullable=False),
)

ORGANISATION = UUID("00000000-0000-7000-8000-000000000001")
outbox = Outbox(producer_tables.outbox, producer="demo-producer")


async def increment(session: AsyncSession, user_id: UUID, *, dossier_prefix: str = "d") -> int:
    """One state change and its event, in the caller's transaction."""
    row = (
        await session.execute(
            select(counter.c.value).where(counter.c.user_id == user_id).with_for_update()
        )
    ).scalar_one_or_none()
    value = 1 if row is None else row + 1
    if row is None:
        await session.execute(counter.insert().values(user_id=user_id, value=value))
    else:
        await session.execute(
            counter.update().where(counter.c.user_id == user_id).values(value=value)
        )
    await outbox.add(
        session,
        DossierLinked(
            application="demo",
            dossier_id=f"{dossier_prefix}-{value}",
            organisation_id=ORGANISATION,
            user_id=user_id,
        ),
    )
    return value


HANDLERS = EventHandlers()


@HANDLERS.on(DossierLinked)
async def record_effect(
    session: AsyncSession, data: DossierLinked, envelope: Envelope[Any]
) -> None:
    if data.dossier_id.startswith("poison"):
        raise ValueError(f"cannot handle {data.dossier_id}")
    await session.execute(
        effect.insert().values(
            event_id=envelope.event_id,
            user_id=data.user_id,
            seq=int(data.dossier_id.rsplit("-", 1)[1]),
            dossier_id=data.dossier_id,
        )
    )


def _settings(name: str, database_url: str) -> ServiceSettings:
    return ServiceSettings(
        service_name=name,
        database_url=database_url,
        bus="inprocess" if os.environ.get("EPROC_BUS") == "inprocess" else "kafka",
        kafka_bootstrap=os.environ.get("EPROC_KAFKA_BOOTSTRAP", "localhost:9092"),
        topic_prefix=os.environ.get("EPROC_TOPIC_PREFIX", ""),
        consumer_retry_backoff=0.05,
    )


async def _produce(database_url: str, count: int, users: int, seed: int, pause: float) -> None:
    sessions = create_session_factory(create_engine(database_url))
    rng = random.Random(seed)
    user_ids = [UUID(int=rng.getrandbits(128) | (1 << 127)) for _ in range(users)]
    for _ in range(count):
        async with unit_of_work(sessions) as session:
            await increment(session, rng.choice(user_ids))
        if pause:
            await asyncio.sleep(pause)


async def _serve(role: str, database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    if role == "relay":
        messaging = Messaging(_settings("demo-producer", database_url), sessions, producer_tables)
    else:
        messaging = Messaging(
            _settings("demo-consumer", database_url),
            sessions,
            consumer_tables,
            handlers=HANDLERS,
            relay=False,
        )
    stop = asyncio.Event()
    stop_on_signals(stop)
    await messaging.start()
    print("ready", flush=True)
    await stop.wait()
    await messaging.stop()
    await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="demo services of the messaging tests")
    parser.add_argument("role", choices=["produce", "relay", "consume"])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between changes")
    args = parser.parse_args(argv)
    if args.role == "produce":
        asyncio.run(_produce(args.database_url, args.count, args.users, args.seed, args.pause))
    else:
        asyncio.run(_serve(args.role, args.database_url))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
