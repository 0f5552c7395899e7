"""Events over a real Kafka broker, and the national number nowhere (R-NF-2)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from uuid import UUID, uuid4

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from eproc_contracts.common import RoleGrant
from eproc_contracts.events import (
    MembershipGranted,
    PlatformOperatorChanged,
    UserProfileChanged,
    UserRegistered,
)
from eproc_contracts.topics import USER, decode
from eproc_runtime.bus.kafka import ensure_topics
from eproc_runtime.logging import configure_logging
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase

from .conftest import NATIONAL_NUMBER, Running, running_identity


@pytest.fixture
async def on_kafka(
    create_database: CreateDatabase, kafka_bootstrap: str, topic_prefix: str
) -> AsyncIterator[Running]:
    """An identity app of its own (fresh database) whose relay publishes to Kafka."""
    await ensure_topics(kafka_bootstrap, [topic_prefix + USER.name])
    url = await create_database("identity_kafka")
    async with running_identity(
        url, bus="kafka", kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix
    ) as running:
        yield running


async def _read_topic(running: Running, count: int, timeout: float = 30) -> list[bytes]:
    """Every message of the identity topic, from the start, once ``count`` are there."""
    consumer = AIOKafkaConsumer(
        running.settings.topic_prefix + USER.name,
        **running.settings.kafka_connection().aiokafka_options(),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = time.monotonic() + timeout
        while len(values) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            values.extend(m.value for messages in batch.values() for m in messages)
        # Anything more (a duplicate, a stray event) would show up now.
        await asyncio.sleep(0.3)
        batch = await consumer.getmany(timeout_ms=300)
        values.extend(m.value for messages in batch.values() for m in messages)
    finally:
        await consumer.stop()
    return values


async def test_user_registered_reaches_kafka_through_the_relay(on_kafka: Running) -> None:
    profile, form = await on_kafka.register(given_name="Lotte", family_name="Claes")

    messages = await _read_topic(on_kafka, 1)

    assert len(messages) == 1
    envelope = decode(messages[0])
    assert envelope.type == UserRegistered.EVENT_TYPE
    assert envelope.producer == "identity"
    assert envelope.partition_key == profile["id"]
    event = envelope.data
    assert isinstance(event, UserRegistered)
    assert event.user_id == UUID(profile["id"])
    assert (event.given_name, event.family_name) == ("Lotte", "Claes")
    assert event.username == form["username"]
    assert event.phone == "+3225111111"


def _forms_of(number: str) -> list[str]:
    """The national number as it could be written: plain, dotted, spaced, its parts."""
    n = number
    return [
        n,
        f"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:]}",
        f"{n[:6]} {n[6:9]} {n[9:]}",
        f"{n[:6]}-{n[6:9]}-{n[9:]}",
    ]


def _containing(haystack: str, number: str) -> list[str]:
    return [form for form in _forms_of(number) if form in haystack]


async def test_the_national_number_appears_nowhere(
    on_kafka: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """A full registration + login + profile edit with the card of 71715100070:
    every table of the database, every published event, every response and the
    captured logs are free of the number, in any notation (R-NF-2)."""
    caplog.set_level(logging.DEBUG)
    running = on_kafka
    structured = io.StringIO()
    with _structlog_into(structured):
        await _full_journey_and_scan(running, caplog, structured)


@contextmanager
def _structlog_into(stream: io.StringIO) -> Iterator[None]:
    """Send the service's structured logs (at DEBUG) to ``stream`` for a while."""
    real = sys.stderr
    sys.stderr = stream
    try:
        configure_logging("identity", level="DEBUG", json=True)
    finally:
        sys.stderr = real
    try:
        yield
    finally:
        configure_logging("identity", level="INFO", json=True)


