"""The real stack on one machine, without Docker (``eproc stack up``, ``make run-stack``).

PostgreSQL and Kafka (``deploy/local/postgres.sh`` and ``kafka.sh``), one
database per service, the demo organisations, a local SMTP sink, and every
service as its own uvicorn process (or N of them: ``--scale requests=2,...``)
under a small asyncio supervisor that restarts a process that dies. One
reverse proxy gives the single origin: ``/sso`` edge, ``/eid`` eID gateway,
``/api/<service>``, ``/apps/<client>``, ``/mail`` the received mails, and
``/_stack`` the supervisor's status (process ids, ports, restarts) — what the
tests use to kill a service mid-journey.

A scaled service's instances share its database and its consumer group (Kafka
spreads the partitions over them); the proxy sends each request to the next
running instance in turn (round-robin, skipping an instance that is down or
restarting), and the other services reach a scaled service through the proxy
too, as they would through a Kubernetes Service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from eproc.demo import (
    DEMO_DATASET_SIZE,
    DEMO_PASSWORD,
    load_demo_organisations,
    seed_demo_superusers,
)
from eproc.embedded import PLATFORM_APPS, demo_clients, eid_clients
from eproc.mailsink import MailSink, free_port
from eproc.processes import die_with_parent
from eproc.stack_bus import kafka_env, provision_stack
from eproc.together import combine

log = structlog.get_logger("eproc.stack")

REPO_ROOT = Path(__file__).resolve().parents[3]

# Service -> (module of its app factory, public prefix; None: /api/<service>).
SERVICE_APPS: dict[str, tuple[str, str | None]] = {
    "identity": ("eproc_identity.main:create_app", None),
    "organisations": ("eproc_organisations.main:create_app", None),
    "requests": ("eproc_requests.main:create_app", None),
    "notifier": ("eproc_notifier.main:create_app", None),
    "edge": ("eproc_edge.main:create_app", "/sso"),
    "eid-gateway": ("eproc_eid_gateway.main:create_app", "/eid"),
    "portal": ("eproc_portal.main:create_app", ""),
}
MIGRATED = {
    "identity": "eproc_identity",
    "organisations": "eproc_organisations",
    "requests": "eproc_requests",
    "notifier": "eproc_notifier",
    "edge": "eproc_edge",
    "eid-gateway": "eproc_eid_gateway",
}
# The portal owns no database (tokens and sessions only).
STATELESS = {"portal"}
# Paths a service serves under their own name, passed on as they are: path -> the
# prefix of the service's pool (SCIM, R-APP-2: the edge serves /scim/v2 itself).
UNSTRIPPED = {"/scim": "/sso"}


@dataclass
class StackConfig:
    """Where and how the local stack runs."""

    data_dir: Path
    port: int = 8080
    database_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    group_prefix: str = ""  # consumer groups: tests share the broker with other suites
    database_prefix: str = "eproc_"
    trace_file: Path | None = None
    demo_organisations: int = DEMO_DATASET_SIZE
    platform_apps: bool = True
    services: tuple[str, ...] = tuple(SERVICE_APPS)
    # "separate": every service its own process; "light-together": identity,
    # requests and the notifier share one (eproc.together; docs/operations.md).
    layout: Literal["separate", "light-together"] = "separate"
    # Tests verify tokens of their own issuer (API-level journeys without a browser login).
    token_issuer: str | None = None
    jwks_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # One service's own variables, applied last (tests: identity trusting a test eID issuer).
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    # An external SMTP server (tests: a real aiosmtpd they stop and start) instead
    # of the in-process sink; then ``/mail`` shows nothing.
    smtp_port: int | None = None
    # The demo Superusers (``eproc stack up``), as in the embedded mode; needs the
    # identity, organisations and eid-gateway services.
    demo_superusers: bool = False
    banner_lines: list[str] = field(default_factory=list)  # the demo persons, the card
    # Instances per service (``--scale requests=2,notifier=2``); 1 when not named.
    scale: dict[str, int] = field(default_factory=dict)

    def instances(self, service: str) -> int:
        return self.scale.get(service, 1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def parse_scale(text: str) -> dict[str, int]:
    """``requests=2,notifier=2`` -> ``{"requests": 2, "notifier": 2}`` (1 to 16 each)."""
    scale: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, count = item.partition("=")
        if not sep or name not in SERVICE_APPS or not count.isdigit():
            raise ValueError(
                f"--scale: {item!r} is not SERVICE=N with SERVICE one of {', '.join(SERVICE_APPS)}"
            )
        if not 1 <= int(count) <= 16:
            raise ValueError(f"--scale: {name} wants 1 to 16 instances, not {count}")
        scale[name] = int(count)
    return scale


def database_url(config: StackConfig, service: str) -> str:
    """The asyncpg URL of ``service``'s own database."""
    admin = config.database_admin_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    root, _, _ = admin.rpartition("/")
    return f"{root}/{config.database_prefix}{service.replace('-', '_')}"


