"""Fixtures of the identity service's tests: a real PostgreSQL database, the app
with its lifespan (relay and consumer running), a test eID gateway minting ID
tokens, and the edge's test token issuer."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.topics import encode, topic_of
from eproc_identity.eid_token import EidTokenVerifier
from eproc_identity.main import create_app
from eproc_identity.settings import Settings
from eproc_runtime.bus.base import Record
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

EID_ISSUER = "https://eid.test.invalid"
EID_AUDIENCE = "eproc-portal"
GATEWAY_HMAC_KEY = b"the gateway's own secret, never known to identity"
NATIONAL_NUMBER = "71715100070"  # valid check digits (EID.md), a test person
EDGE_CLIENT = "edge"

_numbers = itertools.count(1)


def national_number(n: int) -> str:
    """A distinct, valid national number (born 1985, check digits right)."""
    body = f"850101{n % 1000:03d}"
    return body + f"{97 - int(body) % 97:02d}"


class EidGateway:
    """Stands in for the eID gateway: signs ID tokens like it does (ES256 or RS256)."""

    def __init__(self) -> None:
        self.ec_key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
        self.rsa_key = RSAKey.generate_key(2048, parameters={"alg": "RS256"}, auto_kid=True)
        self.keys = KeySet([self.ec_key, self.rsa_key])

    def subject(self, number: str) -> str:
        return hmac.new(GATEWAY_HMAC_KEY, number.encode(), hashlib.sha256).hexdigest()

    def verifier(self) -> EidTokenVerifier:
        public = KeySet.import_key_set(self.keys.as_dict(private=False))
        return EidTokenVerifier(issuer=EID_ISSUER, audience=EID_AUDIENCE, keys=public)

    def id_token(
        self,
        number: str,
        *,
        given_name: str = "Jan",
        family_name: str = "Peeters",
        lifetime: int = 120,
        alg: str = "ES256",
        issuer: str = EID_ISSUER,
        key: Any = None,
        **extra: Any,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": EID_AUDIENCE,
            "sub": self.subject(number),
            "given_name": given_name,
            "family_name": family_name,
            "acr": "urn:be:fedict:iam:fas:Level500",
            "iat": now - 1,
            "exp": now + lifetime,
            "nonce": uuid.uuid4().hex,
            **extra,
        }
        signing_key = key or (self.ec_key if alg == "ES256" else self.rsa_key)
        return jwt.encode({"alg": alg, "kid": signing_key.kid}, claims, signing_key)


@dataclass
class Running:
    """An identity app with its lifespan running, and a client to call it."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    issuer: TestIssuer
    gateway: EidGateway

    def as_user(self, user_id: UUID, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.user_token(user_id, **kwargs)}"}

    def as_edge(self, client_id: str = EDGE_CLIENT) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.client_token(client_id)}"}

    async def operator(self) -> tuple[UUID, dict[str, str]]:
        """A registered user whom identity's own record makes a platform operator
        (the first operator's way in: no API caller), with an operator token."""
        from eproc_identity.service.local_login import set_operator
        from eproc_runtime.db import unit_of_work

        profile, _ = await self.register()
        user_id = UUID(profile["id"])
        async with unit_of_work(self.app.state.service.sessions) as session:
            await set_operator(session, user_id, True, caller=None, reason="test operator")
        return user_id, self.as_user(user_id, operator=True)

    async def publish(self, payload: Payload) -> None:
        """Publish an event of another service on the bus this app consumes."""
        envelope = Envelope.wrap(payload, producer="organisations")
        publisher = self.app.state.service.messaging.publisher
        topic = self.settings.topic_prefix + topic_of(payload).name
        await publisher.publish([Record(topic, envelope.partition_key, encode(envelope))])

    async def register(self, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Register a fresh user; returns (profile, form)."""
        n = next(_numbers)
        number = overrides.pop("national_number", None) or national_number(n)
        names = {k: overrides.pop(k) for k in ("given_name", "family_name") if k in overrides}
        form = {
            "id_token": self.gateway.id_token(number, **names),
            "email": f"user{n}@example.be",
            "language": "nl",
            "phone": "02 511 11 11",
            "username": f"user{n}.{uuid.uuid4().hex[:6]}",
            "password": f"pass phrase number {uuid.uuid4().hex[:8]}",
            **overrides,
        }
        response = await self.client.post("/registrations", json=form)
        assert response.status_code == 201, response.text
        return response.json(), form


TEST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_cost": 1024, "argon2_parallelism": 1}


@asynccontextmanager
async def running_identity(database_url: str, **settings: Any) -> AsyncIterator[Running]:
    """Migrate, start the app's lifespan (relay, consumer) and yield a client."""
    await upgrade_async("eproc_identity", database_url)
    config = Settings(
        database_url=database_url,
        edge_client_ids=[EDGE_CLIENT],
        relay_idle_interval=0.02,
        consumer_retry_backoff=0.01,
        log_json=True,
        **{**TEST_ARGON2, **settings},
    )
    issuer = TestIssuer()
    gateway = EidGateway()
    app = create_app(
        config, token_verifier=issuer.verifier(), eid_token_verifier=gateway.verifier()
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://identity") as client:
            yield Running(app, client, config, issuer, gateway)


@pytest.fixture(scope="session")
async def identity(
    create_database: CreateDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    """One identity app on its own PostgreSQL database for the API tests.

    The bus is the in-process log (a SQLite file): these tests are about the API
    and the database; the Kafka tests start their own app on Kafka.
    """
    bus_dir: Path = tmp_path_factory.mktemp("identity-bus")
    url = await create_database("identity")
    async with running_identity(
        url, bus="inprocess", bus_database_url=f"sqlite+aiosqlite:///{bus_dir}/bus.db"
    ) as running:
        yield running
    from eproc_runtime.messaging import _log_brokers

    for broker in _log_brokers.values():
        await broker.stop()
    _log_brokers.clear()
