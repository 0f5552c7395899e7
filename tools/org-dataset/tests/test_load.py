"""The loader command fills an organisations database with a generated directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from eproc_org_dataset.load import main as load_main
from eproc_organisations.models import organisation
from eproc_runtime.db import create_engine
from eproc_runtime.migrations import upgrade_async


async def test_the_loader_command_loads_a_generated_directory(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/load.db"
    await upgrade_async("eproc_organisations", url)
    await asyncio.to_thread(load_main, ["--size", "250", "--seed", "3", "--database-url", url])
    engine = create_engine(url)
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(organisation)) == 250
    await engine.dispose()
    # Loading the same directory again adds nothing: ids derive from the dataset keys.
    await asyncio.to_thread(load_main, ["--size", "250", "--seed", "3", "--database-url", url])
    engine = create_engine(url)
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(organisation)) == 250
    await engine.dispose()
