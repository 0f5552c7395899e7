"""SSO edge: how fast a membership change reaches the next token, and the token
endpoint's latency.

    uv run python bench/edge_tokens.py [--changes 100] [--requests 500]

Starts the edge (uvicorn, PostgreSQL, Kafka) in this process with a stand-in
for identity's login check, logs a user in through the local-login form, then:

- *Membership event to token*: publishes a ``MembershipGranted`` envelope to
  Kafka, as the organisations service does once a Superuser's approval is
  applied, and refreshes the application's token until it carries the new
  role (the edge's leg of "approval to token": consumer, projection, cache
  invalidation, token issue).
- *Token endpoint*: sequential refresh grants (rotation, claims from the
  cached projection, ES256 signing) and client-credentials grants.

Writes the "SSO edge" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, percentile, write_section

from eproc_contracts import events as ev
from eproc_contracts.common import Language, RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import encode, topic_of
from eproc_edge.identity_port import Authenticated, LoginRefused
from eproc_edge.main import create_app
from eproc_edge.settings import ClientConfig, Settings
from eproc_runtime.bus.base import Record
from eproc_runtime.bus.kafka import KafkaPublisher
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra

CLIENT = "e-notification"
SECRET = "bench-secret"  # noqa: S105 - a throwaway client of the benchmark
REDIRECT = "http://rp.bench/callback"


class StandInIdentity:
    """Identity's login check stood in: every login is ``user_id``'s, or, without
    one, the user whose id is the username."""

    def __init__(self, user_id: uuid.UUID | None) -> None:
        self.user_id = user_id

    async def check_password(
        self, username: str, password: str, source_ip: str, device_token: str | None = None
    ) -> Authenticated | LoginRefused:
        return Authenticated(self.user_id or uuid.UUID(username))

    async def find_by_eid_subject(self, subject: str) -> Authenticated | None:
        return None

    async def password_login_for_everyone(self) -> bool:
        return True


async def _database() -> str:
    """A fresh PostgreSQL database for the edge (asyncpg URL)."""
    admin = infra.postgres_url()
    name = f"bench_edge_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return infra.async_url(admin).rsplit("/", 1)[0] + f"/{name}"


async def _login(http: httpx.AsyncClient, base: str, username: str = "u") -> dict[str, Any]:
    """Local login through the form, then code + PKCE: the first tokens."""
    page = await http.get(f"{base}/login")
    csrf = page.text.split("name='csrf' value='", 1)[1].split("'", 1)[0]
    await http.post(
        f"{base}/login/local",
        data={"username": username, "password": "p", "return_to": "/authorize?", "csrf": csrf},
    )
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": "openid profile offline_access",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    response = await http.get(f"{base}/authorize?{urlencode(params)}")
    code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
    response = await http.post(
        f"{base}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(CLIENT, SECRET),
    )
    return dict(response.json())


def edge_settings(url: str, base: str, prefix: str) -> Settings:
    """The edge as the benchmarks run it: one application client, quiet logs; its
    consumer group is its own (``prefix``), never shared with another run on the broker."""
    return Settings(
        service_name=prefix + "edge",
        database_url=url,
        kafka_bootstrap=infra.kafka_bootstrap(),
        topic_prefix=prefix,
        token_issuer=base,
        session_cookie_secure=False,
        log_level="WARNING",
        clients=[
            ClientConfig(
                client_id=CLIENT,
                client_secret=SECRET,
                name="e-Notification",
                application=CLIENT,
                redirect_uris=[REDIRECT],
                home_url="http://rp.bench/",
                login_url="http://rp.bench/login",
            )
        ],
    )


async def run(changes: int, requests: int) -> dict[str, Any]:
    url = await _database()
    await upgrade_async("eproc_edge", url)
    port = infra.free_port()
    base = f"http://127.0.0.1:{port}"
    prefix = f"b{uuid.uuid4().hex[:8]}."
    settings = edge_settings(url, base, prefix)
    user_id = uuid.uuid4()
    app = create_app(settings, identity=StandInIdentity(user_id))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the server failed to start: raise its error
        await asyncio.sleep(0.05)
    publisher = KafkaPublisher(settings.kafka_bootstrap, client_id="bench")
    await publisher.start()

    async def publish(payload: Any) -> None:
        envelope = Envelope.wrap(payload, producer="organisations")
        topic = prefix + topic_of(payload).name
        await publisher.publish([Record(topic, envelope.partition_key, encode(envelope))])

    event_to_token: list[float] = []
    refresh_ms: list[float] = []
    client_ms: list[float] = []
    try:
        await publish(
            ev.UserRegistered(
                user_id=user_id,
                username="bench",
                given_name="Bench",
                family_name="Mark",
                email="bench@example.be",
                language=Language.NL,
                phone="+32 2 000 00 00",
            )
        )
        async with httpx.AsyncClient(timeout=10) as http:
            tokens = await _login(http, base)

            async def refresh() -> dict[str, Any]:
                nonlocal tokens
                response = await http.post(
                    f"{base}/token",
                    data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                    auth=(CLIENT, SECRET),
                )
                if response.status_code != 200:
                    raise RuntimeError(
                        f"refresh refused: {response.text} after {len(event_to_token)} changes, {len(refresh_ms)} refreshes"
                    )
                tokens = dict(response.json())
                claims = app.state.edge.server.verify_access_token(tokens["access_token"])
                return dict(claims or {})

            for i in range(changes):
                org = uuid.uuid4()
                role = f"role-{i}"
                started = time.perf_counter()
                await publish(
                    ev.MembershipGranted(
                        user_id=user_id,
                        organisation_id=org,
                        roles=[RoleGrant(application=CLIENT, role=role)],
                    )
                )
                await publish(ev.DefaultOrganisationChanged(user_id=user_id, organisation_id=org))
                while True:
                    claims = await refresh()
                    if claims.get("org_id") == str(org) and role in claims.get("roles", []):
                        break
                event_to_token.append((time.perf_counter() - started) * 1000)
                await publish(
                    ev.MembershipRevoked(
                        user_id=user_id, organisation_id=org, reason=ev.RevocationReason.LEFT
                    )
                )
            for _ in range(requests):
                started = time.perf_counter()
                await refresh()
                refresh_ms.append((time.perf_counter() - started) * 1000)
            for _ in range(requests):
                started = time.perf_counter()
                response = await http.post(
                    f"{base}/token",
                    data={"grant_type": "client_credentials"},
                    auth=(CLIENT, SECRET),
                )
                response.raise_for_status()
                client_ms.append((time.perf_counter() - started) * 1000)
    finally:
        await publisher.stop()
        server.should_exit = True
        await task
        conn = await asyncpg.connect(infra.postgres_url())
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        await conn.close()
    return {"event": event_to_token, "refresh": refresh_ms, "client": client_ms}


def _row(name: str, values: list[float]) -> str:
    return (
        f"| {name} | {len(values)} | {percentile(values, 50):.1f} | {percentile(values, 99):.1f} |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    result = await run(args.changes, args.requests)
    body = "\n".join(
        [
            "## SSO edge: membership change to token, token endpoint",
            "",
            f"`uv run python bench/edge_tokens.py --changes {args.changes} --requests "
            f"{args.requests}` — {machine()}; the edge (uvicorn), its PostgreSQL, Kafka and "
            "the HTTP client on the same machine (load average "
            f"{os.getloadavg()[0]:.1f} at the end of the run).",
            "",
            "- *Membership event to token* (the edge's leg of approval to token): from "
            "publishing `MembershipGranted` + `DefaultOrganisationChanged` on Kafka (what the "
            "organisations service does once an approval is applied) until a refreshed token "
            "of the application carries the new role and organisation; the client refreshes "
            "back to back while it waits.",
            "- *Refresh grant*: rotation, reuse check, claims from the cached projection, "
            "ES256 access token + new refresh token. *Client credentials*: client "
            "authentication and an ES256 token.",
            "",
            "| measure | samples | p50 (ms) | p99 (ms) |",
            "|---|---|---|---|",
            _row("membership event to token", result["event"]),
            _row("refresh grant", result["refresh"]),
            _row("client credentials grant", result["client"]),
        ]
    )
    write_section("edge-tokens", body)
    print(body)


if __name__ == "__main__":
    asyncio.run(main())