async def _full_journey_and_scan(
    running: Running, caplog: pytest.LogCaptureFixture, structured: io.StringIO
) -> None:
    subject = running.gateway.subject(NATIONAL_NUMBER)
    assert NATIONAL_NUMBER not in subject

    responses: list[str] = []
    profile, form = await running.register(
        national_number=NATIONAL_NUMBER, given_name="Alice", family_name="Geldof"
    )
    user_id = UUID(profile["id"])
    responses.append(str(profile))
    again = await running.client.post(
        "/registrations",
        json={**form, "id_token": running.gateway.id_token(NATIONAL_NUMBER), "username": "x.y.z"},
    )
    assert again.status_code == 409
    responses.append(again.text)
    eid_login = await running.client.get(
        f"/internal/users/by-eid-subject/{subject}", headers=running.as_edge()
    )
    assert eid_login.status_code == 200
    responses.append(eid_login.text)
    _, operator = await running.operator()
    switched = await running.client.put(
        f"/users/{user_id}/local-login", json={"enabled": True}, headers=operator
    )
    responses.append(switched.text)
    for password in ("wrong password", form["password"]):
        attempt = await running.client.post(
            "/internal/local-login",
            json={"username": form["username"], "password": password, "source_ip": "192.0.2.7"},
            headers=running.as_edge(),
        )
        responses.append(attempt.text)
    assert attempt.status_code == 200
    edited = await running.client.patch(
        "/users/me", json={"job_title": "Buyer"}, headers=running.as_user(user_id)
    )
    responses.append(edited.text)
    contact = await running.client.post(
        "/users/me/contacts", json={"name": "A colleague"}, headers=running.as_user(user_id)
    )
    responses.append(contact.text)
    responses.append((await running.client.get("/audit", headers=operator)).text)

    # Events: what went to Kafka.
    messages = await _read_topic(running, 3)  # the user's two, and the operator's registration
    types = [decode(m).type for m in messages if decode(m).data.user_id == user_id]
    assert types == [UserRegistered.EVENT_TYPE, UserProfileChanged.EVENT_TYPE]
    events = "\n".join(m.decode() for m in messages)

    # Every table of the database, every row, every column, as text.
    dump: list[str] = []
    async with running.app.state.service.engine.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            )
        ).scalars()
        names = sorted(tables)
        for name in names:
            rows = await conn.execute(text(f'SELECT t::text FROM "{name}" t'))  # noqa: S608
            dump.extend(f"{name}: {r}" for r in rows.scalars())
    assert {"user_account", "audit_record", "contact", "login_throttle"} <= set(names)
    database = "\n".join(dump)
    assert "Geldof" in database and "login_throttle" in database  # the scan sees the data

    logs = "\n".join([structured.getvalue(), *(r.getMessage() for r in caplog.records)])
    assert "user_registered" in logs  # the scan sees the logs

    for where, haystack in {
        "database": database,
        "events": events,
        "responses": "\n".join(responses),
        "logs": logs,
    }.items():
        assert _containing(haystack, NATIONAL_NUMBER) == [], where
        # Not even masked by the logging's last line of defence: it never got there.
        assert "[national-number]" not in haystack, where
        assert not re.search(r"(?<!\d)71\D?71\D?51\D?000\D?70(?!\d)", haystack), where


async def test_superuser_projection_is_fed_from_kafka(on_kafka: Running) -> None:
    """MembershipGranted on org.membership.v1 (real broker, the service's own
    consumer group) gives a Superuser the right to edit a member's profile."""
    superuser, _ = await on_kafka.register()
    member, _ = await on_kafka.register()
    su_id, member_id = UUID(superuser["id"]), UUID(member["id"])
    organisation = uuid4()
    roles = [RoleGrant(application="user-management", role="superuser")]

    await on_kafka.publish(
        MembershipGranted(user_id=su_id, organisation_id=organisation, roles=roles)
    )
    await on_kafka.publish(
        MembershipGranted(user_id=member_id, organisation_id=organisation, roles=[])
    )

    async def can_edit() -> bool:
        response = await on_kafka.client.patch(
            f"/users/{member_id}", json={"job_title": "Editor"}, headers=on_kafka.as_user(su_id)
        )
        return response.status_code == 200

    await eventually(can_edit, timeout=60, interval=0.2)


async def test_an_operator_switch_is_published_and_counts_at_once(on_kafka: Running) -> None:
    """Issue 18 finding 8: identity decides operator calls from its own record, not
    from the claim fixed at login (on main a newly granted operator stayed refused,
    and nothing told the edge's live sessions), and publishes the change."""
    operator_id, operator = await on_kafka.operator()
    profile, _form = await on_kafka.register()
    user_id = UUID(profile["id"])
    plain_token = on_kafka.as_user(user_id)  # issued before the grant: no operator claim
    assert (await on_kafka.client.get("/audit", headers=plain_token)).status_code == 403

    path = f"/users/{user_id}/platform-operator"
    granted = await on_kafka.client.put(path, json={"enabled": True}, headers=operator)
    assert granted.status_code == 200
    assert (await on_kafka.client.get("/audit", headers=plain_token)).status_code == 200
    withdrawn = await on_kafka.client.put(path, json={"enabled": False}, headers=operator)
    assert withdrawn.status_code == 200
    stale_claim = on_kafka.as_user(user_id, operator=True)  # issued while still an operator
    refused = await on_kafka.client.get("/audit", headers=stale_claim)
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "operator_required"

    # Registrations (2) and the three switches (the test operator's, grant, withdrawal).
    envelopes = [decode(m) for m in await _read_topic(on_kafka, 5)]
    switches = [
        (e.data.user_id, e.data.platform_operator, e.data.changed_by)
        for e in envelopes
        if isinstance(e.data, PlatformOperatorChanged)
    ]
    # One partition per user: each user's switches keep their order.
    assert [s for s in switches if s[0] == operator_id] == [(operator_id, True, None)]
    assert [s for s in switches if s[0] == user_id] == [
        (user_id, True, operator_id),
        (user_id, False, operator_id),
    ]
