"""Finds or starts the real infrastructure the integration tests need.

Resolution order for each service (DESIGN.md, "Running it"): an address in
the environment; otherwise testcontainers when a Docker daemon answers;
otherwise the repository's scripts under ``deploy/local/`` install and start
a local instance. When none works the caller gets an exception: a missing
service fails the run, it never skips it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import socket
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from eproc_runtime.bus.kafka import KafkaConnection


class InfrastructureUnavailable(RuntimeError):
    """A real service the tests need could not be provided."""


def repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "deploy" / "local").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    raise InfrastructureUnavailable("repository root with deploy/local not found")


_containers: list[Any] = []


@cache
def docker_available() -> bool:
    if os.environ.get("EPROC_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


def run_script(name: str, *args: str, timeout: float = 900) -> str:
    """Run ``deploy/local/<name>`` and return the last line it printed."""
    script = repo_root() / "deploy" / "local" / name
    try:
        result = subprocess.run(
            ["bash", str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfrastructureUnavailable(f"{name} {' '.join(args)}: {exc}") from exc
    if result.returncode != 0:
        raise InfrastructureUnavailable(
            f"{name} {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


@cache
def postgres_url() -> str:
    """A superuser URL (``postgresql://…``) of a real PostgreSQL server."""
    if url := os.environ.get("EPROC_TEST_POSTGRES_URL"):
        return url
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver=None).start()
        _containers.append(container)
        return str(container.get_connection_url())
    return run_script("postgres.sh", "start")


def kafka_bootstrap() -> str:
    """``host:port`` of a real Kafka broker (see :func:`kafka_admin` for its credentials)."""
    return kafka_admin().bootstrap


@cache
def _kafka_address() -> str:
    if address := os.environ.get("EPROC_TEST_KAFKA_BOOTSTRAP"):
        return address
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft().start()
        _containers.append(container)
        return str(container.get_bootstrap_server())
    return run_script("kafka.sh", "start")


@cache
def kafka_admin() -> KafkaConnection:
    """The broker and its super user: ``EPROC_TEST_KAFKA_USERNAME``/``_PASSWORD``
    with ``EPROC_TEST_KAFKA_BOOTSTRAP``; none for a testcontainers broker
    (PLAINTEXT); else the credentials ``deploy/local/kafka.sh`` keeps in
    ``$EPROC_LOCAL_DIR/kafka/admin.env``.

    Also puts them in this process's environment (``EPROC_KAFKA_USERNAME``,
    ``EPROC_KAFKA_PASSWORD``), so every ``ServiceSettings`` and every runtime
    Kafka client built from a bare address is the super user by default.
    """
    bootstrap = _kafka_address()
    if os.environ.get("EPROC_TEST_KAFKA_BOOTSTRAP"):
        admin = KafkaConnection(
            bootstrap,
            os.environ.get("EPROC_TEST_KAFKA_USERNAME") or None,
            os.environ.get("EPROC_TEST_KAFKA_PASSWORD") or None,
        )
    elif docker_available():
        admin = KafkaConnection(bootstrap)
    else:
        local = Path(os.environ.get("EPROC_LOCAL_DIR") or repo_root() / ".local")
        values = dict(
            line.split("=", 1)
            for line in (local / "kafka" / "admin.env").read_text().splitlines()
            if "=" in line
        )
        admin = KafkaConnection(
            bootstrap, values["EPROC_KAFKA_USERNAME"], values["EPROC_KAFKA_PASSWORD"]
        )
    if admin.username and admin.password:
        os.environ["EPROC_KAFKA_USERNAME"] = admin.username
        os.environ["EPROC_KAFKA_PASSWORD"] = admin.password
    return admin


def delete_test_topics(prefix: str) -> None:
    """Deletes the shared broker's topics named ``prefix…`` (best effort), when this
    process has used the broker at all."""
    if not prefix or kafka_admin.cache_info().currsize == 0:
        return
    from confluent_kafka.admin import AdminClient

    with contextlib.suppress(Exception):
        client = AdminClient({**kafka_admin().librdkafka_config(), "log_level": 3})
        names = [t for t in client.list_topics(timeout=10).topics if t.startswith(prefix)]
        if names:
            # (operation_timeout=0 is answered without deleting anything.)
            futures = client.delete_topics(names, operation_timeout=10)
            concurrent.futures.wait(list(futures.values()), timeout=15)


def stop_containers() -> None:
    while _containers:
        with contextlib.suppress(Exception):
            _containers.pop().stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def async_url(url: str) -> str:
    """The asyncpg form of a PostgreSQL URL."""
    for prefix in (
        "postgresql+psycopg2://",
        "postgresql+psycopg://",
        "postgres://",
        "postgresql://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url
