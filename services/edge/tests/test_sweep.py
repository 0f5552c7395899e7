"""What has expired is forgotten: the ``jti`` of private_key_jwt assertions past their
expiry and initial access tokens past their end are swept by the edge's background job
(``expired-rows``), while what is still valid stays: a live assertion's ``jti`` is still
refused on replay, a live initial access token still registers."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from eproc_edge.models import client_assertion, registration_token
from eproc_edge.sweep import ExpiredRowsSweep, sweep_expired
from eproc_runtime.db import unit_of_work

from .conftest import EdgeServer


async def test_expired_assertions_and_initial_tokens_are_swept_and_live_ones_kept(
    edge_server: EdgeServer,
) -> None:
    sessions = edge_server.app.state.service.sessions
    now = datetime.now(UTC)
    client = f"sweep-{secrets.token_hex(3)}"
    hashes = {name: secrets.token_hex(32) for name in ("expired", "live", "client")}
    async with unit_of_work(sessions) as db:
        await db.execute(
            client_assertion.insert(),
            [
                {"client_id": client, "jti": "old", "expires_at": now - timedelta(minutes=1)},
                {"client_id": client, "jti": "new", "expires_at": now + timedelta(minutes=1)},
            ],
        )
        common = {"issued_by": uuid.uuid4(), "created_at": now - timedelta(days=2)}
        await db.execute(
            registration_token.insert(),
            [
                {
                    "token_hash": hashes["expired"],
                    "kind": "initial",
                    "client_id": None,
                    "uses_left": 1,
                    "expires_at": now - timedelta(hours=1),
                    **common,
                },
                {
                    "token_hash": hashes["live"],
                    "kind": "initial",
                    "client_id": None,
                    "uses_left": 1,
                    "expires_at": now + timedelta(hours=1),
                    **common,
                },
                # A client's registration access token: not the sweep's business.
                {
                    "token_hash": hashes["client"],
                    "kind": "client",
                    "client_id": client,
                    "uses_left": None,
                    "expires_at": None,
                    **common,
                },
            ],
        )

    async with unit_of_work(sessions) as db:
        swept = await sweep_expired(db, now)
    assert swept.assertions >= 1 and swept.initial_tokens >= 1

    async with sessions() as db:
        jtis = await db.scalars(
            select(client_assertion.c.jti).where(client_assertion.c.client_id == client)
        )
        assert list(jtis) == ["new"]
        tokens = await db.scalars(
            select(registration_token.c.token_hash).where(
                registration_token.c.token_hash.in_(hashes.values())
            )
        )
        assert set(tokens) == {hashes["live"], hashes["client"]}
        left = await db.scalar(
            select(func.count())
            .select_from(client_assertion)
            .where(client_assertion.c.expires_at < now)
        )
        assert left == 0

    # The sweep runs by itself on every edge instance, as one of its background jobs.
    assert isinstance(edge_server.app.state.service.jobs["expired-rows"], ExpiredRowsSweep)
