"""Several instances on one database agree (throttling, one account per card),
and the embedded mode (SQLite, in-process bus) runs the same use cases."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from uuid import UUID

from .conftest import Running, national_number, running_identity


async def _enable_local_login(running: Running, user_id: str) -> None:
    response = await running.client.put(
        f"/users/{user_id}/local-login",
        json={"enabled": True},
        headers=(await running.operator())[1],
    )
    assert response.status_code == 200


async def _login(running: Running, username: str, password: str, ip: str) -> int:
    response = await running.client.post(
        "/internal/local-login",
        json={"username": username, "password": password, "source_ip": ip},
        headers=running.as_edge(),
    )
    return response.status_code


async def test_two_instances_share_the_failure_counters(identity: Running, tmp_path: Path) -> None:
    profile, form = await identity.register()
    await _enable_local_login(identity, profile["id"])
    async with running_identity(
        identity.settings.database_url,
        bus="inprocess",
        bus_database_url=f"sqlite+aiosqlite:///{tmp_path}/bus2.db",
    ) as second:
        # The second instance trusts the same edge: give it the first one's issuer.
        second.app.state.token_verifier = identity.app.state.token_verifier
        second.issuer = identity.issuer
        limit = identity.settings.login_max_failures_per_account
        instances = [identity, second]
        # Concurrent failures, spread over both instances and many addresses.
        codes = await asyncio.gather(
            *(
                _login(instances[n % 2], form["username"], "wrong password", f"192.0.2.{n}")
                for n in range(limit)
            )
        )
        assert codes == [401] * limit
        for running in instances:
            assert await _login(running, form["username"], form["password"], "198.51.100.1") == 429


async def test_a_card_registering_twice_at_the_same_moment_gets_one_account(
    identity: Running,
) -> None:
    number = national_number(900 + uuid.uuid4().int % 90)
    forms = [
        {
            "id_token": identity.gateway.id_token(number),
            "email": f"race{n}@example.be",
            "language": "de",
            "phone": "+49 30 901820",
            "username": f"race.{n}.{uuid.uuid4().hex[:6]}",
            "password": "twelve chars at least",
        }
        for n in range(4)
    ]

    responses = await asyncio.gather(
        *(identity.client.post("/registrations", json=f) for f in forms)
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409], [r.text for r in responses]
    created = next(r for r in responses if r.status_code == 201).json()
    assert created["phone"] == "+4930901820"  # international notation accepted


async def test_the_embedded_mode_on_sqlite(tmp_path: Path) -> None:
    async with running_identity(
        f"sqlite+aiosqlite:///{tmp_path}/identity.db",
        bus="inprocess",
        bus_database_url=f"sqlite+aiosqlite:///{tmp_path}/bus.db",
    ) as running:
        profile, form = await running.register()
        me = running.as_user(UUID(profile["id"]))
        added = await running.client.post(
            "/users/me/contacts", json={"name": "Élodie Noël"}, headers=me
        )
        assert added.status_code == 201
        found = await running.client.get("/users/me/contacts", params={"q": "noel"}, headers=me)
        assert found.json()["total"] == 1
        await _enable_local_login(running, profile["id"])
        limit = running.settings.login_max_failures_per_account
        for n in range(limit):
            assert await _login(running, form["username"], "bad", f"192.0.2.{n}") == 401
        assert await _login(running, form["username"], form["password"], "192.0.2.99") == 429
    from eproc_runtime.messaging import _log_brokers

    for url in [u for u in _log_brokers if str(tmp_path) in u]:
        await _log_brokers.pop(url).stop()
