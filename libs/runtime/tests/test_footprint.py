"""A process imports only what it uses (issue 17): Alembic only when a migration
is pending, OpenTelemetry exporters only when configured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from eproc_runtime.migrations import alembic_config, head_revisions

SERVICES = [
    "eproc_identity",
    "eproc_requests",
    "eproc_notifier",
    "eproc_organisations",
    "eproc_edge",
    "eproc_eid_gateway",
]


@pytest.mark.parametrize("package", SERVICES)
def test_the_heads_read_without_alembic_are_alembics(package: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(package, "sqlite://"))
    assert head_revisions(package) == set(script.get_heads())


def test_an_up_to_date_database_is_started_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/requests.db"
    program = (
        "import asyncio, sys\n"
        "from eproc_runtime.migrations import upgrade_async\n"
        f"asyncio.run(upgrade_async('eproc_requests', {url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    again = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert first.stdout.split()[-1:] == ["True"], first.stderr  # it had to migrate
    assert again.stdout.split()[-1:] == ["False"], again.stderr  # nothing pending: no Alembic
