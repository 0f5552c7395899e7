"""Runs every package's test suite, each in its own pytest session, and totals them.

Each package keeps its own ``tests/`` folder with its own conftest (STYLE.md
habit 10), so two packages may both have ``tests/conftest.py`` or
``tests/test_profile.py``; one pytest session cannot import both. One
session per package also gives each suite a fresh event loop and fixtures.

    python -m eproc_runtime.testing.suite [--only PATH ...] [-- PYTEST ARGS]

The last line is the total, ``N passed, N failed`` (plus skipped and errors).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from eproc_runtime.testing.infra import repo_root

GROUPS = ("libs", "services", "examples", "tools")


def discover(root: Path) -> list[Path]:
    """Every package's ``tests`` folder, then the cross-service ``tests/``."""
    found = [
        tests
        for group in GROUPS
        for tests in sorted((root / group).glob("*/tests"))
        if tests.is_dir()
    ]
    if (root / "cli" / "tests").is_dir():
        found.append(root / "cli" / "tests")
    if (root / "tests").is_dir():
        found.append(root / "tests")
    return found


@dataclass
class Outcome:
    suite: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    exit_code: int = 0


def _count(report: Path, outcome: Outcome) -> None:
    if not report.exists():
        return
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - our own pytest's file
        children = {child.tag for child in case}
        if "failure" in children:
            outcome.failed += 1
        elif "error" in children:
            outcome.errors += 1
        elif "skipped" in children:
            outcome.skipped += 1
        else:
            outcome.passed += 1


def run(suites: list[Path], pytest_args: list[str], root: Path) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, suite in enumerate(suites):
            name = str(suite.relative_to(root))
            report = Path(tmp) / f"{index}.xml"
            print(f"\n=== {name} ===", flush=True)
            started = time.monotonic()
            code = subprocess.call(
                [sys.executable, "-m", "pytest", name, f"--junitxml={report}", *pytest_args],
                cwd=root,
            )
            outcome = Outcome(name, seconds=time.monotonic() - started, exit_code=code)
            _count(report, outcome)
            if code not in (0, 5) and not (outcome.failed or outcome.errors):
                outcome.errors += 1  # the session itself broke (collection, internal error)
            outcomes.append(outcome)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    pytest_args: list[str] = []
    if "--" in args:
        split = args.index("--")
        args, pytest_args = args[:split], args[split + 1 :]
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=[], help="test folders to run (default: all)")
    options = parser.parse_args(args)
    root = repo_root()
    suites = [root / p for p in options.only] if options.only else discover(root)
    outcomes = run(suites, pytest_args, root)

    print("\n=== summary ===")
    for o in outcomes:
        print(
            f"{o.suite:40} {o.passed:4} passed {o.failed:3} failed {o.errors:3} errors "
            f"{o.skipped:3} skipped {o.seconds:7.1f}s"
        )
    total = Outcome("total")
    for o in outcomes:
        total.passed += o.passed
        total.failed += o.failed
        total.errors += o.errors
        total.skipped += o.skipped
    ran_nothing = total.passed + total.failed + total.errors == 0
    line = f"{total.passed} passed, {total.failed + total.errors} failed"
    if total.skipped:
        line += f", {total.skipped} skipped"
    print(line)
    return 1 if (total.failed or total.errors or ran_nothing) else 0


if __name__ == "__main__":
    raise SystemExit(main())
