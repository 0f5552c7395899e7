"""Chaos run of the whole join flow (issue 11, item 5; SPEC R-NOT-2, R-SSO-4;
DESIGN "Messaging rules").

Real processes over real PostgreSQL, Kafka and SMTP: the local stack
(``eproc.stack``) runs identity, organisations, requests, notifier and the edge,
each its own uvicorn process under the stack's supervisor, with the SMTP server
a real aiosmtpd (the ``smtp_sink`` fixture). 200 buyers and 20 organisations
(each with a Superuser bootstrapped through the operator API) are registered
through identity's real registration endpoint; then 1,000 join requests (five
per buyer) are submitted and decided — about two thirds approved, the rest
rejected — by 12 concurrent clients (decisions start while later buyers still
submit), while a chaos task SIGKILLs one of the serving services (organisations,
requests, notifier, edge) every few seconds (each at most every 32 s: see
``kill_services``) and the supervisor restarts it, the SMTP server is down
for 20 s (from the 100th decision) and the Kafka broker (the run's own, never
the shared one) is restarted once (at the 400th decision). The clients retry
what the chaos cuts (a refused connection, the proxy's 503, a 429) and
reconcile an answer lost to a kill by reading the state back (a repeated
submission or decision answers 409; the decision found must be ours). Then the
flow is left to settle (no request open, every outbox empty, every mail sent)
and checked:

* **memberships** (organisations' database): every approved request has exactly
  one membership with the requested roles, every rejected one none, and no
  membership exists that no approval explains; every request ended ``completed``
  (approved) or ``rejected`` in the requests service;
* **mails** (counted at the SMTP server, by recipient + request: the request id
  in the "submitted" mail's text, the organisation in the decision mail's
  subject): the notifier's mails for this flow — "submitted" to the
  organisation's Superuser, "approved" or "rejected" to the requester — each
  arrived, and none was made twice (two Message-IDs for one key, or a mail
  nobody expected). SMTP has no idempotency key, so a sender SIGKILLed between
  the server's "250" and its own "sent" mark resends that one mail with the same
  Message-ID (the bound stated in ``eproc_notifier.delivery``: at most one per
  killed sender; a recipient's client can fold them by Message-ID). Those
  resends are not "doubled mails" (the notifier made the mail once): they are
  counted and printed separately and asserted within that bound;
* **the edge's next tokens**: for every user of the run, the edge's own
  ``load_snapshot`` (the function its token path reads) over its projection
  database gives exactly organisations' memberships, roles and default
  organisation; and every user gets a *real* token from the edge process
  (authorization code + PKCE for the e-Notification client, through the proxy)
  whose ``org_id``/``roles``/``organisation_choice_required`` match
  organisations' data. Only the SSO session behind that code flow is made by the
  test, with the edge's own ``start_session`` (a password or eID login per user
  is not what is under test here).

The API calls use test tokens (``TestIssuer``), as in ``test_stack.py``; the eID
ID tokens that registration needs are signed by a test key given to identity
as its gateway key set. The counts are printed to the CI log in one line.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import hashlib
import json
import os
import random
import re
import secrets
import signal
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import asyncpg
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from eproc.stack import StackConfig, database_url, serve_stack
from eproc_runtime.testing import infra
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import SmtpSink
from eproc_runtime.testing.private_infra import PrivateInfra, private_infra
from eproc_runtime.testing.servers import json_server
from eproc_runtime.testing.tokens import TestIssuer

ISSUER = TestIssuer()
# Signs the "eID gateway" ID tokens identity checks at registration.
EID_KEY = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, auto_kid=True)

ORGANISATIONS = 20
BUYERS = 200
PER_BUYER = 5  # 200 x 5 = 1,000 join requests
APPROVE_SHARE = 0.65
CONCURRENCY = 12
FLOW_SERVICES = ("identity", "organisations", "requests", "notifier", "edge")
VICTIMS = ("organisations", "requests", "notifier", "edge")
RESPITE = 32.0  # seconds between two kills of one service
SMTP_OUTAGE = 20.0
ROLE_SETS = (
    (("e-notification", "publisher"),),
    (("e-notification", "editor"),),
    (("e-notification", "publisher"), ("e-tendering", "associated-buyer")),
    (("user-management", "buyer"), ("e-notification", "editor")),
)
TOKEN_CLIENT = ("e-notification", "dev-secret-e-notification")
PASSWORD = "chaos run of the whole flow 2026"


@pytest.fixture
def test_jwks_url() -> Iterator[str]:
    with json_server(lambda _: ISSUER.jwks()) as url:
        yield f"{url}/jwks"


def _stack_config(
    tmp_path: Path,
    label: str,
    *,
    database_admin_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    jwks_url: str,
    smtp_port: int,
    instances: int = 1,
) -> StackConfig:
    return StackConfig(
        data_dir=tmp_path / "stack",
        port=infra.free_port(),
        database_admin_url=database_admin_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        group_prefix=label,
        database_prefix=label,
        demo_organisations=0,
        platform_apps=False,
        services=FLOW_SERVICES,
        scale=dict.fromkeys(FLOW_SERVICES, instances),
        token_issuer=ISSUER.issuer,
        jwks_url=jwks_url,
        smtp_port=smtp_port,
        service_env={
            # Our test key stands in for the eID gateway's keys; cheaper (still
            # argon2id) password hashing for 220 registrations.
            "identity": {
                "EPROC_EID_JWKS": json.dumps(KeySet([EID_KEY]).as_dict(private=False)),
                "EPROC_ARGON2_TIME_COST": "1",
                "EPROC_ARGON2_MEMORY_COST": "8192",
                "EPROC_ARGON2_PARALLELISM": "1",
            },
            # A short lease, so that the mails a killed sender had claimed go to
            # its successor in seconds (it must exceed the SMTP timeout; one batch
            # takes well under a second), and a capped backoff while SMTP is down.
            "notifier": {
                "EPROC_SMTP_TIMEOUT": "5",
                "EPROC_SENDER_LEASE_SECONDS": "10",
                "EPROC_SERVER_BACKOFF_MAX": "2",
            },
            # The budget per caller is not what this run tests.
            "requests": {"EPROC_SUBMISSION_RATE_LIMIT": "1000/minute"},
        },
    )


@contextlib.asynccontextmanager
async def _serving(config: StackConfig) -> AsyncIterator[StackConfig]:
    ready = asyncio.Event()
    task = asyncio.create_task(serve_stack(config, ready))
    waiting = asyncio.create_task(ready.wait())
    done, _ = await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED, timeout=600)
    assert done, "the stack did not start"
    if task in done:
        task.result()  # raises what went wrong
    try:
        yield config
    finally:
        waiting.cancel()
        task.cancel()
        await asyncio.gather(task, waiting, return_exceptions=True)


@pytest.fixture
async def stack(
    tmp_path: Path,
    own_broker: PrivateInfra,
    topic_prefix: str,
    test_jwks_url: str,
    smtp_sink: SmtpSink,
) -> AsyncIterator[StackConfig]:
    """One process per service on the shared PostgreSQL and a broker of its own."""
    label = f"chaos{uuid.uuid4().hex[:8]}_"
    config = _stack_config(
        tmp_path,
        label,
        database_admin_url=infra.postgres_url(),
        kafka_bootstrap=own_broker.kafka_bootstrap,
        topic_prefix=topic_prefix,
        jwks_url=test_jwks_url,
        smtp_port=smtp_sink.port,
    )
    try:
        async with _serving(config):
            yield config
    finally:
        admin = await asyncpg.connect(infra.postgres_url())
        try:
            for service in config.services:
                name = f"{label}{service.replace('-', '_')}"
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def own_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateInfra]:
    """A Kafka broker of this test's own: the run restarts it, which the shared
    one must never be (the suites after this one would find it down)."""
    with private_infra() as servers:
        admin = servers.kafka_admin()
        # The stack's provisioning and this test's clients act as its super user.
        monkeypatch.setenv("EPROC_KAFKA_USERNAME", admin.username or "")
        monkeypatch.setenv("EPROC_KAFKA_PASSWORD", admin.password or "")
        yield servers


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateInfra]:
    """A PostgreSQL server and a 3-node Kafka cluster of this test's own: the
    run kills and restarts them."""
    with private_infra(kafka_nodes=3, postgres=True) as servers:
        admin = servers.kafka_admin()
        monkeypatch.setenv("EPROC_KAFKA_USERNAME", admin.username or "")
        monkeypatch.setenv("EPROC_KAFKA_PASSWORD", admin.password or "")
        yield servers


@pytest.fixture
async def scaled_stack(
    tmp_path: Path,
    cluster: PrivateInfra,
    topic_prefix: str,
    test_jwks_url: str,
    smtp_sink: SmtpSink,
) -> AsyncIterator[StackConfig]:
    """Two instances of every service of the flow, on the cluster."""
    config = _stack_config(
        tmp_path,
        f"scaled{uuid.uuid4().hex[:8]}_",
        database_admin_url=cluster.postgres_url,
        kafka_bootstrap=cluster.kafka_bootstrap,
        topic_prefix=topic_prefix,
        jwks_url=test_jwks_url,
        smtp_port=smtp_sink.port,
        instances=2,
    )
    async with _serving(config):
        yield config


# --- helpers -------------------------------------------------------------------------------


def _pg(config: StackConfig, service: str) -> str:
    return database_url(config, service).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _query(config: StackConfig, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(_pg(config, service))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def _scalar(config: StackConfig, service: str, sql: str, *args: Any) -> Any:
    rows = await _query(config, service, sql, *args)
    return rows[0][0] if rows else None


async def _until(
    check: Callable[[], Awaitable[Any]], timeout: float, what: str, seen: Any = None
) -> Any:
    """``eventually``, reporting ``seen`` (state the check keeps up to date) on a timeout."""

    async def checked() -> Any:
        result = await check()
        assert result, f"timed out waiting for {what} (last seen: {seen})"
        return result

    return await eventually(checked, timeout=timeout, interval=0.5, what=what)


def enterprise_number(rng: random.Random) -> str:
    """A valid Belgian enterprise number (mod-97 check digits)."""
    body = rng.randint(2_000_000, 9_999_999)
    digits = f"0{body:07d}{97 - body % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def bearer(user_id: uuid.UUID, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER.user_token(user_id, lifetime=3600, **claims)}"}


def _service(url: str) -> str:
    parts = url.strip("/").split("/")
    return parts[1] if parts[0] == "api" else parts[0]


@dataclass
class Client:
    """HTTP through the stack's proxy that rides out the chaos: a refused
    connection, a 5xx (the proxy's 503 for a dead service, a request cut by a
    kill) or a 429 is tried again; any other answer is the caller's to judge."""

    http: httpx.AsyncClient
    retried: Counter[str] = field(default_factory=Counter)

    async def call(
        self, method: str, url: str, timeout: float = 300.0, **kw: Any
    ) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while True:
            try:
                response = await self.http.request(method, url, **kw)
            except httpx.TransportError as exc:
                self.retried[f"{type(exc).__name__} {_service(url)}"] += 1
            else:
                if response.status_code == 429:
                    self.retried[f"429 {_service(url)}"] += 1
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                if response.status_code < 500:
                    return response
                self.retried[f"{response.status_code} {_service(url)}"] += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {url}: no answer through the chaos")
            await asyncio.sleep(0.3)


