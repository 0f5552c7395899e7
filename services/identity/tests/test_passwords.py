"""Password change and reset by an emailed single-use link (R-PWD-1): the policy
with field-level codes, the old password refused afterwards, the link's token
stored only as a digest, sealed on the bus, single use, expiring, and the same
answer whether or not an account matched."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import PasswordChange, PasswordChanged, PasswordResetRequested
from eproc_contracts.topics import PASSWORD_RESET, USER, decode
from eproc_identity.models import audit_record, password_reset
from eproc_identity.repository import PasswordResets
from eproc_runtime.bus.kafka import ensure_topics
from eproc_runtime.db import unit_of_work
from eproc_runtime.sealing import Sealer
from eproc_runtime.testing.plugin import CreateDatabase

from .conftest import Running, running_identity


def _ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"


async def _enable(identity: Running, user_id: str) -> None:
    operator = (await identity.operator())[1]
    switched = await identity.client.put(
        f"/users/{user_id}/local-login", json={"enabled": True}, headers=operator
    )
    assert switched.status_code == 200, switched.text


async def _password_user(
    identity: Running, **overrides: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    profile, form = await identity.register(**overrides)
    await _enable(identity, profile["id"])
    return profile, form


async def _login(identity: Running, username: str, password: str) -> int:
    response = await identity.client.post(
        "/internal/local-login",
        json={"username": username, "password": password, "source_ip": _ip()},
        headers=identity.as_edge(),
    )
    return response.status_code


async def _actions(identity: Running, user_id: str) -> list[str]:
    async with identity.app.state.service.sessions() as session:
        rows = await session.scalars(
            select(audit_record.c.action)
            .where(audit_record.c.target_user_id == UUID(user_id))
            .order_by(audit_record.c.occurred_at)
        )
        return list(rows)


def _problems(response: httpx.Response) -> dict[str, str]:
    return {e["field"]: e["code"] for e in response.json()["detail"]["errors"]}


async def test_a_user_changes_the_password_with_the_current_one(identity: Running) -> None:
    profile, form = await _password_user(identity)
    me = identity.as_user(UUID(profile["id"]), sid="session-of-this-browser")
    mine = (await identity.client.get("/users/me", headers=me)).json()
    assert mine["local_login_allowed"] is True

    wrong = await identity.client.post(
        "/users/me/password",
        json={"current_password": "not my password", "new_password": "a brand new phrase 42"},
        headers=me,
    )
    assert wrong.status_code == 422
    assert _problems(wrong) == {"current_password": "wrong_password"}

    weak = await identity.client.post(
        "/users/me/password",
        json={"current_password": form["password"], "new_password": "short"},
        headers=me,
    )
    assert weak.status_code == 422
    assert _problems(weak) == {"new_password": "password_too_short"}
    named = await identity.client.post(
        "/users/me/password",
        json={"current_password": form["password"], "new_password": f"{form['username']}-2026!!"},
        headers=me,
    )
    assert _problems(named) == {"new_password": "password_contains_username"}
    # Refused: nothing changed.
    assert await _login(identity, form["username"], form["password"]) == 200

    changed = await identity.client.post(
        "/users/me/password",
        json={"current_password": form["password"], "new_password": "a brand new phrase 42"},
        headers=me,
    )
    assert changed.status_code == 204, changed.text
    assert await _login(identity, form["username"], form["password"]) == 401
    assert await _login(identity, form["username"], "a brand new phrase 42") == 200
    assert "password.changed" in await _actions(identity, profile["id"])


async def test_without_password_login_there_is_no_password_to_change(identity: Running) -> None:
    profile, form = await identity.register()
    me = identity.as_user(UUID(profile["id"]))
    mine = (await identity.client.get("/users/me", headers=me)).json()
    assert mine["local_login_allowed"] is False
    refused = await identity.client.post(
        "/users/me/password",
        json={"current_password": form["password"], "new_password": "a brand new phrase 42"},
        headers=me,
    )
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "local_login_disabled"


async def _ask_reset(identity: Running, login: str) -> tuple[int, float]:
    started = time.monotonic()
    response = await identity.client.post(
        "/internal/password-reset",
        json={"login": login, "source_ip": _ip()},
        headers=identity.as_edge(),
    )
    return response.status_code, time.monotonic() - started


async def test_an_expired_or_unknown_link_is_refused_and_changes_nothing(identity: Running) -> None:
    profile, form = await _password_user(identity)
    token = "expired-" + uuid.uuid4().hex
    async with unit_of_work(identity.app.state.service.sessions) as session:
        await PasswordResets(session).add(
            hashlib.sha256(token.encode()).hexdigest(),
            UUID(profile["id"]),
            datetime.now(UTC) - timedelta(hours=2),
            timedelta(minutes=30),
        )
    for given, code in ((token, "reset_link_expired"), ("never-issued", "reset_link_unknown")):
        link = await identity.client.post(
            "/internal/password-reset/link", json={"token": given}, headers=identity.as_edge()
        )
        assert (link.status_code, link.json()["detail"]["code"]) == (410, code)
        reset = await identity.client.post(
            "/internal/password-reset/password",
            json={"token": given, "new_password": "a brand new phrase 42"},
            headers=identity.as_edge(),
        )
        assert (reset.status_code, reset.json()["detail"]["code"]) == (410, code)
    assert await _login(identity, form["username"], form["password"]) == 200


async def test_reset_requests_are_limited_per_login_asked_for(identity: Running) -> None:
    """The default: 3 per 15 minutes for one login, whichever address asks."""
    login = f"nobody-{uuid.uuid4().hex[:8]}"
    answers = [(await _ask_reset(identity, login))[0] for _ in range(4)]
    assert answers == [202, 202, 202, 429]
    assert (await _ask_reset(identity, f"other-{login}"))[0] == 202


async def test_only_the_edge_asks_for_reset_links(identity: Running) -> None:
    profile, _ = await _password_user(identity)
    response = await identity.client.post(
        "/internal/password-reset",
        json={"login": "x", "source_ip": _ip()},
        headers=identity.as_user(UUID(profile["id"])),
    )
    assert response.status_code == 403


# --- over Kafka: what the notifier and the edge receive ----------------------------------


@pytest.fixture
async def on_kafka(
    create_database: CreateDatabase, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[Running]:
    await ensure_topics(kafka_bootstrap, [topic_prefix + t.name for t in (USER, PASSWORD_RESET)])
    url = await create_database("identity_pwd")
    async with running_identity(
        url,
        bus="kafka",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        password_reset_answer_seconds=0.3,
    ) as running:
        yield running


async def _events(running: Running, topic: str, event_type: str, count: int) -> list[Envelope[Any]]:
    """The events of ``event_type`` on ``topic`` from the start, once ``count`` are
    there (and a moment more, so that an extra one would show)."""
    consumer = AIOKafkaConsumer(
        running.settings.topic_prefix + topic,
        **running.settings.kafka_connection().aiokafka_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    raw: list[bytes] = []
    try:
        deadline = time.monotonic() + 30
        found: list[Envelope[Any]] = []
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            raw.extend(m.value for messages in batch.values() for m in messages if m.value)
            found = [e for e in map(decode, raw) if e.type == event_type]
            if len(found) >= count:
                await asyncio.sleep(0.3)
                batch = await consumer.getmany(timeout_ms=300)
                raw.extend(m.value for messages in batch.values() for m in messages if m.value)
                break
    finally:
        await consumer.stop()
    return [e for e in map(decode, raw) if e.type == event_type]


async def test_a_reset_link_is_sealed_on_the_bus_and_works_once(on_kafka: Running) -> None:
    running = on_kafka
    profile, form = await _password_user(running, language="fr")
    without, without_form = await running.register()  # no password login: no mail

    # The same answer, never sooner than the floor, for every case.
    for login in (
        f"unknown-{uuid.uuid4().hex[:6]}",
        "nobody@example.be",
        without_form["username"],
        form["email"].upper(),
    ):
        status, took = await _ask_reset(running, login)
        assert status == 202
        assert took >= 0.3

    [envelope] = await _events(running, PASSWORD_RESET.name, PasswordResetRequested.EVENT_TYPE, 1)
    event = envelope.data
    assert isinstance(event, PasswordResetRequested)
    assert (event.user_id, event.email, str(event.language)) == (
        UUID(profile["id"]),
        form["email"],
        "fr",
    )
    token = Sealer(running.settings.password_reset_key.get_secret_value()).open(event.sealed_token)
    assert token not in envelope.model_dump_json()
    async with running.app.state.service.sessions() as session:
        digests = list(
            await session.scalars(
                select(password_reset.c.token_digest).where(
                    password_reset.c.user_id == UUID(profile["id"])
                )
            )
        )
    assert digests == [hashlib.sha256(token.encode()).hexdigest()]

    edge = running.as_edge()
    link = await running.client.post(
        "/internal/password-reset/link", json={"token": token}, headers=edge
    )
    assert link.status_code == 200 and link.json()["language"] == "fr"
    weak = await running.client.post(
        "/internal/password-reset/password",
        json={"token": token, "new_password": "short"},
        headers=edge,
    )
    assert weak.status_code == 422 and _problems(weak) == {"new_password": "password_too_short"}
    done = await running.client.post(
        "/internal/password-reset/password",
        json={"token": token, "new_password": "a brand new phrase 42"},
        headers=edge,
    )
    assert done.status_code == 204, done.text
    assert await _login(running, form["username"], "a brand new phrase 42") == 200
    assert await _login(running, form["username"], form["password"]) == 401
    again = await running.client.post(
        "/internal/password-reset/password",
        json={"token": token, "new_password": "yet another phrase 43"},
        headers=edge,
    )
    assert (again.status_code, again.json()["detail"]["code"]) == (410, "reset_link_used")
    assert await _login(running, form["username"], "a brand new phrase 42") == 200

    # A change from a session keeps that session; the reset kept none.
    me = running.as_user(UUID(profile["id"]), sid="the-browser-of-the-change")
    changed = await running.client.post(
        "/users/me/password",
        json={"current_password": "a brand new phrase 42", "new_password": "the third phrase 44"},
        headers=me,
    )
    assert changed.status_code == 204
    changes = await _events(running, USER.name, PasswordChanged.EVENT_TYPE, 2)
    assert [(e.data.user_id, e.data.how, e.data.kept_session_id) for e in changes] == [
        (UUID(profile["id"]), PasswordChange.RESET, None),
        (UUID(profile["id"]), PasswordChange.CHANGED, "the-browser-of-the-change"),
    ]
    assert [a for a in await _actions(running, profile["id"]) if a.startswith("password.")] == [
        "password.reset_requested",
        "password.reset",
        "password.changed",
    ]
    assert not [a for a in await _actions(running, without["id"]) if a.startswith("password.")]
