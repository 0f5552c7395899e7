"""Command line: ``python -m eproc_org_dataset --size 1000 --seed 1 --format jsonl``.

Writes the generated organisations to stdout, parents before children.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence

from .generator import MAX_SIZE, generate
from .records import LANGUAGES, OrganisationSeed

_CSV_COLUMNS = [
    "key",
    "parent_key",
    "kind",
    *(f"name_{language}" for language in LANGUAGES),
    "enterprise_number",
    "street",
    "number",
    "postcode",
    "municipality",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, generate, write to stdout; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m eproc_org_dataset",
        description="Generate a deterministic dataset of Belgian public sector organisations.",
    )
    parser.add_argument("--size", type=int, default=1000, help=f"1..{MAX_SIZE} (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="default 0")
    parser.add_argument("--format", choices=("jsonl", "json", "csv"), default="jsonl")
    args = parser.parse_args(argv)
    if not 0 <= args.size <= MAX_SIZE:
        parser.error(f"--size must be between 0 and {MAX_SIZE}")
    organisations = generate(args.size, args.seed)
    write(organisations, args.format)
    return 0


def write(organisations: Sequence[OrganisationSeed], output_format: str) -> None:
    """Write organisations to stdout as jsonl, json or csv."""
    out = sys.stdout
    if output_format == "jsonl":
        for organisation in organisations:
            out.write(json.dumps(organisation.to_dict(), ensure_ascii=False) + "\n")
    elif output_format == "json":
        json.dump([o.to_dict() for o in organisations], out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        writer = csv.writer(out)
        writer.writerow(_CSV_COLUMNS)
        for o in organisations:
            writer.writerow(
                [
                    o.key,
                    o.parent_key or "",
                    o.kind,
                    *(o.names.get(language, "") for language in LANGUAGES),
                    o.enterprise_number,
                    o.address.street,
                    o.address.number,
                    o.address.postcode,
                    o.address.municipality,
                ]
            )


if __name__ == "__main__":
    sys.exit(main())
