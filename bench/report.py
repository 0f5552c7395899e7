"""Writes a benchmark's section into docs/benchmarks.md, between markers, so
each benchmark rewrites only its own section."""

from __future__ import annotations

import os
import platform
import re
import statistics
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Numbers measured on the project's machines (2 cores, 24 GiB, Debian 12,
Python 3.11) with the command shown in each section. They are goals to
report against, not tests. Each section is rewritten by its benchmark.
"""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 to 100) of ``values``."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else f"{text.rstrip()}\n\n{block}\n"
    )
    DOC.write_text(text, encoding="utf-8")


async def scratch_database(label: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database on the local infrastructure for one run:
    its async URL and its name (for :func:`drop_database`)."""
    import uuid

    import asyncpg

    from eproc_runtime.testing import infra

    admin = infra.postgres_url().replace("postgresql+asyncpg://", "postgresql://")
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return infra.async_url(admin).rsplit("/", 1)[0] + f"/{name}", name


async def drop_database(name: str) -> None:
    import asyncpg

    from eproc_runtime.testing import infra

    admin = infra.postgres_url().replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
