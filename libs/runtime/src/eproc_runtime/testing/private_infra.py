"""A PostgreSQL server or Kafka broker (or cluster) of one test's own.

Tests that restart, kill or fence the infrastructure (the crash test, the chaos
runs) must never do it to the shared servers the other suites use: a broker
restarted under a later suite fails that suite's fixtures (every test of it
errors while the broker recovers). They start their own with the same scripts
(``deploy/local/postgres.sh`` and ``kafka.sh``) under a state directory and
ports of their own, and wipe them at the end.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from eproc_runtime.bus.kafka import KafkaConnection
from eproc_runtime.testing import infra


@dataclass
class PrivateInfra:
    """The scripts' environment for this test's servers (``EPROC_LOCAL_DIR`` and ports)."""

    env: dict[str, str]
    postgres_url: str = ""
    kafka_bootstrap: str = ""

    @property
    def state(self) -> Path:
        return Path(self.env["EPROC_LOCAL_DIR"])

    def script(self, name: str, *args: str, timeout: float = 300) -> str:
        """Runs ``deploy/local/<name>`` against these servers; its stdout."""
        result = subprocess.run(
            ["bash", str(infra.repo_root() / "deploy" / "local" / name), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise infra.InfrastructureUnavailable(
                f"{name} {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def kafka_admin(self) -> KafkaConnection:
        """The broker's super user (kafka.sh keeps the credentials in the state dir)."""
        values = dict(
            line.split("=", 1)
            for line in (self.state / "kafka" / "admin.env").read_text().splitlines()
            if "=" in line
        )
        return KafkaConnection(
            self.kafka_bootstrap, values["EPROC_KAFKA_USERNAME"], values["EPROC_KAFKA_PASSWORD"]
        )

    def nodes(self) -> dict[int, int | None]:
        """Kafka node id -> pid (None: down)."""
        found: dict[int, int | None] = {}
        for line in self.script("kafka.sh", "nodes").splitlines():
            node, _, pid = line.split()
            found[int(node)] = None if pid == "-" else int(pid)
        return found


def free_port_block(size: int) -> int:
    """The first of ``size`` consecutive free loopback ports."""
    for _ in range(200):
        first = random.randint(20000, 40000 - size)
        sockets = []
        try:
            for port in range(first, first + size):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise infra.InfrastructureUnavailable(f"no {size} consecutive free ports")


@contextlib.contextmanager
def private_infra(*, kafka_nodes: int = 1, postgres: bool = False) -> Iterator[PrivateInfra]:
    """A Kafka broker (``kafka_nodes`` > 1: a KRaft cluster) and, with ``postgres``,
    a PostgreSQL server, both this block's own; wiped when it ends. Both start
    side by side (the broker's JVM start dominates)."""
    state = Path(tempfile.mkdtemp(prefix="eproc-private-"))
    state.chmod(0o755)  # as root, postgres.sh runs the server as the postgres user
    servers = PrivateInfra(
        env={
            **os.environ,
            "EPROC_LOCAL_DIR": str(state),
            "EPROC_PG_PORT": str(infra.free_port()),
            # Each node takes two ports (client, controller).
            "EPROC_KAFKA_PORT": str(free_port_block(2 * kafka_nodes)),
            "EPROC_KAFKA_NODES": str(kafka_nodes),
        }
    )
    scripts = ["kafka.sh", *(["postgres.sh"] if postgres else [])]
    try:
        with ThreadPoolExecutor(len(scripts)) as pool:
            starts = {name: pool.submit(servers.script, name, "start") for name in scripts}
            # The address is the last word each script prints.
            servers.kafka_bootstrap = starts["kafka.sh"].result().split()[-1]
            if postgres:
                servers.postgres_url = starts["postgres.sh"].result().split()[-1]
        yield servers
    finally:
        for name in scripts:
            with contextlib.suppress(infra.InfrastructureUnavailable, subprocess.TimeoutExpired):
                servers.script(name, "wipe")
        shutil.rmtree(state, ignore_errors=True)
