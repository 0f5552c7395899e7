"""A durable, partitioned message log in a SQL database: the embedded-mode bus.

Kafka's delivery contract in one process, so the embedded default needs no
broker: records are appended to partitions chosen by key, consumer groups
split the partitions among their members and commit offsets, and both the log
and the offsets survive a restart (they live in the database, SQLite in the
embedded mode). Written by hand because no maintained library offers a
Kafka-compatible log on SQLite; it is small and covered by the same test suite
as the Kafka adapter.

One process owns the log: group membership is coordinated in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from eproc_runtime.bus.base import Delivered, Record
from eproc_runtime.db import create_engine, new_metadata

_metadata = new_metadata()
bus_record = Table(
    "bus_record",
    _metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True, autoincrement=False),
    Column("key", Text, nullable=True),
    Column("value", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False, default="[]"),
)
bus_offset = Table(
    "bus_offset",
    _metadata,
    Column("group", String(255), primary_key=True),
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, nullable=False),
)


@dataclass
class _Group:
    members: dict[int, set[str]] = field(default_factory=dict)
    generation: int = 0


class LogBroker:
    """The log, its consumer groups and their committed offsets."""

    def __init__(self, url: str | AsyncEngine, *, partitions: int = 4) -> None:
        self._url = url if isinstance(url, str) else None
        self._engine: AsyncEngine | None = create_engine(url) if isinstance(url, str) else url
        self._owns_engine = isinstance(url, str)
        self.partitions = partitions
        self._next_offset: dict[tuple[str, int], int] = {}
        self._append_lock = asyncio.Lock()
        self._appended = asyncio.Condition()
        self._appends = 0  # bumped after every append: a poll's wake-up cannot be missed
        self._groups: dict[str, _Group] = {}
        self._member_ids = itertools.count(1)
        self._started = False

    async def start(self) -> None:
        if self._started:
            return
        # asyncio primitives belong to the loop that first uses them: make them
        # anew for each start (a restarted embedded app runs in a new loop).
        self._append_lock = asyncio.Lock()
        self._appended = asyncio.Condition()
        if self._engine is None and self._url is not None:
            self._engine = create_engine(self._url)
        async with self._db.begin() as conn:
            await conn.run_sync(_metadata.create_all)
            rows = await conn.execute(
                select(
                    bus_record.c.topic, bus_record.c.partition, func.max(bus_record.c.offset)
                ).group_by(bus_record.c.topic, bus_record.c.partition)
            )
            self._next_offset = {(t, p): o + 1 for t, p, o in rows}
        self._started = True

    async def stop(self) -> None:
        if self._owns_engine and self._engine is not None:
            await self._engine.dispose()
            self._engine = None
        self._groups.clear()
        self._started = False

    @property
    def _db(self) -> AsyncEngine:
        assert self._engine is not None, "log broker not started"
        return self._engine

    def partition_for(self, key: str) -> int:
        return zlib.crc32(key.encode()) % self.partitions

    async def append(self, records: Sequence[Record]) -> None:
        async with self._append_lock:
            rows = []
            next_offset = dict(self._next_offset)
            for r in records:
                tp = (r.topic, self.partition_for(r.key))
                offset = next_offset.get(tp, 0)
                next_offset[tp] = offset + 1
                rows.append(
                    {
                        "topic": r.topic,
                        "partition": tp[1],
                        "offset": offset,
                        "key": r.key,
                        "value": r.value,
                        "headers": json.dumps([[k, v.hex()] for k, v in r.headers]),
                    }
                )
            if rows:
                async with self._db.begin() as conn:
                    await conn.execute(insert(bus_record), rows)
            self._next_offset = next_offset
        async with self._appended:
            self._appends += 1
            self._appended.notify_all()

    @property
    def appends(self) -> int:
        """How many appends this broker has seen: read it before looking for
        records, pass it to :meth:`wait_for_records`."""
        return self._appends

    def end_offset(self, topic: str, partition: int) -> int:
        """The offset the next record of the partition gets (its records are below it)."""
        return self._next_offset.get((topic, partition), 0)

    async def wait_for_records(self, timeout: float, seen: int) -> None:
        """Wait until an append after the ``seen``-th one, or ``timeout`` seconds.

        An append that lands while the caller reads the partitions (after it
        noted ``seen``) returns at once, instead of being missed until the
        timeout."""
        async with self._appended:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._appended.wait_for(lambda: self._appends != seen), timeout
                )

    async def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Delivered]:
        async with self._db.connect() as conn:
            rows = await conn.execute(
                select(bus_record)
                .where(
                    bus_record.c.topic == topic,
                    bus_record.c.partition == partition,
                    bus_record.c.offset >= offset,
                )
                .order_by(bus_record.c.offset)
                .limit(limit)
            )
            return [
                Delivered(
                    topic=row.topic,
                    partition=row.partition,
                    offset=row.offset,
                    key=row.key,
                    value=row.value,
                    headers=tuple((k, bytes.fromhex(v)) for k, v in json.loads(row.headers)),
                )
                for row in rows
            ]

    async def committed(self, group: str, topic: str, partition: int) -> int:
        async with self._db.connect() as conn:
            value = await conn.scalar(
                select(bus_offset.c.offset).where(
                    bus_offset.c.group == group,
                    bus_offset.c.topic == topic,
                    bus_offset.c.partition == partition,
                )
            )
        return int(value) if value is not None else 0

    async def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        async with self._db.begin() as conn:
            for (topic, partition), offset in offsets.items():
                where = (
                    (bus_offset.c.group == group)
                    & (bus_offset.c.topic == topic)
                    & (bus_offset.c.partition == partition)
                )
                updated = await conn.execute(bus_offset.update().where(where).values(offset=offset))
                if updated.rowcount == 0:
                    await conn.execute(
                        insert(bus_offset).values(
                            group=group, topic=topic, partition=partition, offset=offset
                        )
                    )

    # --- consumer groups ----------------------------------------------------

    def join(self, group: str, topics: set[str]) -> int:
        state = self._groups.setdefault(group, _Group())
        member = next(self._member_ids)
        state.members[member] = topics
        state.generation += 1
        return member

    def leave(self, group: str, member: int) -> None:
        state = self._groups.get(group)
        if state and state.members.pop(member, None) is not None:
            state.generation += 1

    def generation(self, group: str) -> int:
        return self._groups[group].generation

    def assignment(self, group: str, member: int) -> set[tuple[str, int]]:
        """Round-robin of every subscribed partition over the members, by member id."""
        state = self._groups[group]
        members = sorted(state.members)
        topics = sorted(set().union(*state.members.values()))
        partitions = [(t, p) for t in topics for p in range(self.partitions)]
        assigned = set()
        for index, tp in enumerate(partitions):
            owners = [m for m in members if tp[0] in state.members[m]]
            if owners and owners[index % len(owners)] == member:
                assigned.add(tp)
        return assigned

    def publisher(self) -> LogPublisher:
        return LogPublisher(self)

    def subscription(self, group: str, topics: Iterable[str]) -> LogSubscription:
        return LogSubscription(self, group, topics)


class LogPublisher:
    def __init__(self, broker: LogBroker) -> None:
        self._broker = broker

    async def start(self) -> None:
        await self._broker.start()

    async def stop(self) -> None:
        return None

    async def publish(self, records: Sequence[Record]) -> None:
        await self._broker.append(records)


class LogSubscription:
    def __init__(self, broker: LogBroker, group: str, topics: Iterable[str]) -> None:
        self._broker = broker
        self._group = group
        self._topics = set(topics)
        self._member: int | None = None
        self._generation = -1
        self._positions: dict[tuple[str, int], int] = {}

    async def start(self) -> None:
        await self._broker.start()
        self._member = self._broker.join(self._group, self._topics)

    async def stop(self) -> None:
        if self._member is not None:
            self._broker.leave(self._group, self._member)
            self._member = None

    def joined(self) -> bool:
        return self._member is not None

    def assignment(self) -> set[tuple[str, int]]:
        if self._member is None:
            return set()
        return self._broker.assignment(self._group, self._member)

    async def _rebalance_if_needed(self) -> None:
        assert self._member is not None, "subscription not started"
        generation = self._broker.generation(self._group)
        if generation == self._generation:
            return
        assigned = self._broker.assignment(self._group, self._member)
        self._positions = {
            tp: await self._broker.committed(self._group, *tp) for tp in sorted(assigned)
        }
        self._generation = generation

    async def poll(self, max_records: int, timeout: float) -> list[Delivered]:
        for attempt in range(2):
            await self._rebalance_if_needed()
            seen = self._broker.appends
            delivered: list[Delivered] = []
            for tp, position in self._positions.items():
                if len(delivered) >= max_records:
                    break
                if self._broker.end_offset(*tp) <= position:
                    continue  # nothing new there: no query
                batch = await self._broker.read(*tp, position, max_records - len(delivered))
                if batch:
                    self._positions[tp] = batch[-1].offset + 1
                    delivered.extend(batch)
            if delivered or attempt == 1:
                return delivered
            await self._broker.wait_for_records(timeout, seen)
        return []

    async def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        # A commit racing a rebalance may move an offset the new owner also
        # moves; either way every message stays delivered at least once, and
        # the consumers' processed-event rows make the repeats no-ops.
        owned = {tp: o for tp, o in offsets.items() if tp in self._positions}
        await self._broker.commit(self._group, owned)

    async def rewind(self, topic: str, partition: int, offset: int) -> None:
        if (topic, partition) in self._positions:
            self._positions[(topic, partition)] = offset