@dataclass
class User:
    user_id: uuid.UUID
    username: str
    email: str


@dataclass
class Org:
    organisation_id: uuid.UUID
    name: str
    superuser: User


@dataclass
class Decision:
    request_id: uuid.UUID
    requester: User
    org: Org
    roles: frozenset[tuple[str, str]]
    approve: bool


async def register(client: Client, config: StackConfig, username: str, index: int) -> User:
    """A real registration in identity, with an ID token of the (test) eID gateway."""
    now = int(time.time())
    id_token = jwt.encode(
        {"alg": "ES256", "kid": EID_KEY.kid},
        {
            "iss": f"{config.base_url}/eid",
            "aud": "portal",  # the gateway issues registration tokens to the portal
            "sub": hashlib.sha256(f"{config.database_prefix}{username}".encode()).hexdigest(),
            "given_name": f"Given{index}",
            "family_name": f"Family{index}",
            "acr": "eid",
            "iat": now,
            "exp": now + 600,
        },
        EID_KEY,
    )
    address = f"{username}@chaos.example.be"
    response = await client.call(
        "POST",
        "/api/identity/registrations",
        json={
            "id_token": id_token,
            "email": address,
            "language": "en",
            "phone": "+32 2 511 11 11",
            "username": username,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    return User(uuid.UUID(response.json()["id"]), username, address)


async def bounded(limit: int, jobs: list[Awaitable[Any]]) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(j) for j in jobs))


