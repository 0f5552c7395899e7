"""Local login: off by default, switched by the operator with an audit trail
(R-LOGIN-2, R-NF-1), the edge's password check with rehashing, throttling
(R-LOGIN-3), and the edge's eID lookup."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select, update

from eproc_identity.models import audit_record, login_throttle, user_account
from eproc_identity.service.common import Identity

from .conftest import Running, national_number


def _ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"


async def _login(
    identity: Running,
    username: str,
    password: str,
    source_ip: str | None = None,
    *,
    device: str | None = None,
) -> httpx.Response:
    body = {"username": username, "password": password, "source_ip": source_ip or _ip()}
    if device:
        body["device_token"] = device
    return await identity.client.post(
        "/internal/local-login", json=body, headers=identity.as_edge()
    )


async def _audits(identity: Running, **where: Any) -> list[Any]:
    async with identity.app.state.service.sessions() as session:
        query = select(audit_record).order_by(audit_record.c.occurred_at)
        for column, value in where.items():
            query = query.where(audit_record.c[column] == value)
        return list((await session.execute(query)).all())


async def test_local_login_is_off_until_the_operator_switches_it_on(identity: Running) -> None:
    profile, form = await identity.register()
    user_id = UUID(profile["id"])
    operator_id, operator = await identity.operator()

    refused = await _login(identity, form["username"], form["password"])
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "local_login_disabled"

    switched = await identity.client.put(
        f"/users/{user_id}/local-login",
        json={"enabled": True, "reason": "no eID card"},
        headers=operator,
    )
    assert switched.status_code == 200
    assert switched.json() == {"user_id": str(user_id), "local_login_enabled": True}

    allowed = await _login(identity, form["username"].upper(), form["password"])
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["user_id"] == str(user_id)
    assert allowed.json()["given_name"] == profile["given_name"]

    off = await identity.client.put(
        f"/users/{user_id}/local-login", json={"enabled": False}, headers=operator
    )
    assert off.status_code == 200
    assert (await _login(identity, form["username"], form["password"])).status_code == 403

    audits = await _audits(identity, target_user_id=user_id)
    assert [
        (a.action, a.actor_id, a.detail["enabled"], a.detail["previously"]) for a in audits
    ] == [
        ("local_login.user_switched", operator_id, True, False),
        ("local_login.user_switched", operator_id, False, True),
    ]
    assert audits[0].detail["reason"] == "no eID card"
    assert all(a.occurred_at is not None for a in audits)
    # The operator reads the trail through the API too.
    trail = await identity.client.get("/audit", params={"user_id": str(user_id)}, headers=operator)
    assert [r["detail"]["enabled"] for r in trail.json()] == [False, True]


async def test_the_global_switch_opens_local_login_for_everyone(identity: Running) -> None:
    _profile, form = await identity.register()
    operator_id, operator = await identity.operator()
    assert (await _login(identity, form["username"], form["password"])).status_code == 403
    policy = await identity.client.get("/local-login/policy", headers=operator)
    assert policy.json()["local_login_enabled"] is False

    on = await identity.client.put(
        "/local-login/policy", json={"enabled": True, "reason": "eID outage"}, headers=operator
    )
    try:
        assert on.status_code == 200
        assert on.json()["local_login_enabled"] is True
        assert (await _login(identity, form["username"], form["password"])).status_code == 200
    finally:
        off = await identity.client.put(
            "/local-login/policy", json={"enabled": False}, headers=operator
        )
    assert off.json()["local_login_enabled"] is False
    assert (await _login(identity, form["username"], form["password"])).status_code == 403
    switches = await _audits(identity, action="local_login.global_switched")
    assert [(a.actor_id, a.detail["enabled"]) for a in switches[-2:]] == [
        (operator_id, True),
        (operator_id, False),
    ]


async def test_only_an_operator_switches_and_only_the_edge_checks_passwords(
    identity: Running,
) -> None:
    profile, form = await identity.register()
    user_id = UUID(profile["id"])
    as_user = identity.as_user(user_id)

    self_service = await identity.client.put(
        f"/users/{user_id}/local-login", json={"enabled": True}, headers=as_user
    )
    assert self_service.status_code == 403
    assert self_service.json()["detail"]["code"] == "operator_required"
    assert (await identity.client.get("/audit", headers=as_user)).status_code == 403
    body = {"username": form["username"], "password": form["password"], "source_ip": _ip()}
    for headers in (as_user, identity.as_edge("e-tendering"), {}):
        response = await identity.client.post("/internal/local-login", json=body, headers=headers)
        assert response.status_code in (401, 403)
    assert await _audits(identity, target_user_id=user_id) == []


async def test_wrong_passwords_are_throttled_per_account(identity: Running) -> None:
    profile, form = await identity.register()
    await identity.client.put(
        f"/users/{profile['id']}/local-login",
        json={"enabled": True},
        headers=(await identity.operator())[1],
    )
    limit = identity.settings.login_max_failures_per_account

    # From many addresses, so only the account's counter can be what stops it.
    for _ in range(limit):
        failed = await _login(identity, form["username"], "wrong password!!", _ip())
        assert failed.status_code == 401
        assert failed.json()["detail"]["code"] == "invalid_credentials"

    throttled = await _login(identity, form["username"], form["password"], _ip())
    assert throttled.status_code == 429
    assert throttled.json()["detail"]["code"] == "too_many_attempts"
    retry_after = int(throttled.headers["Retry-After"])
    assert 0 < retry_after <= identity.settings.login_first_delay_seconds
    # Another account is not affected.
    _other, other_form = await identity.register()
    assert (await _login(identity, other_form["username"], "wrong", _ip())).status_code == 401


async def test_failures_are_throttled_per_source_address(identity: Running) -> None:
    source = _ip()
    limit = identity.settings.login_max_failures_per_source
    for n in range(limit):
        response = await _login(identity, f"guess.{n}.{uuid.uuid4().hex[:6]}", "password", source)
        assert response.status_code == 401

    _profile, form = await identity.register()
    blocked = await _login(identity, form["username"], form["password"], source)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # The same account from elsewhere is fine (and policy-refused, not throttled).
    assert (await _login(identity, form["username"], form["password"])).status_code == 403


async def _enable(identity: Running, user_id: str) -> None:
    operator = (await identity.operator())[1]
    switched = await identity.client.put(
        f"/users/{user_id}/local-login", json={"enabled": True}, headers=operator
    )
    assert switched.status_code == 200


async def test_an_attacker_on_many_addresses_cannot_lock_the_owner_out(identity: Running) -> None:
    """Issue 18 finding 3: on main five wrong passwords from anywhere locked the
    account for everybody, its owner included."""
    number = national_number(700 + uuid.uuid4().int % 90)
    profile, form = await identity.register(national_number=number)
    await _enable(identity, profile["id"])
    username, password = form["username"], form["password"]
    # The owner logged in from this browser before: identity handed it a device cookie.
    first = await _login(identity, username, password, "198.51.100.10")
    assert first.status_code == 200, first.text
    device = first.json()["device_token"]
    assert device and len(device) >= 32

    # An attacker guesses from a new address each time, up to the account's ceiling...
    for _ in range(identity.settings.login_max_failures_per_account):
        guess = await _login(identity, username, "a guess of the attacker", _ip())
        assert guess.status_code == 401
    # ...and is slowed from then on, whatever address he comes from.
    slowed = await _login(identity, username, "one more guess", _ip())
    assert slowed.status_code == 429
    assert slowed.json()["detail"]["code"] == "too_many_attempts"
    assert 0 < int(slowed.headers["Retry-After"]) <= identity.settings.login_max_delay_seconds
    # The owner's known browser gets in, even from an address it never used.
    owner = await _login(identity, username, password, _ip(), device=device)
    assert owner.status_code == 200, owner.text
    assert owner.json()["user_id"] == profile["id"]
    assert owner.json()["device_token"] is None  # already known: nothing new to store
    # A device cookie is worth nothing for another account.
    _other, other_form = await identity.register()
    await _enable(identity, _other["id"])
    stranger = await _login(identity, other_form["username"], other_form["password"], device=device)
    assert stranger.status_code == 200 and stranger.json()["device_token"]
    # The eID login does not meet password throttling at all.
    by_card = await identity.client.get(
        f"/internal/users/by-eid-subject/{identity.gateway.subject(number)}",
        headers=identity.as_edge(),
    )
    assert by_card.status_code == 200
    assert by_card.json()["user_id"] == profile["id"]


async def test_one_source_guessing_one_account_meets_growing_delays(identity: Running) -> None:
    profile, form = await identity.register()
    await _enable(identity, profile["id"])
    username, source = form["username"], _ip()
    settings = identity.settings
    for _ in range(settings.login_max_failures_per_pair):
        assert (await _login(identity, username, "wrong guess", source)).status_code == 401
    first = await _login(identity, username, form["password"], source)
    assert first.status_code == 429  # even the right password waits: nothing is tried
    first_delay = int(first.headers["Retry-After"])
    assert (
        settings.login_first_delay_seconds - 2 <= first_delay <= settings.login_first_delay_seconds
    )

    await _wait_out_delays(identity)
    assert (await _login(identity, username, "wrong again", source)).status_code == 401
    second = await _login(identity, username, "and again", source)
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 2 * first_delay - 2  # it doubled

    # Another address is not slowed by this pair: the owner elsewhere gets in.
    assert (await _login(identity, username, form["password"], _ip())).status_code == 200
    await _wait_out_delays(identity)
    # After waiting, the right password from the same address clears its pair.
    assert (await _login(identity, username, form["password"], source)).status_code == 200
    assert (await _login(identity, username, "typo", source)).status_code == 401


async def _wait_out_delays(identity: Running) -> None:
    """As if the running delays had passed (the counters stay)."""
    async with identity.app.state.service.sessions() as session, session.begin():
        await session.execute(
            update(login_throttle).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )


async def test_passwords_are_rehashed_when_the_parameters_change(identity: Running) -> None:
    profile, form = await identity.register()
    user_id = UUID(profile["id"])
    await identity.client.put(
        f"/users/{user_id}/local-login",
        json={"enabled": True},
        headers=(await identity.operator())[1],
    )
    old_hash = await _hash(identity, user_id)
    assert old_hash.startswith("$argon2id$") and "t=1" in old_hash

    original: Identity = identity.app.state.identity
    stronger = identity.settings.model_copy(update={"argon2_time_cost": 2})
    identity.app.state.identity = Identity.from_settings(stronger, eid_tokens=original.eid_tokens)
    try:
        assert (await _login(identity, form["username"], form["password"])).status_code == 200
    finally:
        identity.app.state.identity = original

    new_hash = await _hash(identity, user_id)
    assert new_hash != old_hash and "t=2" in new_hash
    assert (await _login(identity, form["username"], form["password"])).status_code == 200


async def _hash(identity: Running, user_id: UUID) -> str:
    async with identity.app.state.service.sessions() as session:
        value = await session.scalar(
            select(user_account.c.password_hash).where(user_account.c.id == user_id)
        )
    assert value is not None
    return str(value)


async def test_the_edge_finds_the_account_of_an_eid_subject(identity: Running) -> None:
    profile, _ = await identity.register(national_number="85010199941")
    subject = identity.gateway.subject("85010199941")

    url = "/internal/users/by-eid-subject/{}"
    found = await identity.client.get(url.format(subject), headers=identity.as_edge())
    unknown = await identity.client.get(
        url.format(identity.gateway.subject("85010199842")), headers=identity.as_edge()
    )
    not_the_edge = await identity.client.get(
        url.format(subject), headers=identity.as_user(UUID(profile["id"]))
    )
    no_token = await identity.client.get(url.format(subject))

    assert found.status_code == 200 and found.json()["user_id"] == profile["id"]
    assert unknown.status_code == 404 and unknown.json()["detail"]["code"] == "not_registered"
    assert not_the_edge.status_code == 403
    assert no_token.status_code == 401


async def test_platform_operators_are_identitys_data_not_a_token_claim(identity: Running) -> None:
    """Who is platform staff is identity's record (the edge reads it at login); a
    token that claims it for anybody else opens nothing here."""
    operator_id, operator = await identity.operator()
    profile, form = await identity.register()
    user_id = UUID(profile["id"])
    claims_only = identity.as_user(user_id, operator=True)  # e.g. issued before a revocation
    refused = await identity.client.get("/audit", headers=claims_only)
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "operator_required"

    granted = await identity.client.put(
        f"/users/{user_id}/platform-operator",
        json={"enabled": True, "reason": "joined the helpdesk"},
        headers=operator,
    )
    assert granted.status_code == 200, granted.text
    assert granted.json() == {
        "user_id": str(user_id),
        "username": form["username"].lower(),
        "platform_operator": True,
    }
    assert (await identity.client.get("/audit", headers=claims_only)).status_code == 200
    await identity.client.put(
        f"/users/{user_id}/local-login", json={"enabled": True}, headers=operator
    )
    login = await _login(identity, form["username"], form["password"])
    assert login.status_code == 200 and login.json()["platform_operator"] is True

    # Nobody withdraws their own role; another operator can, and it shows at the next login.
    own = await identity.client.put(
        f"/users/{user_id}/platform-operator", json={"enabled": False}, headers=claims_only
    )
    assert own.status_code == 409 and own.json()["detail"]["code"] == "own_operator_role"
    revoked = await identity.client.put(
        f"/users/{user_id}/platform-operator", json={"enabled": False}, headers=operator
    )
    assert revoked.status_code == 200 and revoked.json()["platform_operator"] is False
    login = await _login(identity, form["username"], form["password"])
    assert login.json()["platform_operator"] is False
    assert (await identity.client.get("/audit", headers=claims_only)).status_code == 403

    switches = await _audits(identity, target_user_id=user_id, action="platform_operator.switched")
    assert [(a.actor_id, a.detail["enabled"]) for a in switches] == [
        (operator_id, True),
        (operator_id, False),
    ]
    # A buyer cannot make anybody an operator.
    buyer = identity.as_user(user_id)
    attempt = await identity.client.put(
        f"/users/{operator_id}/platform-operator", json={"enabled": False}, headers=buyer
    )
    assert attempt.status_code == 403


async def test_the_first_operator_is_set_in_the_database_by_username(identity: Running) -> None:
    """`eproc operator --grant --database-url … --username …`: nobody to ask yet."""
    from eproc_identity.operators import set_operator_in_database

    profile, form = await identity.register()
    user_id = UUID(profile["id"])
    token = identity.as_user(user_id, operator=True)
    assert (await identity.client.get("/audit", headers=token)).status_code == 403
    url = identity.settings.database_url
    changed = await set_operator_in_database(url, form["username"].upper(), True)
    assert changed == {
        "user_id": str(user_id),
        "username": form["username"].lower(),
        "platform_operator": True,
    }
    assert (await identity.client.get("/audit", headers=token)).status_code == 200
    (record,) = await _audits(identity, target_user_id=user_id, action="platform_operator.switched")
    assert record.actor_id is None and record.detail["enabled"] is True
    with pytest.raises(LookupError, match="nobody-by-this-name"):
        await set_operator_in_database(url, "nobody-by-this-name", True)
