"""``python -m eproc_runtime.migrate <package>``: apply a service's migrations to
``EPROC_DATABASE_URL`` (the migration step of the real stack)."""

from __future__ import annotations

import sys

from eproc_runtime.migrations import upgrade
from eproc_runtime.settings import ServiceSettings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m eproc_runtime.migrate <service package>", file=sys.stderr)
        return 2
    upgrade(args[0], ServiceSettings().database_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
