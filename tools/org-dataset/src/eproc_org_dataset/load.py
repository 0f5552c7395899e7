"""Command line: generate a directory and load it into an organisations database.

    python -m eproc_org_dataset.load --size 100000 --seed 1 --database-url URL [--migrate]

The loading itself is the organisations service's (``eproc_organisations.load``): it
knows its tables; this package only makes up the organisations.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from eproc_org_dataset.generator import generate
from eproc_organisations.load import load_dataset


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Load a generated organisation directory.")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--migrate", action="store_true", help="apply the organisations migrations first"
    )
    args = parser.parse_args(argv)

    async def run() -> None:
        if args.migrate:
            from eproc_runtime.migrations import upgrade_async

            await upgrade_async("eproc_organisations", args.database_url)
        started = time.perf_counter()
        added = await load_dataset(args.database_url, generate(args.size, args.seed))
        print(f"loaded {added} organisations in {time.perf_counter() - started:.1f} s")

    asyncio.run(run())


if __name__ == "__main__":
    main()