async def prepare_databases(config: StackConfig) -> None:
    """Create each service's database if missing, migrate it, load the demo organisations."""
    import asyncpg

    from eproc_runtime.migrations import upgrade_async

    admin = await asyncpg.connect(config.database_admin_url)
    try:
        existing = {r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")}
        for service in set(config.services) - STATELESS:
            name = f"{config.database_prefix}{service.replace('-', '_')}"
            if name not in existing:
                await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    # One after the other: Alembic's migration context is process-global.
    for service in [s for s in config.services if s not in STATELESS]:
        await upgrade_async(MIGRATED[service], database_url(config, service))
    if "edge" in config.services:
        # The demo applications are data of the edge's registry (not EPROC_CLIENTS).
        from eproc_edge.registry import seed_database

        await seed_database(database_url(config, "edge"), demo_clients(config.base_url))
    if "organisations" in config.services:
        await load_demo_organisations(
            database_url(config, "organisations"), config.demo_organisations
        )


@dataclass
class Child:
    """One supervised process: ``name`` is the service (or application), or
    ``<service>-<n>`` for instance n of a scaled service."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    prefix: str
    strip_prefix: bool = True
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    # The listening socket the supervisor holds and hands to every incarnation
    # (eproc.serve): the port is never free for another program to take, and a
    # request that arrives while the service restarts waits in the backlog
    # instead of being refused.
    listener: socket.socket | None = None
    # --layout light-together (eproc.together): a service run by another child's
    # process (hosted_by), and the sockets of the services a process hosts.
    hosted_by: str | None = None
    hosted: list[socket.socket] = field(default_factory=list)
    service: str = ""  # the service it is an instance of (default: name)
    instance: int = 1

    def __post_init__(self) -> None:
        self.service = self.service or self.name


class Supervisor:
    """Starts the children, restarts any that exits unexpectedly (with a short
    back-off), and stops them all with SIGTERM (then SIGKILL) at the end."""

    def __init__(self, children: list[Child], log_dir: Path) -> None:
        self.children = {c.name: c for c in children}
        self.log_dir = log_dir
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    async def _spawn(self, child: Child) -> None:
        out = (self.log_dir / f"{child.name}.log").open("ab")
        child.process = await asyncio.create_subprocess_exec(
            *child.command,
            env=child.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            pass_fds=tuple(s.fileno() for s in (child.listener, *child.hosted) if s),
            # Ends with the supervisor, even when it is killed (eproc.processes).
            preexec_fn=die_with_parent(os.getpid()),
        )
        out.close()
        child.started_at = time.time()

    async def _watch(self, child: Child) -> None:
        delay = 0.5
        while not self._stopping:
            assert child.process is not None
            code = await child.process.wait()
            if self._stopping:
                return
            log.warning("service exited; restarting", service=child.name, code=code)
            healthy_for = time.time() - child.started_at
            delay = 0.5 if healthy_for > 30 else min(delay * 2, 10.0)
            await asyncio.sleep(delay)
            if self._stopping:  # stopped during the back-off: no orphan process
                return
            child.restarts += 1
            await self._spawn(child)

    async def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        processes = [c for c in self.children.values() if c.hosted_by is None]
        for child in processes:
            await self._spawn(child)
        self._tasks = [asyncio.create_task(self._watch(c)) for c in processes]

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Until every child answers its health check (by default within 60 s
        plus 20 s a process: they all start at once on however many cores)."""
        deadline = time.monotonic() + (timeout or 60.0 + 20.0 * len(self.children))
        async with httpx.AsyncClient(timeout=2) as client:
            for child in self.children.values():
                path = "/healthz"
                url = f"http://127.0.0.1:{child.port}{'' if child.strip_prefix else child.prefix}"
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(url + path)).status_code < 500:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{child.name} did not start; see {self.log_dir}")
                    await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._stopping = True
        # The watchers first: none may start a process after the list below is taken.
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        running = [c.process for c in self.children.values() if c.process is not None]
        for process in running:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        for child in self.children.values():
            if child.listener is not None:
                child.listener.close()

    def process_of(self, c: Child) -> asyncio.subprocess.Process | None:
        """The process that serves ``c`` (its host's under light-together)."""
        return self.children[c.hosted_by].process if c.hosted_by else c.process

    def running(self, c: Child) -> bool:
        process = self.process_of(c)
        return bool(process and process.returncode is None)

    def status(self) -> dict[str, Any]:
        return {
            name: {
                "service": c.service,
                "instance": c.instance,
                "pid": p.pid if (p := self.process_of(c)) else None,
                "running": self.running(c),
                "port": c.port,
                "prefix": c.prefix,
                "restarts": c.restarts,
            }
            for name, c in self.children.items()
        }


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def _read_json(path: Path | None) -> Any:
    return json.loads(path.read_text()) if path is not None and path.exists() else {}


