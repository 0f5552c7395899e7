"""Light services sharing one process in the real stack (``--layout light-together``).

Identity, requests and the notifier do little work each; as separate Python
processes each carries its own copy of the same imported stack (≈ 90 to 100 MB of
it). Here they run as the embedded mode runs them, in one interpreter, yet each
keeps what makes it a service of the real stack: its own settings read from its
own environment (database, Kafka principal and consumer group, outbox relay),
its own listening socket handed over by the supervisor (so the proxy, the other
services and the health checks see no difference), its own app lifespan.

    python -m eproc.together    (EPROC_TOGETHER: the members, JSON; see :func:`combine`)

One uvicorn server per member on one event loop; a SIGTERM or SIGINT stops
them all gracefully. What the members do share: the process's log
configuration and tracer provider (log lines and spans carry one service name
per process), and the Prometheus registry of ``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import uvicorn
from uvicorn.importer import import_from_string

from eproc.serve import inherited

if TYPE_CHECKING:
    from eproc.stack import Child

LIGHT_SERVICES = ("identity", "requests", "notifier")
"""The services ``light-together`` runs in one process (the busy ones — the edge,
organisations' search, the eID gateway — and the portal keep their own)."""


def combine(children: list[Child], factories: Mapping[str, str]) -> list[Child]:
    """The supervisor's children with the light services hosted by one process.

    Each light child stays in the list (its port, prefix and socket route
    requests as before) but is marked as hosted; one more child runs them."""
    from eproc.stack import Child

    members = [c for c in children if c.name in LIGHT_SERVICES and c.listener is not None]
    if len(members) < 2:
        return children
    name = "+".join(c.name for c in members)
    spec = [
        {
            "name": c.name,
            "factory": factories[c.name],
            "fd": c.listener.fileno() if c.listener else -1,
            "env": {k: v for k, v in c.env.items() if k.startswith("EPROC_")},
        }
        for c in members
    ]
    # What every member has alike is the process's own environment (tracing,
    # bus, issuer): read again after start-up, outside any member's settings.
    host_env = {k: v for k, v in members[0].env.items() if all(m.env.get(k) == v for m in members)}
    host = Child(
        name=name,
        command=[sys.executable, "-m", "eproc.together"],
        env={**host_env, "EPROC_TOGETHER": json.dumps(spec)},
        port=members[0].port,
        prefix=f"/_together/{name}",
        hosted=[c.listener for c in members if c.listener is not None],
    )
    for child in members:
        child.hosted_by = name
    return [*children, host]


@contextlib.contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with exactly these ``EPROC_`` variables while a member's
    settings are read (its app is created)."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("EPROC_")]:
        del os.environ[key]
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class _Member(uvicorn.Server):
    """A uvicorn server that leaves the signals to :func:`serve` (one handler for all)."""

    def __init__(self, config: uvicorn.Config, listener: socket.socket) -> None:
        super().__init__(config)
        self.listener = listener

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def members(spec: list[dict[str, Any]]) -> list[_Member]:
    servers: list[_Member] = []
    for member in spec:
        with _environment(member["env"]):
            app = import_from_string(member["factory"])()
        config = uvicorn.Config(
            app,
            access_log=False,
            proxy_headers=False,
            timeout_graceful_shutdown=10,
            log_level="info",
        )
        servers.append(_Member(config, inherited(member["fd"])))
    return servers


async def serve(servers: list[_Member]) -> None:
    """Run every member until SIGTERM/SIGINT, then stop them all; if one fails, all stop."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve(sockets=[server.listener])) for server in servers]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    stop()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()
    if any(not server.started for server in servers):
        raise SystemExit(3)  # a member could not start: the supervisor restarts the process


def main() -> None:
    spec = json.loads(os.environ.pop("EPROC_TOGETHER"))
    asyncio.run(serve(members(spec)))


if __name__ == "__main__":
    main()
