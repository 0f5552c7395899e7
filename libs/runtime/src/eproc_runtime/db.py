"""Database plumbing: engines, sessions, and the unit of work.

One owner per transaction (STYLE.md habit 4): the unit of work commits or rolls
back; use cases only flush.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnCollection, MetaData, Table, event, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import Insert

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A service's own MetaData with the shared constraint naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for PostgreSQL (asyncpg) or SQLite (aiosqlite).

    SQLite gets WAL, a busy timeout and foreign keys, so the embedded mode
    behaves like a server database as far as it can.
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits when the block succeeds, else rolls back."""
    async with sessions() as session, session.begin():
        yield session


Bind = AsyncSession | AsyncConnection | AsyncEngine


def dialect_name(bind: Bind) -> str:
    """``"postgresql"`` or ``"sqlite"``: the database behind a session, connection or engine."""
    if isinstance(bind, AsyncSession):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def is_sqlite(bind: Bind) -> bool:
    return dialect_name(bind) == "sqlite"


async def lock_until_commit(session: AsyncSession, key: UUID) -> None:
    """Hold a lock named by ``key`` (a user, an organisation) until the session's
    transaction ends: PostgreSQL's transaction-level advisory lock, so two
    transactions about the same thing, on any instance, run one after the
    other. Nothing on SQLite, which admits one writer at a time anyway."""
    if dialect_name(session) == "postgresql":
        number = int.from_bytes(key.bytes[:8], "big", signed=True)
        await session.execute(select(func.pg_advisory_xact_lock(number)))


UpsertSet = (
    Mapping[str, Any] | Sequence[str] | Callable[[ColumnCollection[str, Any]], Mapping[str, Any]]
)


def upsert(
    bind: Bind,
    table: Table,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    keys: Sequence[str] = (),
    update: UpsertSet | None = None,
) -> Insert:
    """``INSERT … ON CONFLICT (keys) DO UPDATE``, or ``DO NOTHING``, on PostgreSQL and SQLite.

    Both databases the services run on speak the same ``ON CONFLICT`` clause,
    but SQLAlchemy builds it only from each dialect's own ``insert``; this
    picks the one of ``bind``. ``update`` is what a conflicting row gets:

    - ``None``: nothing (``DO NOTHING``; ``keys`` may then be empty: any conflict);
    - a list of column names: the values of the row that was refused;
    - a mapping of column → value or SQL expression (``table.c.n + 1``);
    - a function of the refused row (``excluded``) giving that mapping, for
      expressions such as ``table.c.n + excluded.n``.

    ``values`` may be left out and passed to ``execute`` as a list of rows instead.
    """
    builder = postgresql.insert if dialect_name(bind) == "postgresql" else sqlite.insert
    statement = builder(table)
    if values is not None:
        statement = statement.values(values)
    if update is None:
        return statement.on_conflict_do_nothing(index_elements=list(keys) or None)
    if not keys:
        raise ValueError("an upsert that updates needs the conflicting key columns")
    if callable(update):
        set_ = dict(update(statement.excluded))
    elif isinstance(update, Mapping):
        set_ = dict(update)
    else:
        set_ = {name: statement.excluded[name] for name in update}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=set_)


def utc(value: datetime) -> datetime:
    """A timestamp read back from the database, as an aware UTC value.

    PostgreSQL gives ``timestamptz`` back with its zone; SQLite (the embedded
    mode) drops it, and every timestamp is written in UTC.
    """
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