def create_proxy(
    supervisor: Supervisor, sink: MailSink | None, demo_file: Path | None = None
) -> Starlette:
    """The single origin: a small streaming reverse proxy in front of the children,
    round-robin over the running instances of a scaled service."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), follow_redirects=False)
    pools: dict[str, list[Child]] = {}
    for c in supervisor.children.values():
        pools.setdefault(c.prefix, []).append(c)
    prefixes = sorted(pools, key=len, reverse=True)
    turns = dict.fromkeys(pools, 0)

    def pick(prefix: str, pinned: str | None) -> Child:
        """The instance named by the ``X-Eproc-Instance`` request header (tests:
        "this call on the other edge instance"), else the next instance in turn
        that runs; if none runs, the next in turn (its listening socket is held:
        the request waits for the restart)."""
        pool = pools[prefix]
        if pinned is not None:
            for c in pool:
                if c.name == pinned:
                    return c
        turn = turns[prefix]
        turns[prefix] = turn + 1
        ordered = [pool[(turn + i) % len(pool)] for i in range(len(pool))]
        return next((c for c in ordered if supervisor.running(c)), ordered[0])

    async def forward(request: Request) -> Response:
        path = request.url.path
        alias = next((a for a in UNSTRIPPED if path == a or path.startswith(a + "/")), None)
        if alias is not None and UNSTRIPPED[alias] in pools:
            prefix = UNSTRIPPED[alias]
        else:
            for prefix in prefixes:
                if path == prefix or path.startswith(prefix + "/"):
                    break
            else:
                return JSONResponse({"detail": {"code": "not_found"}}, status_code=404)
        child = pick(prefix, request.headers.get("x-eproc-instance"))
        strip = child.strip_prefix and alias is None
        upstream_path = path[len(child.prefix) :] if strip else path
        url = httpx.URL(f"http://127.0.0.1:{child.port}{upstream_path or '/'}")
        if request.url.query:
            url = url.copy_with(query=request.url.query.encode())
        headers = [
            (k, v)
            for k, v in request.headers.items()
            if k.lower() not in _HOP_BY_HOP and k.lower() != "x-eproc-instance"
        ]
        peer = request.client.host if request.client else ""
        headers += [
            ("x-forwarded-for", peer),
            ("x-forwarded-proto", request.url.scheme),
            ("x-forwarded-host", request.headers.get("host", "")),
            ("x-forwarded-prefix", child.prefix),
        ]
        upstream = client.build_request(
            request.method, url, headers=headers, content=request.stream()
        )
        try:
            response = await client.send(upstream, stream=True)
        except ClientDisconnect:
            # The caller went away while its body was being forwarded (a client
            # that timed out): nobody to answer, nothing of ours went wrong.
            return Response(status_code=499)
        except httpx.TransportError:
            return JSONResponse(
                {"detail": {"code": "service_unavailable", "message": f"{child.name} is down"}},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        forwarded = StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            background=BackgroundTask(response.aclose),
        )
        # Every header line as it came, repeated ones included (a login sets
        # several cookies, each its own Set-Cookie), and which instance answered.
        forwarded.raw_headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.multi_items()
            if k.lower() not in _HOP_BY_HOP
        ] + [(b"x-eproc-instance", child.name.encode())]
        return forwarded

    async def status(_: Request) -> JSONResponse:
        return JSONResponse(supervisor.status())

    async def mail(_: Request) -> HTMLResponse:
        return HTMLResponse(sink.page() if sink else "<p>No SMTP sink.</p>")

    async def demo(_: Request) -> JSONResponse:
        # The demo Superusers once seeded (the same document as the embedded mode's).
        superusers = await asyncio.to_thread(_read_json, demo_file)
        return JSONResponse({"superusers": superusers, "password": DEMO_PASSWORD, "error": None})

    async def index(_: Request) -> HTMLResponse:
        links = "".join(
            f"<li><a href='{c.prefix}/'>{c.name}</a> (port {c.port})</li>"
            for prefix in prefixes
            for c in pools[prefix]
        )
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>e-Procurement (local stack)</title>"
            f"<h1>e-Procurement user management — local stack</h1><ul>{links}</ul>"
            "<p><a href='/mail'>Received mails</a> · <a href='/_stack'>processes</a></p>"
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    return Starlette(
        routes=[
            *([] if "" in pools else [Route("/", index)]),
            Route("/_stack/", index),
            Route("/_stack", status),
            Route("/mail", mail),
            Route("/demo.json", demo),
            Route("/{path:path}", forward, methods=methods),
        ],
        lifespan=lifespan,
    )


def _listen() -> socket.socket:
    """A listening TCP socket on a free loopback port, inheritable by a child."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    listener.set_inheritable(True)
    return listener


