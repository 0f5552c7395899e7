"""Alembic, one history per service (STYLE.md habit 8).

A service keeps its history in ``<package>/migrations`` with an ``env.py`` that
calls :func:`run_migrations`. :func:`upgrade` applies it programmatically
(start-up of the embedded mode, tests); :func:`pending_differences` compares
the migrated schema with the service's models (the test that they agree).
"""

from __future__ import annotations

import asyncio
import re
from importlib.resources import files
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection

from eproc_runtime.db import create_engine

if TYPE_CHECKING:
    # Alembic (≈ 20 MB of a process's memory) is imported only when a
    # migration is pending, never by a service whose schema is up to date.
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext

_REVISION = re.compile(r"^revision\b[^=]*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.MULTILINE)


def head_revisions(package: str) -> set[str]:
    """The heads of ``package``'s history, read from its version files (no Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (files(package) / "migrations" / "versions").iterdir():
        if not script.name.endswith(".py"):
            continue
        source = script.read_text(encoding="utf-8")
        if (revision := _REVISION.search(source)) is None:
            continue
        revisions.add(revision.group(1))
        if (down := _DOWN_REVISION.search(source)) is not None:
            parents.update(re.findall(r"[\"']([^\"']+)[\"']", down.group(1)))
    return revisions - parents


async def at_head(package: str, url: str) -> bool:
    """Whether the database at ``url`` already has every revision of ``package``."""
    heads = head_revisions(package)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return bool(heads) and {row[0] for row in rows} == heads
    except Exception:  # no version table yet, or unreadable: let Alembic decide
        return False
    finally:
        await engine.dispose()


def alembic_config(package: str, url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", f"{package}:migrations")
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["database_url"] = url
    return config


def upgrade(package: str, url: str, revision: str = "head") -> None:
    """Apply ``package``'s migrations to the database at ``url`` (blocking)."""
    from alembic import command

    command.upgrade(alembic_config(package, url), revision)


async def upgrade_async(package: str, url: str, revision: str = "head") -> None:
    """Apply the migrations; to ``head``, only when one is pending (Alembic is not
    even imported for a database that is up to date)."""
    if revision == "head" and await at_head(package, url):
        return
    await asyncio.to_thread(upgrade, package, url, revision)


def run_migrations(metadata: MetaData) -> None:
    """The body of every service's ``env.py``: online, async engine, batch mode on SQLite."""
    from alembic import context as alembic_context

    # Alembic's ``context`` module proxies the EnvironmentContext of the running command.
    context = cast("EnvironmentContext", alembic_context)
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

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

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
