"""The bulk loader of the organisation directory (``eproc organisations load``, the
demo's directory, the benchmarks' datasets): wall time of ``load_dataset`` for the
generated Belgian public sector into a fresh, migrated database, on PostgreSQL and
on SQLite (the embedded mode), with the outbox rows it writes (one
``organisation.registered`` event per organisation, so that the projections learn
of them). Prints a Markdown table.

    uv run python bench/organisations_load.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from eproc_org_dataset import generate
from eproc_organisations.load import load_dataset
from eproc_organisations.models import messaging_tables
from eproc_runtime.db import create_engine
from eproc_runtime.migrations import upgrade_async

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import drop_database, scratch_database


async def measure(size: int, *, sqlite: bool) -> tuple[str, int, float, int]:
    if sqlite:
        url, name = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/organisations.db", ""
    else:
        url, name = await scratch_database("orgload")
    try:
        await upgrade_async("eproc_organisations", url)
        seeds = generate(size, seed=1)
        started = time.perf_counter()
        await load_dataset(url, seeds)
        seconds = time.perf_counter() - started
        engine = create_engine(url)
        async with engine.connect() as conn:
            events = int(
                await conn.scalar(select(func.count()).select_from(messaging_tables.outbox)) or 0
            )
        await engine.dispose()
        return ("SQLite" if sqlite else "PostgreSQL"), size, seconds, events
    finally:
        if name:
            await drop_database(name)


async def main(sizes: list[int], sqlite_sizes: list[int]) -> None:
    rows = [await measure(n, sqlite=False) for n in sizes]
    rows += [await measure(n, sqlite=True) for n in sqlite_sizes]
    load = os.getloadavg()[0]
    print(
        f"`uv run python bench/organisations_load.py` — {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; the database on the same machine "
        f"(load average {load:.1f} at the end)."
    )
    print()
    print("| database | organisations | load | outbox events |")
    print("|---|---|---|---|")
    for database, size, seconds, events in rows:
        print(f"| {database} | {size:,} | {seconds:.1f} s | {events:,} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--sqlite-sizes", default="10000")
    args = parser.parse_args()
    asyncio.run(
        main(
            [int(s) for s in args.sizes.split(",") if s],
            [int(s) for s in args.sqlite_sizes.split(",") if s],
        )
    )
