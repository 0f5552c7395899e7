"""Registration with the eID gateway's ID token (R-REG-1..5, R-PROF-1)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import func, select

from eproc_identity.models import user_account

from .conftest import Running, national_number


def _form(identity: Running, number: str, **overrides: Any) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    return {
        "id_token": identity.gateway.id_token(number, given_name="An", family_name="Janssens"),
        "email": f"an.{suffix}@example.be",
        "language": "fr",
        "phone": "+32 9 210 10 10",
        "mobile": "0470 12 34 56",
        "job_title": "Aankoper",
        "username": f"An.Janssens.{suffix}",
        "password": "a long enough passphrase",
        **overrides,
    }


_fresh = itertools.count(500)


def _fresh_number() -> str:
    # Drawn without replacement: two random draws from one range collided now and then.
    return national_number(next(_fresh))


async def _count_users(identity: Running) -> int:
    async with identity.app.state.service.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(user_account)) or 0)


async def test_registration_takes_the_names_from_the_id_token(identity: Running) -> None:
    form = _form(identity, _fresh_number())

    response = await identity.client.post("/registrations", json=form)

    assert response.status_code == 201, response.text
    profile = response.json()
    assert (profile["given_name"], profile["family_name"]) == ("An", "Janssens")
    assert profile["username"] == form["username"].lower()  # case-insensitive, kept lower-case
    assert profile["phone"] == "+3292101010"  # E.164
    assert profile["mobile"] == "+32470123456"
    assert profile["language"] == "fr"
    assert profile["local_login_enabled"] is False  # R-LOGIN-2: off by default
    assert "password" not in response.text and "$argon2" not in response.text
    # Active at once (R-REG-5): the user can read their profile with a token.
    me = await identity.client.get("/users/me", headers=identity.as_user(uuid.UUID(profile["id"])))
    assert me.status_code == 200
    assert me.json()["username"] == profile["username"]


async def test_names_in_the_body_are_refused_and_change_nothing(identity: Running) -> None:
    number = _fresh_number()
    form = _form(identity, number, given_name="Mallory", family_name="Evil")
    before = await _count_users(identity)

    response = await identity.client.post("/registrations", json=form)

    assert response.status_code == 422
    errors = {(e["field"], e["code"]) for e in response.json()["detail"]["errors"]}
    assert errors == {("given_name", "not_editable"), ("family_name", "not_editable")}
    assert await _count_users(identity) == before
    # Without them the same card registers, with the card's names.
    del form["given_name"], form["family_name"]
    created = await identity.client.post("/registrations", json=form)
    assert created.status_code == 201
    assert created.json()["given_name"] == "An"


async def test_the_same_card_cannot_register_twice(identity: Running) -> None:
    number = _fresh_number()
    first = await identity.client.post("/registrations", json=_form(identity, number))
    assert first.status_code == 201
    before = await _count_users(identity)

    # A new ID token for the same card, another username and email.
    again = await identity.client.post("/registrations", json=_form(identity, number))

    assert again.status_code == 409
    detail = again.json()["detail"]
    assert detail["code"] == "already_registered"
    assert "log in" in detail["message"].lower()
    assert detail["login_url"]
    assert await _count_users(identity) == before


async def test_an_already_registered_card_is_told_at_the_card_step(identity: Running) -> None:
    """Issue 19, point 11: asked right after the card is read, before the form."""
    number = _fresh_number()
    token = identity.gateway.id_token(number, given_name="An", family_name="Janssens")
    fresh = await identity.client.post("/registrations/check", json={"id_token": token})
    assert fresh.status_code == 204
    assert (
        await identity.client.post("/registrations", json=_form(identity, number))
    ).status_code == 201
    before = await _count_users(identity)

    again = identity.gateway.id_token(number, given_name="An", family_name="Janssens")
    response = await identity.client.post("/registrations/check", json={"id_token": again})

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail["code"] == "already_registered" and detail["login_url"]
    forged = await identity.client.post("/registrations/check", json={"id_token": "not.a.token"})
    assert forged.status_code == 401
    assert forged.json()["detail"]["code"] == "invalid_id_token"
    assert await _count_users(identity) == before


async def test_usernames_are_unique_case_insensitively(identity: Running) -> None:
    form = _form(identity, _fresh_number())
    assert (await identity.client.post("/registrations", json=form)).status_code == 201

    other = _form(identity, _fresh_number(), username=form["username"].upper())
    response = await identity.client.post("/registrations", json=other)

    assert response.status_code == 422
    assert response.json()["detail"]["errors"] == [
        {
            "field": "username",
            "code": "username_taken",
            "message": "This username is taken; choose another one.",
        }
    ]


async def test_field_errors_are_field_level_and_change_nothing(identity: Running) -> None:
    form = _form(
        identity,
        _fresh_number(),
        email="not-an-email",
        phone="12",
        mobile="call me maybe",
        language="es",
        username="ab",
    )
    del form["job_title"]
    before = await _count_users(identity)

    response = await identity.client.post("/registrations", json=form)

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "validation_failed"
    by_field = {e["field"]: e for e in detail["errors"]}
    assert {f: e["code"] for f, e in by_field.items()} == {
        "email": "invalid_email",
        "phone": "invalid_phone",
        "mobile": "invalid_mobile",
        "language": "invalid_choice",
        "username": "invalid_username",
    }
    assert "+32 2 511 11 11" in by_field["phone"]["message"]  # an example of the format
    assert "0470 12 34 56" in by_field["mobile"]["message"]  # a mobile example for the mobile
    assert all(set(e) == {"field", "code", "message"} for e in detail["errors"])
    assert form["password"] not in response.text  # values are never echoed
    assert await _count_users(identity) == before


async def test_a_landline_is_not_a_mobile_number(identity: Running) -> None:
    form = _form(identity, _fresh_number(), mobile="02 511 11 11")
    before = await _count_users(identity)

    response = await identity.client.post("/registrations", json=form)

    assert response.status_code == 422
    [error] = response.json()["detail"]["errors"]
    assert (error["field"], error["code"]) == ("mobile", "invalid_mobile")
    assert "0470 12 34 56" in error["message"]
    assert await _count_users(identity) == before


async def test_missing_required_fields(identity: Running) -> None:
    form = _form(identity, _fresh_number())
    for field in ("email", "phone", "language"):
        del form[field]

    response = await identity.client.post("/registrations", json=form)

    assert response.status_code == 422
    assert sorted((e["field"], e["code"]) for e in response.json()["detail"]["errors"]) == [
        ("email", "required"),
        ("language", "required"),
        ("phone", "required"),
    ]


async def test_password_policy(identity: Running) -> None:
    number = _fresh_number()
    cases = {
        "short pass": "password_too_short",
        "xx Policy.User xx 12345": "password_contains_username",
        "my name is JANSSENS, ok": "password_contains_name",
        "ànnnn jânssens spelled": "password_contains_name",
    }
    before = await _count_users(identity)
    for password, code in cases.items():
        form = _form(identity, number, username="policy.user", password=password)
        response = await identity.client.post("/registrations", json=form)
        assert response.status_code == 422, password
        errors = response.json()["detail"]["errors"]
        assert {(e["field"], e["code"]) for e in errors} == {("password", code)}, password
        assert password not in response.text
    assert await _count_users(identity) == before


async def test_expired_or_forged_id_tokens_are_refused(identity: Running) -> None:
    number = _fresh_number()
    forger = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    tokens = {
        "expired": identity.gateway.id_token(number, lifetime=-120),
        "forged": identity.gateway.id_token(number, key=forger),
        "other issuer": identity.gateway.id_token(number, issuer="https://evil.invalid"),
        "garbage": "not.a.token",
    }
    before = await _count_users(identity)
    for label, token in tokens.items():
        form = _form(identity, number, id_token=token)
        response = await identity.client.post("/registrations", json=form)
        assert response.status_code == 401, label
        assert response.json()["detail"]["code"] == "invalid_id_token", label
    assert await _count_users(identity) == before


async def test_rs256_id_tokens_are_accepted(identity: Running) -> None:
    form = _form(identity, _fresh_number())
    form["id_token"] = identity.gateway.id_token(
        _fresh_number(), alg="RS256", given_name="Émile", family_name="Dupré"
    )

    response = await identity.client.post("/registrations", json=form)

    assert response.status_code == 201, response.text
    assert response.json()["family_name"] == "Dupré"
