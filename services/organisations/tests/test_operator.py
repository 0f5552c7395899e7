"""What the operator console reads here (R-OP-1): a person's memberships, the members
of the organisations matching a name or an enterprise number, and the audit trail
across organisations by person, organisation and period. Only platform operators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx

from eproc_runtime.testing.tokens import TestIssuer

from .conftest import Db, bearer, create_organisation
from .test_authorisation import register_user


async def test_operators_find_the_members_of_an_organisation_by_name_or_number(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    superuser, other = uuid4(), uuid4()
    await register_user(db, superuser, f"ann.{superuser.hex[:8]}")
    organisation = await create_organisation(db, superuser=superuser, name="Gemeente Zwalm")
    await create_organisation(db, superuser=other, name="Gemeente Zottegem")
    operator = bearer(issuer, uuid4(), operator=True)
    directory_entry = (await client.get(f"/organisations/{organisation}", headers=operator)).json()
    name = directory_entry["names"]["nl"]

    by_number = await client.get(
        "/operator/members",
        params={"q": directory_entry["enterprise_number_display"], "lang": "nl"},
        headers=operator,
    )
    assert by_number.status_code == 200, by_number.text
    page = by_number.json()
    assert page["total"] == 1
    [member] = page["items"]
    assert member["user_id"] == str(superuser)
    assert member["username"] == f"ann.{superuser.hex[:8]}"
    assert (member["given_name"], member["family_name"]) == ("Ann", "Peeters")
    assert member["organisation"]["name"] == name
    assert {"application": "user-management", "role": "superuser"} in member["roles"]

    by_name = await client.get("/operator/members", params={"q": name}, headers=operator)
    assert str(superuser) in [m["user_id"] for m in by_name.json()["items"]]
    # The best match comes first.
    assert by_name.json()["items"][0]["organisation"]["id"] == str(organisation)

    organisations = await client.get(
        "/operator/organisations", params={"q": name}, headers=operator
    )
    assert organisations.json()[0]["id"] == str(organisation)

    memberships = await client.get(
        f"/operator/users/{superuser}/memberships", params={"lang": "nl"}, headers=operator
    )
    assert memberships.status_code == 200
    assert [(m["organisation"]["name"], m["is_default"]) for m in memberships.json()] == [
        (name, True)
    ]


async def test_only_operators_read_members_and_the_trail(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    superuser = uuid4()
    organisation = await create_organisation(db, superuser=superuser)
    as_superuser = bearer(issuer, superuser)
    for path, params in (
        ("/operator/members", {"q": "Test"}),
        ("/operator/organisations", {"q": "Test"}),
        (f"/operator/users/{superuser}/memberships", {}),
        ("/operator/audit", {"organisation_id": str(organisation)}),
    ):
        refused = await client.get(path, params=params, headers=as_superuser)
        assert refused.status_code == 403, path
        assert refused.json()["detail"]["code"] == "operator_required"


async def test_the_trail_by_person_organisation_and_period(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    superuser = uuid4()
    organisation = await create_organisation(db, superuser=superuser)
    elsewhere = await create_organisation(db, superuser=uuid4())
    operator = bearer(issuer, uuid4(), operator=True)

    async def trail(**params: str) -> list[dict[str, object]]:
        answer = await client.get("/operator/audit", params=params, headers=operator)
        assert answer.status_code == 200, answer.text
        result: list[dict[str, object]] = answer.json()
        return result

    of_organisation = await trail(organisation_id=str(organisation))
    # Newest first: the Superuser's membership follows the registration.
    assert [r["action"] for r in of_organisation] == [
        "membership.granted",
        "organisation.registered",
    ]
    assert all(r["organisation_id"] == str(organisation) for r in of_organisation)
    of_person = await trail(user_id=str(superuser))
    assert {r["organisation_id"] for r in of_person} == {str(organisation)}
    assert str(elsewhere) not in {r["organisation_id"] for r in await trail(user_id=str(superuser))}
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert await trail(organisation_id=str(organisation), since=later) == []
    assert len(await trail(organisation_id=str(organisation), until=later)) == 2
    backwards = await client.get(
        "/operator/audit",
        params={"since": later, "until": datetime.now(UTC).isoformat()},
        headers=operator,
    )
    assert backwards.status_code == 422
