"""Alembic, one history per service (STYLE.md habit 8).

A service keeps its history in ``<package>/migrations`` with an ``env.py`` that
calls :func:`run_migrations`. :func:`upgrade` applies it programmatically
(start-up of the embedded mode, tests); :func:`pending_differences` compares
the migrated schema with the service's models (the test that they agree).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from alembic import command
from alembic import context as alembic_context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection

from eproc_runtime.db import create_engine


def alembic_config(package: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["database_url"] = url
    return config


def upgrade(package: str, url: str, revision: str = "head") -> None:
    """Apply ``package``'s migrations to the database at ``url`` (blocking)."""
    command.upgrade(alembic_config(package, url), revision)


async def upgrade_async(package: str, url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, package, url, revision)


def run_migrations(metadata: MetaData) -> None:
    """The body of every service's ``env.py``: online, async engine, batch mode on SQLite."""
    # Alembic's ``context`` module proxies the EnvironmentContext of the running command.
    context = cast(EnvironmentContext, alembic_context)
    url = context.config.attributes.get("database_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    assert url, "no database URL for the migrations"

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


async def pending_differences(url: str, metadata: MetaData) -> list[Any]:
    """What autogenerate would still write: empty when migrations and models agree."""
    engine = create_engine(url, poolclass=pool.NullPool)

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


def create_messaging_tables() -> None:
    """For a service's first migration: the outbox and processed-event tables."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("traceparent", sa.String(55), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index("ix_outbox_key_id", "outbox", ["key", "id"])
    op.create_table(
        "processed_event",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_processed_event")),
    )


def drop_messaging_tables() -> None:
    from alembic import op

    op.drop_table("processed_event")
    op.drop_index("ix_outbox_key_id", table_name="outbox")
    op.drop_table("outbox")