# --- the chaos -----------------------------------------------------------------------------


@dataclass
class Chaos:
    kills: Counter[str] = field(default_factory=Counter)  # by service
    broker_restarts: int = 0
    smtp_outages: int = 0
    leader_kills: list[str] = field(default_factory=list)
    postgres_restarts: int = 0


async def kill_services(
    client: Client,
    stop: asyncio.Event,
    chaos: Chaos,
    rng: random.Random,
    victims: tuple[str, ...],
) -> None:
    """Every 2-5 s, SIGKILL one process of the ``victims`` services that serves
    at that moment and has run for ``RESPITE`` seconds since its last kill (the
    supervisor restarts it). Of a scaled service, only an instance whose
    siblings all serve: a kill hits one instance while the others carry on. The
    respite matters: the supervisor backs off up to 10 s before restarting a
    process that lived under 30 s, so killing faster keeps the services down
    rather than disturbing them."""
    last_kill: dict[str, float] = {}
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), rng.uniform(2.0, 5.0))
            return
        except TimeoutError:
            pass
        now = time.monotonic()
        children = (await client.call("GET", "/_stack")).json()
        serving: dict[str, bool] = {}
        for name, child in children.items():
            if child["service"] not in victims or not (child["running"] and child["pid"]):
                continue
            try:
                health = await client.http.get(
                    f"http://127.0.0.1:{child['port']}/healthz", timeout=2
                )
            except httpx.HTTPError:
                continue
            serving[name] = health.status_code == 200
        candidates = [
            name
            for name, ok in serving.items()
            if ok
            and now - last_kill.get(name, -RESPITE) >= RESPITE
            and all(
                serving.get(sibling, False)
                for sibling, other in children.items()
                if other["service"] == children[name]["service"]
            )
        ]
        if not candidates:
            continue
        # The service killed least so far first: a short run still hits every victim.
        fewest = min(chaos.kills[children[name]["service"]] for name in candidates)
        victim = rng.choice(
            [name for name in candidates if chaos.kills[children[name]["service"]] == fewest]
        )
        try:
            os.kill(children[victim]["pid"], signal.SIGKILL)
        except ProcessLookupError:
            continue
        chaos.kills[children[victim]["service"]] += 1
        last_kill[victim] = time.monotonic()


@dataclass
class Disturbance:
    """What a scenario's disturbance works with."""

    stack: StackConfig
    smtp_sink: SmtpSink
    chaos: Chaos
    decided: Callable[[int], Awaitable[None]]  # returns once that many decisions are made
    total: int  # the decisions the run will make


def broker_restart_and_smtp_outage(
    broker: PrivateInfra,
) -> Callable[[Disturbance], Awaitable[None]]:
    async def disturb(d: Disturbance) -> None:
        # SMTP down for a while once the first decision mails are flowing.
        await d.decided(100)
        await asyncio.to_thread(d.smtp_sink.stop)
        d.chaos.smtp_outages += 1
        await asyncio.sleep(SMTP_OUTAGE)
        await asyncio.to_thread(d.smtp_sink.start)
        # The broker goes away once, mid-stream, and comes back with its data.
        await d.decided(400)
        await asyncio.to_thread(broker.script, "kafka.sh", "restart")
        d.chaos.broker_restarts += 1

    return disturb


