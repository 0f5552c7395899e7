"""Each service's Alembic history and its models agree (STYLE.md habit 8), on
PostgreSQL and on SQLite (the embedded mode)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from eproc_runtime.migrations import pending_differences, upgrade_async
from eproc_runtime.testing.plugin import CreateDatabase

SERVICES = ["identity", "organisations", "requests", "notifier", "edge", "eid_gateway"]


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models_on_postgres(
    service: str, create_database: CreateDatabase
) -> None:
    package = f"eproc_{service}"
    metadata = importlib.import_module(f"{package}.models").metadata
    url = await create_database(service)
    await upgrade_async(package, url)
    assert await pending_differences(url, metadata) == []


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models_on_sqlite(service: str, tmp_path: Path) -> None:
    package = f"eproc_{service}"
    metadata = importlib.import_module(f"{package}.models").metadata
    url = f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
    await upgrade_async(package, url)
    assert await pending_differences(url, metadata) == []