def build_children(config: StackConfig, smtp_port: int) -> list[Child]:
    """The command line and environment of every service process."""
    base = config.base_url
    listeners = {
        (name, n): _listen()
        for name in SERVICE_APPS
        if name in config.services
        for n in range(1, config.instances(name) + 1)
    }
    ports = {
        name: listeners[(name, 1)].getsockname()[1] if (name, 1) in listeners else free_port()
        for name in SERVICE_APPS
    }

    def url(name: str) -> str:
        """Where the other processes reach a service: its one process, or the
        proxy (round-robin) when it runs as several instances."""
        if config.instances(name) == 1:
            return f"http://127.0.0.1:{ports[name]}"
        prefix = SERVICE_APPS[name][1]
        return base + (f"/api/{name}" if prefix is None else prefix)

    eid_home = config.data_dir / "eid"
    from eproc_eid_testkit.pki import DevPki

    DevPki.load_or_create(eid_home / "pki")
    common = {
        **os.environ,
        "EPROC_BUS": "kafka",
        "EPROC_KAFKA_BOOTSTRAP": config.kafka_bootstrap,
        "EPROC_TOPIC_PREFIX": config.topic_prefix,
        "EPROC_LOG_JSON": "true",
        "EPROC_TOKEN_ISSUER": config.token_issuer or f"{base}/sso",
        # Services fetch the edge's keys directly, not through the proxy.
        "EPROC_JWKS_URL": config.jwks_url or f"{url('edge')}/jwks",
        # This supervisor is the one proxy in front of every service; it sets
        # (never appends to) X-Forwarded-For.
        "EPROC_TRUSTED_PROXIES": '["127.0.0.1"]',
        **config.extra_env,
    }
    if config.trace_file is not None:
        common["EPROC_TRACE_EXPORTER"] = f"file:{config.trace_file}"
    specific: dict[str, dict[str, str]] = {
        "identity": {
            "EPROC_EID_ISSUER": f"{base}/eid",
            "EPROC_EID_JWKS_URL": f"{url('eid-gateway')}/jwks",
        },
        "requests": {"EPROC_ORGANISATIONS_URL": url("organisations")},
        "notifier": {
            "EPROC_SMTP_HOST": "127.0.0.1",
            "EPROC_SMTP_PORT": str(smtp_port),
            "EPROC_SMTP_STARTTLS": "false",
            "EPROC_PORTAL_URL": f"{base}/",
        },
        "edge": {
            "EPROC_IDENTITY_URL": url("identity"),
            "EPROC_UPSTREAM_ISSUER": f"{base}/eid",
            "EPROC_PORTAL_URL": f"{base}/",
            "EPROC_FIRST_LOGIN_URL": f"{base}/welcome",
            "EPROC_REGISTRATION_URL": f"{base}/register",
        },
        "eid-gateway": {
            "EPROC_ISSUER": f"{base}/eid",
            "EPROC_PORTAL_URL": f"{base}/",
            "EPROC_TRUST_ANCHORS": json.dumps([str(eid_home / "pki" / "root.crt.pem")]),
            "EPROC_CLIENTS": json.dumps(eid_clients(base)),
        },
        "portal": {
            "EPROC_PUBLIC_URL": base,
            "EPROC_OIDC_ISSUER": f"{base}/sso",
            "EPROC_OIDC_REDIRECT_URI": f"{base}/auth/callback",
            "EPROC_EID_ISSUER": f"{base}/eid",
            "EPROC_EID_REDIRECT_URI": f"{base}/register/eid-callback",
            "EPROC_IDENTITY_URL": url("identity"),
            "EPROC_ORGANISATIONS_URL": url("organisations"),
            "EPROC_REQUESTS_URL": url("requests"),
        },
    }
    children = []
    for name, (factory, prefix) in SERVICE_APPS.items():
        if name not in config.services:
            continue
        env = {
            **common,
            "EPROC_SERVICE_NAME": config.group_prefix + name,
            **kafka_env(config.kafka_bootstrap, config.group_prefix + name),
            **({} if name in STATELESS else {"EPROC_DATABASE_URL": database_url(config, name)}),
            **specific.get(name, {}),
            **config.service_env.get(name, {}),
        }
        count = config.instances(name)
        for n in range(1, count + 1):
            listener = listeners[(name, n)]
            children.append(
                Child(
                    name=name if count == 1 else f"{name}-{n}",
                    service=name,
                    instance=n,
                    command=[
                        sys.executable,
                        "-m",
                        "eproc.serve",
                        factory,
                        str(listener.fileno()),
                    ],
                    env=env,
                    port=listener.getsockname()[1],
                    prefix=f"/api/{name}" if prefix is None else prefix,
                    listener=listener,
                )
            )
    if config.platform_apps:
        for client_id, app_name in PLATFORM_APPS.items():
            port = free_port()
            children.append(
                Child(
                    name=client_id,
                    command=[
                        sys.executable,
                        "-c",
                        "from eproc_platform_app.main import main; main()",
                    ],
                    env={
                        **common,
                        "EPROC_APP_CLIENT_ID": client_id,
                        "EPROC_APP_CLIENT_SECRET": f"dev-secret-{client_id}",
                        "EPROC_APP_NAME": app_name,
                        "EPROC_APP_BASE_URL": f"{base}/apps/{client_id}",
                        "EPROC_APP_EDGE_URL": f"{base}/sso",
                        "EPROC_APP_PORTAL_URL": f"{base}/",
                        "EPROC_APP_ROLES_URL": f"{base}/api/organisations/roles",
                        "EPROC_APP_SCIM_URL": f"{base}/scim/v2",
                        "EPROC_APP_PORT": str(port),
                        "EPROC_APP_DATABASE_URL": "sqlite+aiosqlite:///"
                        + str(config.data_dir / f"{client_id}.db"),
                        "EPROC_APP_BUS": "kafka",
                        "EPROC_APP_KAFKA_BOOTSTRAP": config.kafka_bootstrap,
                        "EPROC_APP_TOPIC_PREFIX": config.topic_prefix,
                        "EPROC_APP_CONSUMER_GROUP": config.group_prefix + client_id,
                        **kafka_env(
                            config.kafka_bootstrap,
                            config.group_prefix + client_id,
                            prefix="EPROC_APP_",
                        ),
                    },
                    port=port,
                    prefix=f"/apps/{client_id}",
                    strip_prefix=False,
                )
            )
    if config.layout == "light-together":
        if any(n > 1 for n in config.scale.values()):
            raise ValueError("--scale runs separate processes: use it with --layout separate")
        children = combine(children, {name: app for name, (app, _) in SERVICE_APPS.items()})
    return children