def _leader_node(config: StackConfig) -> int:
    """The node that leads the most partitions of the flow's topics."""
    from confluent_kafka.admin import AdminClient

    from eproc_runtime.bus.kafka import kafka_connection

    admin = AdminClient(kafka_connection(config.kafka_bootstrap).librdkafka_config())
    leaders: Counter[int] = Counter()
    for name, topic in admin.list_topics(timeout=15).topics.items():
        if name.startswith(config.topic_prefix):
            leaders.update(p.leader for p in topic.partitions.values() if p.leader >= 0)
    assert leaders, "no partition of the flow's topics has a leader"
    return leaders.most_common(1)[0][0]


def cluster_faults(cluster: PrivateInfra) -> Callable[[Disturbance], Awaitable[None]]:
    async def disturb(d: Disturbance) -> None:
        # The broker that leads most of the flow's partitions dies (SIGKILL)
        # mid-stream and comes back 10 s later, with its data.
        await d.decided(d.total * 15 // 100)
        node = await asyncio.to_thread(_leader_node, d.stack)
        await asyncio.to_thread(cluster.script, "kafka.sh", "kill", str(node))
        killed = time.monotonic()
        await asyncio.sleep(10)
        await asyncio.to_thread(cluster.script, "kafka.sh", "start")
        d.chaos.leader_kills.append(f"node {node} down {time.monotonic() - killed:.0f}s")
        # PostgreSQL restarts once (every service's connections break).
        await d.decided(d.total * 55 // 100)
        await asyncio.to_thread(cluster.script, "postgres.sh", "restart")
        d.chaos.postgres_restarts += 1

    return disturb


@dataclass
class Scenario:
    name: str
    victims: tuple[str, ...]  # services whose processes the chaos task SIGKILLs
    disturb: Callable[[Disturbance], Awaitable[None]]
    across_edge_instances: bool = False  # sessions and refresh tokens from one edge to another
    buyers: int = BUYERS  # each files PER_BUYER join requests


# --- the test ------------------------------------------------------------------------------


@pytest.mark.timeout(900)
async def test_chaos_run_of_the_whole_join_flow(
    stack: StackConfig,
    own_broker: PrivateInfra,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chaos = await _chaos_run(
        stack,
        smtp_sink,
        capsys,
        Scenario("chaos run", VICTIMS, broker_restart_and_smtp_outage(own_broker)),
    )
    assert chaos.broker_restarts == 1 and chaos.smtp_outages == 1


# 400 join requests: twice the processes of the run above on the same two cores
# keep it within a few minutes of CI (issue 22). EPROC_CLUSTER_CHAOS_BUYERS=200
# gives the full 1,000-request run (docs/operations.md, "Chaos runs"), by hand.
CLUSTER_BUYERS = int(os.environ.get("EPROC_CLUSTER_CHAOS_BUYERS", "80"))


# Twice the processes of the run above on the same two cores, plus two brokers:
# slower, and more so on a machine other suites load.
@pytest.mark.timeout(1800 * max(1, CLUSTER_BUYERS // 80))
async def test_chaos_run_on_a_kafka_cluster_with_two_instances_of_every_service(
    cluster: PrivateInfra,
    scaled_stack: StackConfig,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same run and counts on 3 Kafka nodes (replication factor 3,
    min.insync.replicas=2) and a PostgreSQL of its own, two instances of every
    service behind the proxy: the broker leading most partitions is SIGKILLed
    mid-stream and restarted, PostgreSQL restarts once, and the kills hit one
    instance of a service while the other carries on. Then sessions, refresh
    rotation and revocation are checked across the two edge instances."""
    chaos = await _chaos_run(
        scaled_stack,
        smtp_sink,
        capsys,
        Scenario(
            "cluster chaos run",
            (*VICTIMS, "identity"),
            cluster_faults(cluster),
            across_edge_instances=True,
            buyers=CLUSTER_BUYERS,
        ),
    )
    assert len(chaos.leader_kills) == 1 and chaos.postgres_restarts == 1
    assert all(n is not None for n in cluster.nodes().values()), "a Kafka node is down"


async def _chaos_run(
    stack: StackConfig,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
    scenario: Scenario,
) -> Chaos:
    started = time.monotonic()
    rng = random.Random(20260511)
    tag = stack.database_prefix.rstrip("_")
    # As long as the proxy waits for a service (60 s): a client that gave up
    # earlier would send the same work again while the first attempt still runs.
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=65) as http:
        client = Client(http)

        # --- set-up, before the chaos: users, organisations, their Superusers -----------
        superusers = await bounded(
            4, [register(client, stack, f"{tag}.su{i:02d}", i) for i in range(ORGANISATIONS)]
        )
        buyers = await bounded(
            4, [register(client, stack, f"{tag}.b{i:03d}", 100 + i) for i in range(scenario.buyers)]
        )
        operator = bearer(uuid.uuid4(), operator=True)
        orgs: list[Org] = []
        for i, su in enumerate(superusers):
            name = f"Chaos Org {i:02d} {tag}"
            created = await client.call(
                "POST",
                "/api/organisations/operator/organisations",
                headers=operator,
                json={
                    "names": {"nl": name, "fr": name, "en": name},
                    "enterprise_number": enterprise_number(rng),
                    "address": {
                        "street": "Markt",
                        "number": str(i + 1),
                        "postcode": "9000",
                        "municipality": "Gent",
                    },
                    "superuser_id": str(su.user_id),
                },
            )
            assert created.status_code == 201, created.text
            orgs.append(Org(uuid.UUID(created.json()["id"]), name, su))
        org_by_id = {o.organisation_id: o for o in orgs}
        everyone = [*superusers, *buyers]

        # Every service knows the users and the Superusers before the first request
        # (else a request would rightly be "orphaned" and mailed to nobody).
        async def projections_ready() -> bool:
            counts = [
                await _scalar(stack, "notifier", "SELECT count(*) FROM recipient"),
                await _scalar(stack, "notifier", "SELECT count(*) FROM superuser"),
                await _scalar(stack, "edge", "SELECT count(*) FROM projected_user"),
                await _scalar(stack, "edge", "SELECT count(*) FROM projected_membership"),
                await _scalar(stack, "requests", "SELECT count(*) FROM membership"),
            ]
            seen[:] = counts
            return counts == [
                len(everyone),
                ORGANISATIONS,
                len(everyone),
                ORGANISATIONS,
                ORGANISATIONS,
            ]

        seen: list[int] = []
        await _until(projections_ready, 120, "the projections of users and Superusers", seen)
        setup_seconds = time.monotonic() - started

        # --- the load, under chaos ---------------------------------------------------------
        decisions: dict[uuid.UUID, Decision] = {}
        queue: asyncio.Queue[Decision | None] = asyncio.Queue()
        wanted: dict[tuple[uuid.UUID, uuid.UUID], frozenset[tuple[str, str]]] = {}
        for buyer in buyers:
            for org in rng.sample(orgs, PER_BUYER):
                wanted[(buyer.user_id, org.organisation_id)] = frozenset(rng.choice(ROLE_SETS))

        async def submit(buyer: User) -> None:
            headers = bearer(buyer.user_id)
            mine = {o: r for (b, o), r in wanted.items() if b == buyer.user_id}
            ids = [str(o) for o in mine]
            r = await client.call(
                "POST",
                "/api/requests/basket/entries",
                headers=headers,
                json={"organisation_ids": ids},
            )
            assert r.status_code in (200, 201, 409), r.text
            by_roles: dict[frozenset[tuple[str, str]], list[str]] = defaultdict(list)
            for org_id, roles in mine.items():
                by_roles[roles].append(str(org_id))
            for roles, org_ids in by_roles.items():
                r = await client.call(
                    "PUT",
                    "/api/requests/basket/roles",
                    headers=headers,
                    json={
                        "organisation_ids": org_ids,
                        "roles": [{"application": a, "role": n} for a, n in sorted(roles)],
                    },
                )
                assert r.status_code == 200, r.text
            r = await client.call(
                "POST",
                "/api/requests/basket/submit",
                headers=headers,
                json={"organisation_ids": ids, "justification": "chaos run"},
            )
            # 409/404: an earlier attempt went through and only its answer was lost.
            assert r.status_code in (201, 404, 409), r.text
            listed = await client.call("GET", "/api/requests/requests/mine", headers=headers)
            assert listed.status_code == 200, listed.text
            body = listed.json()
            found = [*body["in_progress"], *body["finished"]]
            assert len(found) == PER_BUYER, f"{buyer.username}: {len(found)} requests, {body}"
            for item in found:
                org = org_by_id[uuid.UUID(item["organisation_id"])]
                decision = Decision(
                    uuid.UUID(item["id"]),
                    buyer,
                    org,
                    mine[org.organisation_id],
                    rng.random() < APPROVE_SHARE,
                )
                decisions[decision.request_id] = decision
                queue.put_nowait(decision)

        decided = 0
        conflicts = Counter[str]()

        async def decide_worker() -> None:
            nonlocal decided
            while (decision := await queue.get()) is not None:
                su = decision.org.superuser
                headers = bearer(su.user_id, organisation=decision.org.organisation_id)
                verb = "approve" if decision.approve else "reject"
                url = f"/api/requests/requests/{decision.request_id}/{verb}"
                body = None if decision.approve else {"reason": "not this time"}
                r = await client.call("POST", url, headers=headers, json=body)
                if r.status_code == 409:
                    # An earlier attempt was committed; its answer was lost to a kill.
                    detail = await client.call(
                        "GET", f"/api/requests/requests/{decision.request_id}", headers=headers
                    )
                    status = detail.json()["status"]
                    expected = {"applying", "completed"} if decision.approve else {"rejected"}
                    assert status in expected, (decision, detail.text)
                    conflicts[verb] += 1
                else:
                    assert r.status_code == 200, r.text
                decided += 1

        chaos = Chaos()
        stop = asyncio.Event()

        async def decided_at_least(count: int) -> bool:
            return decided >= count

        async def wait_decided(count: int) -> None:
            await _until(lambda: decided_at_least(count), 600, f"{count} decisions")

        load_started = time.monotonic()
        killer = asyncio.create_task(kill_services(client, stop, chaos, rng, scenario.victims))
        disturber = asyncio.create_task(
            scenario.disturb(
                Disturbance(stack, smtp_sink, chaos, wait_decided, scenario.buyers * PER_BUYER)
            )
        )
        deciders = [asyncio.create_task(decide_worker()) for _ in range(CONCURRENCY)]
        try:
            await bounded(CONCURRENCY, [submit(b) for b in buyers])
            for _ in deciders:
                queue.put_nowait(None)
            await asyncio.gather(*deciders)
            await disturber
        finally:
            # Also when a client failed: no kill nor outage outlives the load.
            stop.set()
            for task in [*deciders, disturber]:
                task.cancel()
            await asyncio.gather(killer, *deciders, disturber, return_exceptions=True)
            if smtp_sink.process.poll() is not None:
                await asyncio.to_thread(smtp_sink.start)
        load_seconds = time.monotonic() - load_started
        assert len(decisions) == scenario.buyers * PER_BUYER

        # --- settle ----------------------------------------------------------------------------
        approved = [d for d in decisions.values() if d.approve]
        rejected = [d for d in decisions.values() if not d.approve]
        expected_mails = len(decisions) + len(approved) + len(rejected)

        async def settled() -> bool:
            open_requests = await _scalar(
                stack,
                "requests",
                "SELECT count(*) FROM request WHERE status IN ('submitted', 'applying')",
            )
            outboxes = [
                await _scalar(stack, s, "SELECT count(*) FROM outbox")
                for s in ("identity", "organisations", "requests", "edge")
            ]
            unsent = await _scalar(
                stack, "notifier", "SELECT count(*) FROM mail WHERE state <> 'sent'"
            )
            mails = await _scalar(stack, "notifier", "SELECT count(*) FROM mail")
            edge_members = await _scalar(
                stack, "edge", "SELECT count(*) FROM projected_membership WHERE NOT revoked"
            )
            state[:] = [open_requests, outboxes, unsent, mails, edge_members]
            return (
                open_requests == 0
                and not any(outboxes)
                and unsent == 0
                and mails >= expected_mails
                and len(smtp_sink.messages()) >= expected_mails
                and edge_members >= ORGANISATIONS + len(approved)
            )

        state: list[Any] = []
        await _until(settled, 300, "the flow to settle", state)
        await asyncio.sleep(3.0)  # a late duplicate would arrive now
        settle_seconds = time.monotonic() - started - setup_seconds - load_seconds

        # --- memberships -------------------------------------------------------------------
        rows = await _query(
            stack,
            "organisations",
            "SELECT m.id, m.user_id, m.organisation_id, m.is_default, r.application, r.role "
            "FROM membership m LEFT JOIN membership_role r ON r.membership_id = m.id",
        )
        membership_ids: dict[tuple[uuid.UUID, uuid.UUID], set[uuid.UUID]] = defaultdict(set)
        roles_held: dict[tuple[uuid.UUID, uuid.UUID], set[tuple[str, str]]] = defaultdict(set)
        default_org: dict[uuid.UUID, uuid.UUID] = {}
        for row in rows:
            key = (row["user_id"], row["organisation_id"])
            membership_ids[key].add(row["id"])
            if row["application"]:
                roles_held[key].add((row["application"], row["role"]))
            if row["is_default"]:
                default_org[row["user_id"]] = row["organisation_id"]
        approved_keys = {(d.requester.user_id, d.org.organisation_id): d for d in approved}
        rejected_keys = {(d.requester.user_id, d.org.organisation_id) for d in rejected}
        superuser_keys = {(o.superuser.user_id, o.organisation_id) for o in orgs}
        lost_memberships = sum(1 for k in approved_keys if k not in membership_ids)
        doubled_memberships = sum(len(ids) - 1 for ids in membership_ids.values()) + sum(
            1 for k in membership_ids if k not in approved_keys and k not in superuser_keys
        )
        member_of_rejected = sum(1 for k in rejected_keys if k in membership_ids)
        wrong_roles = sum(
            1 for k, d in approved_keys.items() if k in roles_held and roles_held[k] != d.roles
        )
        statuses = {
            r["id"]: r["status"]
            for r in await _query(stack, "requests", "SELECT id, status FROM request")
        }
        wrong_status = sum(
            1
            for d in decisions.values()
            if statuses.get(d.request_id) != ("completed" if d.approve else "rejected")
        )

        # --- mails -------------------------------------------------------------------------
        expected_keys: set[tuple[str, str, str]] = set()
        for d in decisions.values():
            expected_keys.add(("submitted", d.org.superuser.email, str(d.request_id)))
            outcome = "approved" if d.approve else "rejected"
            expected_keys.add((outcome, d.requester.email, d.org.name))
        arrivals: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for message in smtp_sink.messages():
            arrivals[_mail_key(message)].append(str(message["Message-ID"]))
        lost_mails = len(expected_keys - set(arrivals))
        doubled_mails = sum(
            len(set(ids)) - 1 for k, ids in arrivals.items() if k in expected_keys
        ) + sum(len(ids) for k, ids in arrivals.items() if k not in expected_keys)
        resent_mails = sum(len(ids) - len(set(ids)) for ids in arrivals.values())

        # --- the edge: its projection for everyone, and a real next token for everyone -----
        held: dict[uuid.UUID, dict[uuid.UUID, frozenset[tuple[str, str]]]] = defaultdict(dict)
        for user_id, org_id in membership_ids:
            held[user_id][org_id] = frozenset(roles_held[(user_id, org_id)])
        projection_mismatches = await _edge_projection_mismatches(
            stack, [u.user_id for u in everyone], held, default_org
        )
        token_mismatches = await _token_mismatches(client, stack, everyone, held, default_org)
        across_edges: Counter[str] = Counter()
        if scenario.across_edge_instances:
            across_edges = await _across_edge_instances(client, stack, buyers[:EDGE_USERS])

    total_seconds = time.monotonic() - started
    disturbances = (
        f"broker_restarts={chaos.broker_restarts} "
        f"smtp_outages={chaos.smtp_outages}x{SMTP_OUTAGE:.0f}s"
        if not chaos.leader_kills
        else f"leader_kills={chaos.leader_kills} postgres_restarts={chaos.postgres_restarts} "
        f"instances={stack.scale}; across edge instances (users={EDGE_USERS}): "
        f"{dict(across_edges)}"
    )
    with capsys.disabled():  # the counts belong in the CI log, not in captured output
        print(
            f"\n{scenario.name}: requests={len(decisions)} approved={len(approved)} "
            f"rejected={len(rejected)}; {lost_memberships} lost, {doubled_memberships} doubled "
            f"memberships; {lost_mails} lost, {doubled_mails} doubled mails "
            f"(of {len(expected_keys)}; {resent_mails} resent with the same Message-ID after "
            f"a sender kill); members of rejected={member_of_rejected} wrong_roles={wrong_roles} "
            f"wrong_status={wrong_status}; edge projection mismatches={projection_mismatches} "
            f"token mismatches={token_mismatches} (tokens={len(everyone)}); "
            f"kills={dict(sorted(chaos.kills.items()))} {disturbances} "
            f"retried={dict(client.retried)} decided_before={dict(conflicts)}; "
            f"setup {setup_seconds:.0f}s load {load_seconds:.0f}s settle {settle_seconds:.0f}s "
            f"total {total_seconds:.0f}s"
        )
    assert all(chaos.kills[v] > 0 for v in scenario.victims), chaos.kills
    assert lost_memberships == 0 and doubled_memberships == 0
    assert member_of_rejected == 0 and wrong_roles == 0 and wrong_status == 0
    assert lost_mails == 0 and doubled_mails == 0
    assert resent_mails <= chaos.kills["notifier"], "more resends than the stated bound"
    assert projection_mismatches == 0 and token_mismatches == 0
    failed_across = {step: n for step, n in across_edges.items() if not step.startswith("ok")}
    assert not failed_across, across_edges
    return chaos


def _text(message: email.message.Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


_DECISION = re.compile(r"^Your .+ for (?P<org>.+) was (?P<outcome>approved|rejected)$")
_REQUEST_ID = re.compile(r"/superuser/requests/([0-9a-f-]{36})")


def _mail_key(message: email.message.Message) -> tuple[str, str, str]:
    """(kind, recipient, request id or organisation): what one expected mail is."""
    to = str(message["To"]).strip().lower()
    subject = str(make_header(decode_header(str(message["Subject"]))))
    if decision := _DECISION.match(subject):
        return (decision["outcome"], to, decision["org"])
    if subject.startswith("New ") and (found := _REQUEST_ID.search(_text(message))):
        return ("submitted", to, found[1])
    return ("unexpected", to, subject)


async def _edge_projection_mismatches(
    config: StackConfig,
    user_ids: list[uuid.UUID],
    held: dict[uuid.UUID, dict[uuid.UUID, frozenset[tuple[str, str]]]],
    default_org: dict[uuid.UUID, uuid.UUID],
) -> int:
    """Users whose snapshot — read by the edge's own ``load_snapshot`` from its
    database — differs from organisations' memberships, roles or default."""
    from eproc_edge.claims import load_snapshot
    from eproc_runtime.db import create_engine, create_session_factory

    engine = create_engine(database_url(config, "edge"))
    sessions = create_session_factory(engine)
    mismatches = 0
    try:
        async with sessions() as session:
            for user_id in user_ids:
                snapshot = await load_snapshot(session, user_id)
                if snapshot.memberships != held.get(
                    user_id, {}
                ) or snapshot.default_organisation_id != default_org.get(user_id):
                    mismatches += 1
    finally:
        await engine.dispose()
    return mismatches


async def _token_mismatches(
    client: Client,
    config: StackConfig,
    users: list[User],
    held: dict[uuid.UUID, dict[uuid.UUID, frozenset[tuple[str, str]]]],
    default_org: dict[uuid.UUID, uuid.UUID],
) -> int:
    """Users whose next token from the edge (code flow, e-Notification client)
    disagrees with organisations: the active organisation is the default one,
    the roles are the client application's roles there."""
    from eproc_edge.identity_port import Authenticated
    from eproc_edge.service import start_session
    from eproc_edge.settings import Settings as EdgeSettings
    from eproc_runtime.db import create_engine, create_session_factory, unit_of_work

    engine = create_engine(database_url(config, "edge"))
    sessions = create_session_factory(engine)
    cookies: dict[uuid.UUID, str] = {}
    try:
        for user in users:
            async with unit_of_work(sessions) as db:
                _, cookies[user.user_id] = await start_session(
                    db, EdgeSettings(), Authenticated(user.user_id), acr="eid"
                )
    finally:
        await engine.dispose()
    keys = KeySet.import_key_set((await client.call("GET", "/sso/jwks")).json())
    client_id, secret = TOKEN_CLIENT
    redirect_uri = f"{config.base_url}/apps/{client_id}/callback"

    async def mismatch(user: User) -> bool:
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        authorize = await client.call(
            "GET",
            "/sso/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile",
                "state": "s",
                "nonce": secrets.token_urlsafe(12),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
            headers={"Cookie": f"eproc_sso={cookies[user.user_id]}"},
        )
        assert authorize.status_code in (302, 303), authorize.text
        code = parse_qs(urlparse(authorize.headers["location"]).query)["code"][0]
        issued = await client.call(
            "POST",
            "/sso/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
        assert issued.status_code == 200, issued.text
        claims = jwt.decode(issued.json()["access_token"], keys).claims
        memberships = held.get(user.user_id, {})
        active = default_org.get(user.user_id)
        expected_roles = (
            sorted(role for app, role in memberships.get(active, frozenset()) if app == client_id)
            if active
            else []
        )
        return (
            claims.get("org_id") != (str(active) if active else None)
            or sorted(claims.get("roles", [])) != expected_roles
            or bool(claims.get("organisation_choice_required")) != (not memberships)
        )

    results = await bounded(8, [mismatch(u) for u in users])
    return sum(results)


EDGE_USERS = 20


async def _across_edge_instances(
    client: Client, config: StackConfig, users: list[User]
) -> Counter[str]:
    """For each user, one SSO session and one refresh-token family handed from
    one edge instance to the other (the proxy's ``X-Eproc-Instance`` pins the
    instance): a code from edge-1 redeemed at edge-2, a refresh at edge-1, the
    reuse of the first refresh token refused at edge-2 and the rotated one then
    dead at edge-1 (the family is revoked); a second family revoked at edge-2
    is inactive and refused at edge-1. Returns counts by step: ``ok`` when all
    of a user's steps behaved, else the step that did not."""
    from eproc_edge.identity_port import Authenticated
    from eproc_edge.service import start_session
    from eproc_edge.settings import Settings as EdgeSettings
    from eproc_runtime.db import create_engine, create_session_factory, unit_of_work

    engine = create_engine(database_url(config, "edge"))
    sessions = create_session_factory(engine)
    cookies: dict[uuid.UUID, str] = {}
    try:
        for user in users:
            async with unit_of_work(sessions) as db:
                _, cookies[user.user_id] = await start_session(
                    db, EdgeSettings(), Authenticated(user.user_id), acr="eid"
                )
    finally:
        await engine.dispose()
    client_id, secret = TOKEN_CLIENT
    redirect_uri = f"{config.base_url}/apps/{client_id}/callback"
    outcome: Counter[str] = Counter()

    async def on(instance: str, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**kw.pop("headers", {}), "X-Eproc-Instance": instance}
        response = await client.call(method, f"/sso{path}", headers=headers, **kw)
        assert response.headers.get("x-eproc-instance") == instance
        return response

    async def tokens(user: User, authorize_on: str, redeem_on: str) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        authorize = await on(
            authorize_on,
            "GET",
            "/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid profile offline_access",
                "state": "s",
                "nonce": secrets.token_urlsafe(12),
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
            headers={"Cookie": f"eproc_sso={cookies[user.user_id]}"},
        )
        if authorize.status_code not in (302, 303):
            return {"step": f"session not known to {authorize_on}: {authorize.status_code}"}
        code = parse_qs(urlparse(authorize.headers["location"]).query).get("code", [""])[0]
        issued = await on(
            redeem_on,
            "POST",
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
        if issued.status_code != 200 or "refresh_token" not in issued.json():
            return {"step": f"code of {authorize_on} at {redeem_on}: {issued.status_code}"}
        return dict(issued.json())

    async def refresh(instance: str, token: str) -> httpx.Response:
        return await on(
            instance,
            "POST",
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
            auth=(client_id, secret),
        )

    async def one(user: User) -> str:
        first = await tokens(user, "edge-1", "edge-2")
        if "step" in first:
            return str(first["step"])
        rotated = await refresh("edge-1", first["refresh_token"])
        if rotated.status_code != 200:
            return f"refresh at edge-1: {rotated.status_code}"
        if (await refresh("edge-2", first["refresh_token"])).status_code != 400:
            return "reuse of a rotated refresh token accepted at edge-2"
        if (await refresh("edge-1", rotated.json()["refresh_token"])).status_code != 400:
            return "family revoked at edge-2 still alive at edge-1"
        second = await tokens(user, "edge-2", "edge-1")
        if "step" in second:
            return str(second["step"])
        revoked = await on(
            "edge-2",
            "POST",
            "/revoke",
            data={"token": second["refresh_token"]},
            auth=(client_id, secret),
        )
        if revoked.status_code != 200:
            return f"revoke at edge-2: {revoked.status_code}"
        introspected = await on(
            "edge-1",
            "POST",
            "/introspect",
            data={"token": second["refresh_token"]},
            auth=(client_id, secret),
        )
        if introspected.status_code != 200 or introspected.json().get("active"):
            return "token revoked at edge-2 active at edge-1"
        if (await refresh("edge-1", second["refresh_token"])).status_code != 400:
            return "token revoked at edge-2 refreshed at edge-1"
        return "ok"

    for result in await bounded(4, [one(u) for u in users]):
        outcome[result] += 1
    return outcome
