"""R-SU-1 / R-ORG-4: a Superuser acts for *their* organisation only; the rights are read
from this service's memberships, not from token claims; every action is audited (R-NF-1)."""

from __future__ import annotations

from uuid import UUID, uuid4

import httpx
import pytest

from eproc_contracts.common import RequestKind
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import PlatformOperatorChanged, UserRegistered
from eproc_organisations.consumers import HANDLERS
from eproc_runtime.db import unit_of_work
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import (
    Db,
    apply,
    approved,
    bearer,
    create_organisation,
    events_of,
    next_enterprise_number,
)

EDIT = {
    "names": {"nl": "Nieuwe naam", "fr": "Nouveau nom"},
    "address": {"street": "Markt", "number": "1", "postcode": "9000", "municipality": "Gent"},
}


async def register_user(db: Db, user_id: UUID, username: str) -> None:
    async with unit_of_work(db.sessions) as session:
        await HANDLERS.dispatch(
            session,
            Envelope.wrap(
                UserRegistered(
                    user_id=user_id,
                    username=username,
                    given_name="Ann",
                    family_name="Peeters",
                    email=f"{username}@example.be",
                    language="nl",
                    phone="+32 2 123 45 67",
                ),
                producer="identity",
            ),
        )


def member_actions(
    organisation: UUID, member: UUID, newcomer: UUID
) -> list[tuple[str, str, dict | None]]:
    return [
        ("PATCH", f"/organisations/{organisation}", EDIT),
        ("GET", f"/organisations/{organisation}/members", None),
        (
            "POST",
            f"/organisations/{organisation}/members",
            {"user_id": str(newcomer), "roles": [{"application": "e-catalogue", "role": "buyer"}]},
        ),
        (
            "PUT",
            f"/organisations/{organisation}/members/{member}/roles",
            {"roles": [{"application": "e-catalogue", "role": "requester"}]},
        ),
        ("DELETE", f"/organisations/{organisation}/members/{member}", None),
        ("GET", f"/organisations/{organisation}/audit", None),
        ("GET", f"/organisations/{organisation}/members/{member}/leave-check", None),
    ]


@pytest.fixture
async def family(db: Db) -> dict[str, UUID]:
    """parent ⟶ b ⟶ child, and an unrelated a; each with its own Superuser and a member."""
    people = {
        name: uuid4() for name in ("su_a", "su_parent", "su_b", "su_child", "member_b", "newcomer")
    }
    a = await create_organisation(db, superuser=people["su_a"], name="A")
    parent = await create_organisation(db, superuser=people["su_parent"], name="Parent")
    b = await create_organisation(db, parent_id=parent, superuser=people["su_b"], name="B")
    child = await create_organisation(db, parent_id=b, superuser=people["su_child"], name="Child")
    await register_user(db, people["newcomer"], f"new{people['newcomer'].hex[:8]}")
    await apply(db, approved(RequestKind.JOIN, people["member_b"], b, [("e-catalogue", "buyer")]))
    return {"a": a, "parent": parent, "b": b, "child": child, **people}