def start_local_infrastructure(config: StackConfig) -> None:
    """PostgreSQL and Kafka through the repository's scripts (installed on first use)."""
    for script in ("postgres.sh", "kafka.sh"):
        result = subprocess.run(  # noqa: S603 - the repository's own scripts
            ["bash", str(REPO_ROOT / "deploy" / "local" / script), "start"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
        last = [line for line in result.stdout.splitlines() if line.strip()][-1].strip()
        if script == "postgres.sh":
            config.database_admin_url = last
        else:
            config.kafka_bootstrap = last


DEMO_SUPERUSER_SERVICES = {"identity", "organisations", "eid-gateway"}


async def seed_stack_superusers(config: StackConfig) -> dict[str, Any]:
    """The demo Superusers, registered through the proxy once it serves: the ID
    token signed with the eID gateway's key (from its database), the operator's
    steps in identity's and organisations' databases (their outboxes publish)."""
    from eproc_eid_gateway import repository as gateway_repository
    from eproc_eid_gateway.settings import Settings as GatewaySettings
    from eproc_runtime.db import create_engine, create_session_factory, unit_of_work

    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{config.base_url}/_stack")).status_code == 200:
                    break
            await asyncio.sleep(0.1)
    engines = {s: create_engine(database_url(config, s)) for s in DEMO_SUPERUSER_SERVICES}
    try:
        sessions = {s: create_session_factory(e) for s, e in engines.items()}
        async with unit_of_work(sessions["eid-gateway"]) as session:
            key = await gateway_repository.signing_key_or_create(session)
        return await seed_demo_superusers(
            config.base_url,
            signing_key=key,
            # The gateway process reads the same environment.
            subject_key=GatewaySettings().subject_key.get_secret_value(),
            identity_sessions=sessions["identity"],
            organisations_sessions=sessions["organisations"],
            state_file=config.data_dir / "demo-superusers.json",
        )
    finally:
        for engine in engines.values():
            await engine.dispose()


async def serve_stack(config: StackConfig, ready: asyncio.Event | None = None) -> None:
    """Run the stack until cancelled or SIGINT/SIGTERM."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    await prepare_databases(config)
    await asyncio.to_thread(provision_stack, config)  # Kafka principals and ACLs
    sink = MailSink(config.data_dir / "mail") if config.smtp_port is None else None
    if sink is not None:
        sink.start()
    smtp_port = sink.port if sink is not None else config.smtp_port
    assert smtp_port is not None
    supervisor = Supervisor(build_children(config, smtp_port), config.data_dir / "logs")
    server = uvicorn.Server(
        uvicorn.Config(
            create_proxy(supervisor, sink, config.data_dir / "demo-superusers.json"),
            host="127.0.0.1",
            port=config.port,
            log_level="warning",
            lifespan="on",
        )
    )
    # The proxy serves first: the instances of a scaled service are reached
    # through it, also by the other services while they start.
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises why the proxy could not start
                raise RuntimeError(f"the proxy did not start on port {config.port}")
            await asyncio.sleep(0.05)
        await supervisor.start()
        await supervisor.wait_ready()
        print(stack_banner(config, supervisor, sink), flush=True)
        if ready is not None:
            ready.set()
        if config.demo_superusers and set(config.services) >= DEMO_SUPERUSER_SERVICES:
            seeding = asyncio.create_task(seed_stack_superusers(config))
            seeding.add_done_callback(_report_seeding)
        try:
            await asyncio.shield(serving)
        except asyncio.CancelledError:
            # Cancelled (a test, or the caller): let the proxy finish like on Ctrl-C.
            server.should_exit = True
            await serving
            raise
    finally:
        if not serving.done():
            server.should_exit = True
            with contextlib.suppress(Exception):
                await serving
        await supervisor.stop()
        if sink is not None:
            sink.stop()


def _report_seeding(task: asyncio.Task[dict[str, Any]]) -> None:
    # The demo data is a convenience: say what happened, keep running either way.
    if task.cancelled():
        return
    if task.exception() is not None:
        log.warning("demo superusers not created", error=repr(task.exception()))
    else:
        log.info("demo superusers ready", superusers=sorted(task.result()))


def stack_banner(config: StackConfig, supervisor: Supervisor, sink: MailSink | None) -> str:
    base = config.base_url
    rows = [
        f"  {n:<15} {base}{c['prefix']}  (pid {c['pid']})" for n, c in supervisor.status().items()
    ]
    return "\n".join(
        [
            "",
            "e-Procurement user management — local stack (PostgreSQL, Kafka, one process each)",
            f"  PostgreSQL      {config.database_admin_url.rsplit('@', 1)[-1]}",
            f"  Kafka           {config.kafka_bootstrap}",
            *rows,
            f"  received mails  {base}/mail   "
            f"(SMTP 127.0.0.1:{sink.port if sink else config.smtp_port})",
            f"  processes       {base}/_stack   logs in {supervisor.log_dir}",
            *config.banner_lines,
            "  Ctrl-C stops every process.",
            "",
        ]
    )


def run_stack(config: StackConfig, *, start_infrastructure: bool = True) -> None:
    """``eproc stack up``."""
    from eproc_runtime.logging import configure_logging

    configure_logging("stack", json=False)
    for noisy in ("httpx", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if start_infrastructure:
        start_local_infrastructure(config)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_stack(config))
