"""Organisation name search latency (R-ORG-2) on PostgreSQL at 10k and 100k organisations.

Run: ``uv run python bench/organisations_search.py [--queries 300]``

For each size: a fresh database, the service's migrations, the generated dataset loaded
with the importer (COPY), then a seeded mix of queries run one after another through the
service's search use case (the query, the organisations of the page, in one transaction,
as the API does), page size 20. Rewrites the "organisation-search" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import drop_database, machine, percentile, scratch_database, write_section

from eproc_org_dataset import OrganisationSeed, generate
from eproc_organisations.load import load_dataset
from eproc_organisations.service import directory
from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.migrations import upgrade_async

SIZES = (10_000, 100_000)
PAGE = 20
FIXED = [
    "universite de liege",
    "Sint Niklaas",
    "gent",
    "brussel",
    "OCMW Antwerpen",
    "fod financien",
]


def _typo(text: str, rng: random.Random) -> str:
    """One slip of the keyboard: a letter dropped, doubled or swapped with its neighbour."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:-1])
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def query_mix(seeds: list[OrganisationSeed], count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(category, query): exact names (lowercase, without accents as users type them),
    names with a typo, the first words of a name, and a few fixed queries."""
    from eproc_organisations.search import normalise

    rng = random.Random(seed)
    mix: list[tuple[str, str]] = [("fixed", q) for q in FIXED]
    while len(mix) < count:
        name = rng.choice(seeds).name
        category = rng.choice(["exact", "typo", "prefix"])
        if category == "exact":
            mix.append(("exact", normalise(name)))
        elif category == "typo":
            mix.append(("typo", _typo(name, rng)))
        else:
            words = name.split()
            mix.append(("prefix", " ".join(words[: max(1, len(words) // 2)])))
    return mix


async def measure(size: int, queries: int, *, sqlite: bool = False) -> dict[str, object]:
    if sqlite:
        folder = Path(tempfile.mkdtemp())
        url, name = f"sqlite+aiosqlite:///{folder}/organisations.db", ""
    else:
        url, name = await scratch_database(f"orgsearch_{size}")
    try:
        await upgrade_async("eproc_organisations", url)
        seeds = generate(size, seed=1)
        started = time.perf_counter()
        await load_dataset(url, seeds)
        load_seconds = time.perf_counter() - started
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        mix = query_mix(seeds, queries)
        for _, q in mix[:30]:  # warm the caches
            async with sessions() as session, session.begin():
                await directory.search(session, q, offset=0, limit=PAGE)
        timings: dict[str, list[float]] = {}
        for category, q in mix:
            started = time.perf_counter()
            async with sessions() as session, session.begin():
                await directory.search(session, q, offset=0, limit=PAGE)
            timings.setdefault(category, []).append((time.perf_counter() - started) * 1000)
        await engine.dispose()
        every = [t for values in timings.values() for t in values]
        return {
            "database": "SQLite (embedded fallback)" if sqlite else "PostgreSQL",
            "size": size,
            "load": load_seconds,
            "all": every,
            "by_category": timings,
        }
    finally:
        if name:
            await drop_database(name)


def render(results: list[dict[str, object]], queries: int) -> str:
    lines = [
        "## Organisation search (R-ORG-2)",
        "",
        f"`uv run python bench/organisations_search.py --queries {queries}` — {machine()}; "
        "the database on the same machine.",
        "",
        "Each query goes through the service's search use case (trigram index, ranking, the "
        f"page of {PAGE} organisations loaded), one at a time, after 30 warm-up queries. The "
        "mix: exact names typed in lowercase without accents, names with one typo (a letter "
        "dropped, doubled or swapped), the first half of a name's words, and "
        + ", ".join(f'"{q}"' for q in FIXED)
        + ". Goal: p95 ≤ 20 ms at 100k.",
        "",
        "| database | organisations | load | queries | p50 (ms) | p95 (ms) | p99 (ms) "
        "| p95 exact | p95 typo | p95 prefix |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        every: list[float] = r["all"]  # type: ignore[assignment]
        by: dict[str, list[float]] = r["by_category"]  # type: ignore[assignment]
        lines.append(
            f"| {r['database']} | {r['size']:,} | {r['load']:.1f} s | {len(every)} "
            f"| {percentile(every, 50):.1f} | {percentile(every, 95):.1f} "
            f"| {percentile(every, 99):.1f} "
            + " ".join(
                f"| {percentile(by[c], 95):.1f}" if c in by else "| -"
                for c in ("exact", "typo", "prefix")
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


async def run(queries: int) -> str:
    before = os.getloadavg()[0]
    results = [await measure(size, queries) for size in SIZES]
    results.append(await measure(SIZES[0], queries // 3, sqlite=True))
    after = os.getloadavg()[0]
    return render(results, queries) + (
        f"\nLoad average of the machine (shared with other work) before/after: "
        f"{before:.1f}/{after:.1f}. The SQLite row is the embedded mode's fallback, which "
        f"scores every name in Python: fine for a demo directory, not for 100k.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    body = asyncio.run(run(args.queries))
    print(body)
    write_section("organisation-search", body)


if __name__ == "__main__":
    main()