@pytest.mark.parametrize("outsider", ["su_a", "su_parent", "su_child", "member_b"])
async def test_only_a_superuser_of_the_organisation_may_act_on_it(
    outsider: str, family: dict[str, UUID], client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    b = family["b"]
    # Even a token claiming Superuser in B as the active organisation changes nothing.
    headers = bearer(issuer, family[outsider], organisation=b, roles=["superuser"])
    for method, url, body in member_actions(b, family["member_b"], family["newcomer"]):
        if outsider == "member_b" and url.endswith("leave-check"):
            continue  # a member may ask about their own leave
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (outsider, method, url, response.text)
        assert response.json()["detail"]["code"] == "not_superuser"


async def test_the_superuser_of_b_may_do_it_all_and_each_action_is_audited(
    db: Db, family: dict[str, UUID], client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    b, su_b, member, newcomer = family["b"], family["su_b"], family["member_b"], family["newcomer"]
    headers = bearer(issuer, su_b)
    expected = {"PATCH": 200, "GET": 200, "POST": 201, "PUT": 200, "DELETE": 204}
    for method, url, body in member_actions(b, member, newcomer):
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == expected[method], (method, url, response.text)

    organisation = (await client.get(f"/organisations/{b}", headers=headers)).json()
    assert organisation["names"]["nl"] == "Nieuwe naam"
    assert organisation["address"]["municipality"] == "Gent"
    assert await events_of(db, b, "organisation.updated")
    assert await events_of(db, newcomer, "membership.granted")
    assert (await events_of(db, member, "membership.revoked"))[-1]["data"]["reason"] == "removed"

    trail = (await client.get(f"/organisations/{b}/audit", headers=headers)).json()
    actions = [(e["action"], e["actor_id"], e["subject_user_id"]) for e in trail]
    for action, subject in (
        ("organisation.updated", None),
        ("membership.granted", str(newcomer)),
        ("membership.roles_changed", str(member)),
        ("membership.revoked", str(member)),
    ):
        assert (action, str(su_b), subject) in actions
    bootstrap = next(e for e in trail if e["action"] == "organisation.registered")
    assert bootstrap["actor_kind"] == "operator"


async def test_the_enterprise_number_cannot_be_edited(
    family: dict[str, UUID], client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    response = await client.patch(
        f"/organisations/{family['b']}",
        json={**EDIT, "enterprise_number": "0123456749"},
        headers=bearer(issuer, family["su_b"]),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "enterprise_number"]


async def test_a_postcode_is_belgian_and_a_bad_one_changes_nothing(
    family: dict[str, UUID], client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    """Issue 19, point 11: "10" was accepted as a postcode."""
    headers = bearer(issuer, family["su_b"])
    before = (await client.get(f"/organisations/{family['b']}", headers=headers)).json()
    response = await client.patch(
        f"/organisations/{family['b']}",
        json={**EDIT, "address": {**EDIT["address"], "postcode": "10"}},
        headers=headers,
    )
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert (problem["loc"], problem["type"]) == (
        ["body", "address", "postcode"],
        "invalid_postcode",
    )
    after = (await client.get(f"/organisations/{family['b']}", headers=headers)).json()
    assert after == before


async def test_the_directory_answers_whether_an_enterprise_number_is_taken(
    family: dict[str, UUID], client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    """What the requests service asks before filing a registration (issue 19, point 11)."""
    headers = bearer(issuer, family["newcomer"])
    b = (await client.get(f"/organisations/{family['b']}", headers=headers)).json()
    found = await client.get(
        f"/enterprise-numbers/{b['enterprise_number_display']}", headers=headers
    )
    assert found.status_code == 200
    assert found.json()["id"] == str(family["b"])
    free = await client.get(f"/enterprise-numbers/{next_enterprise_number()}", headers=headers)
    assert free.status_code == 404
    assert free.json()["detail"]["code"] == "unknown_enterprise_number"
    bad = await client.get("/enterprise-numbers/0123456789", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["detail"]["field"] == "enterprise_number"


async def test_adding_an_unknown_user_is_refused(
    family: dict[str, UUID], client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    response = await client.post(
        f"/organisations/{family['b']}/members",
        json={
            "username": "nobody-here",
            "roles": [{"application": "e-catalogue", "role": "buyer"}],
        },
        headers=bearer(issuer, family["su_b"]),
    )
    assert response.status_code == 404
    assert response.json()["detail"] == {
        "code": "unknown_user",
        "message": "No registered user has this id or username.",
        "field": "username",
    }


async def test_only_an_operator_bootstraps_organisations(
    client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    body = {
        "names": {"nl": "Vlaamse Overheid Test"},
        "enterprise_number": "0123.456.749",
        "address": {
            "street": "Havenlaan",
            "number": "88",
            "postcode": "1000",
            "municipality": "Brussel",
        },
        "superuser_id": str(uuid4()),
    }
    response = await client.post(
        "/operator/organisations", json=body, headers=bearer(issuer, uuid4())
    )
    assert response.status_code == 403
    response = await client.post(
        "/operator/organisations",
        json={**body, "enterprise_number": "0123.456.748"},
        headers=bearer(issuer, uuid4(), operator=True),
    )
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "enterprise_number.check_digits"
    assert response.json()["detail"]["field"] == "enterprise_number"
    number = next_enterprise_number()
    response = await client.post(
        "/operator/organisations",
        json={**body, "enterprise_number": number, "key": f"test/{number}"},
        headers=bearer(issuer, uuid4(), operator=True),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["enterprise_number"] == number
    assert created["enterprise_number_display"] == f"{number[:4]}.{number[4:7]}.{number[7:]}"
    response = await client.post(
        "/operator/organisations",
        json={**body, "enterprise_number": number},
        headers=bearer(issuer, uuid4(), operator=True),
    )
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "duplicate_enterprise_number"
    response = await client.post(
        "/operator/organisations",
        json={**body, "enterprise_number": next_enterprise_number(), "key": f"test/{number}"},
        headers=bearer(issuer, uuid4(), operator=True),
    )
    assert response.status_code == 409
    assert response.json()["detail"]["field"] == "key"


async def test_an_edited_name_is_found_by_the_search(
    family: dict[str, UUID], client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    token = uuid4().hex[:10]
    headers = bearer(issuer, family["su_b"])
    response = await client.patch(
        f"/organisations/{family['b']}",
        json={**EDIT, "names": {"fr": f"Centrale d'achats Zébrûre{token}"}},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["names"] == {
        "nl": None,
        "fr": f"Centrale d'achats Zébrûre{token}",
        "de": None,
        "en": None,
    }
    hits = (
        await client.get(
            "/organisations/search",
            params={"q": f"centrale dachats zebrure{token}"},
            headers=headers,
        )
    ).json()["items"]
    assert hits[0]["organisation"]["id"] == str(family["b"])


async def test_a_withdrawn_operator_is_refused_at_once_though_the_token_still_claims_it(
    client: httpx.AsyncClient, issuer: TestIssuer, db: Db
) -> None:
    """Issue 18 finding 8: identity's withdrawal (PlatformOperatorChanged) counts
    here as soon as it arrives; on main the token's claim decided for its life."""
    operator = uuid4()
    body = {
        "names": {"nl": "Ingetrokken Operator Test"},
        "address": {
            "street": "Havenlaan",
            "number": "88",
            "postcode": "1000",
            "municipality": "Brussel",
        },
        "superuser_id": str(uuid4()),
    }

    async def bootstrap() -> httpx.Response:
        return await client.post(
            "/operator/organisations",
            json={**body, "enterprise_number": next_enterprise_number()},
            headers=bearer(issuer, operator, operator=True),
        )

    assert (await bootstrap()).status_code == 201
    for still_operator in (False, True):
        async with unit_of_work(db.sessions) as session:
            await HANDLERS.dispatch(
                session,
                Envelope.wrap(
                    PlatformOperatorChanged(user_id=operator, platform_operator=still_operator),
                    producer="identity",
                ),
            )
        response = await bootstrap()
        if still_operator:
            assert response.status_code == 201, response.text
        else:
            assert response.status_code == 403
            assert response.json()["detail"]["code"] == "operator_required"
