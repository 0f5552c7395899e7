"""Memberships: the Superuser cascade (R-ROLE-2), the default organisation (R-MEM-2), the
leave guards (R-REQ-8) up front and at apply time, and approved requests applied once."""

from __future__ import annotations

from uuid import uuid4

import httpx

from eproc_contracts.common import Address, LocalisedName, ProposedOrganisation, RequestKind
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import DossierLinked, DossierUnlinked
from eproc_organisations.consumers import HANDLERS
from eproc_runtime.db import unit_of_work
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import (
    ADDRESS,
    Db,
    apply,
    approved,
    bearer,
    create_organisation,
    events_of,
    next_enterprise_number,
)

SUPERUSER_EVERYWHERE = [
    {"application": "e-awarding", "role": "superuser"},
    {"application": "e-notification", "role": "superuser"},
    {"application": "user-management", "role": "superuser"},
]


async def _roles_of(client: httpx.AsyncClient, issuer: TestIssuer, user, organisation_id):
    response = await client.get("/me/organisations", headers=bearer(issuer, user))
    assert response.status_code == 200
    for entry in response.json():
        if entry["organisation"]["id"] == str(organisation_id):
            return entry["roles"]
    return None


async def link(db: Db, user, organisation_id, dossier_id: str = "D-1") -> None:
    async with unit_of_work(db.sessions) as session:
        await HANDLERS.dispatch(
            session,
            Envelope.wrap(
                DossierLinked(
                    application="e-tendering",
                    dossier_id=dossier_id,
                    organisation_id=organisation_id,
                    user_id=user,
                ),
                producer="e-tendering",
            ),
        )


# --- R-ROLE-2 ------------------------------------------------------------------------


async def test_choosing_superuser_in_one_application_gives_it_everywhere(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    boss, member = uuid4(), uuid4()
    organisation = await create_organisation(db, superuser=boss)
    assert (
        await apply(
            db, approved(RequestKind.JOIN, member, organisation, [("e-notification", "superuser")])
        )
        == "applied"
    )
    assert await _roles_of(client, issuer, member, organisation) == SUPERUSER_EVERYWHERE
    granted = await events_of(db, member, "membership.granted")
    assert granted[-1]["data"]["roles"] == SUPERUSER_EVERYWHERE
    assert granted[-1]["data"]["default"] is True, "the first membership is the default"

    # And through a Superuser's role change: Superuser in e-Awarding only, plus Editor.
    other = uuid4()
    await apply(db, approved(RequestKind.JOIN, other, organisation, [("e-awarding", "editor")]))
    response = await client.put(
        f"/organisations/{organisation}/members/{other}/roles",
        json={
            "roles": [
                {"application": "e-awarding", "role": "superuser"},
                {"application": "e-awarding", "role": "editor"},
            ]
        },
        headers=bearer(issuer, boss),
    )
    assert response.status_code == 200, response.text
    assert {(r["application"], r["role"]) for r in response.json()} == {
        ("e-awarding", "editor"),
        ("e-awarding", "superuser"),
        ("e-notification", "superuser"),
        ("user-management", "superuser"),
    }


async def test_removing_superuser_in_one_application_removes_it_everywhere(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    boss, member = uuid4(), uuid4()
    organisation = await create_organisation(db, superuser=boss)
    await apply(
        db,
        approved(
            RequestKind.JOIN,
            member,
            organisation,
            [("user-management", "superuser"), ("e-tendering", "dossier-manager")],
        ),
    )
    # The member asks to keep Superuser only in e-Notification: it goes everywhere.
    outcome = await apply(
        db,
        approved(
            RequestKind.ROLE_CHANGE,
            member,
            organisation,
            [
                ("e-notification", "superuser"),
                ("e-awarding", "superuser"),
                ("e-tendering", "dossier-manager"),
            ],
        ),
    )
    assert outcome == "applied"
    assert await _roles_of(client, issuer, member, organisation) == [
        {"application": "e-tendering", "role": "dossier-manager"}
    ]
    changed = await events_of(db, member, "membership.roles-changed")
    assert changed[-1]["data"]["roles"] == [
        {"application": "e-tendering", "role": "dossier-manager"}
    ]


# --- R-MEM-2 -------------------------------------------------------------------------


async def test_first_membership_is_default_and_leaving_it_moves_the_default(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    boss, user = uuid4(), uuid4()
    first = await create_organisation(db, superuser=boss, name="First")
    second = await create_organisation(db, superuser=boss, name="Second")
    await apply(db, approved(RequestKind.JOIN, user, first, [("e-tendering", "associated-buyer")]))
    await apply(db, approved(RequestKind.JOIN, user, second, [("e-catalogue", "buyer")]))

    mine = (await client.get("/me/organisations", headers=bearer(issuer, user))).json()
    assert [(m["organisation"]["id"], m["is_default"]) for m in mine] == [
        (str(first), True),
        (str(second), False),
    ]

    await apply(db, approved(RequestKind.LEAVE, user, first))
    mine = (await client.get("/me/organisations", headers=bearer(issuer, user))).json()
    assert [(m["organisation"]["id"], m["is_default"]) for m in mine] == [(str(second), True)]
    defaults = await events_of(db, user, "membership.default-changed")
    assert [d["data"]["organisation_id"] for d in defaults] == [str(first), str(second)]

    await apply(db, approved(RequestKind.LEAVE, user, second))
    defaults = await events_of(db, user, "membership.default-changed")
    assert defaults[-1]["data"]["organisation_id"] is None


async def test_a_user_sets_their_default_organisation(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    boss, user = uuid4(), uuid4()
    first = await create_organisation(db, superuser=boss)
    second = await create_organisation(db, superuser=boss)
    for organisation in (first, second):
        await apply(db, approved(RequestKind.JOIN, user, organisation, [("e-catalogue", "buyer")]))
    response = await client.put(
        "/me/default-organisation",
        json={"organisation_id": str(second)},
        headers=bearer(issuer, user),
    )
    assert response.status_code == 204
    mine = (await client.get("/me/organisations", headers=bearer(issuer, user))).json()
    assert mine[0]["organisation"]["id"] == str(second) and mine[0]["is_default"]
    assert not mine[1]["is_default"]

    stranger = await create_organisation(db, superuser=boss)
    response = await client.put(
        "/me/default-organisation",
        json={"organisation_id": str(stranger)},
        headers=bearer(issuer, user),
    )
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "not_a_member"


# --- R-REQ-8 -------------------------------------------------------------------------


async def test_the_last_superuser_cannot_leave_up_front_nor_at_apply_time(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    boss = uuid4()
    organisation = await create_organisation(db, superuser=boss)
    check = await client.get(
        f"/organisations/{organisation}/members/{boss}/leave-check", headers=bearer(issuer, boss)
    )
    assert check.status_code == 200
    assert check.json()["allowed"] is False
    assert [r["reason"] for r in check.json()["refusals"]] == ["last_superuser"]

    request = approved(RequestKind.LEAVE, boss, organisation)
    assert await apply(db, request) == "refused:last_superuser"
    refused = await events_of(db, boss, "membership.change-refused")
    assert refused[-1]["data"]["reason"] == "last_superuser"
    assert refused[-1]["data"]["request_id"] == str(request.data.request_id)
    assert await _roles_of(client, issuer, boss, organisation) is not None

    # Nor can the Superuser remove themselves, nor drop their own Superuser role.
    response = await client.delete(
        f"/organisations/{organisation}/members/{boss}", headers=bearer(issuer, boss)
    )
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "last_superuser"
    response = await client.put(
        f"/organisations/{organisation}/members/{boss}/roles",
        json={"roles": [{"application": "e-catalogue", "role": "buyer"}]},
        headers=bearer(issuer, boss),
    )
    assert response.status_code == 409

    # With a second Superuser, leaving is fine.
    deputy = uuid4()
    await apply(
        db, approved(RequestKind.JOIN, deputy, organisation, [("user-management", "superuser")])
    )
    check = await client.get(
        f"/organisations/{organisation}/members/{boss}/leave-check", headers=bearer(issuer, boss)
    )
    assert check.json() == {"allowed": True, "refusals": []}
    assert await apply(db, approved(RequestKind.LEAVE, boss, organisation)) == "applied"


async def test_linked_dossiers_block_leaving_until_unlinked(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    boss, member = uuid4(), uuid4()
    organisation = await create_organisation(db, superuser=boss)
    await apply(
        db, approved(RequestKind.JOIN, member, organisation, [("e-tendering", "dossier-manager")])
    )
    await link(db, member, organisation, "T-2026-001")
    check = await client.get(
        f"/organisations/{organisation}/members/{member}/leave-check",
        headers={"Authorization": f"Bearer {issuer.client_token('requests')}"},
    )
    assert check.json()["allowed"] is False
    assert check.json()["refusals"][0]["reason"] == "linked_dossiers"
    assert "T-2026-001" in check.json()["refusals"][0]["message"]

    response = await client.delete(
        f"/organisations/{organisation}/members/{member}", headers=bearer(issuer, boss)
    )
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "linked_dossiers"

    async with unit_of_work(db.sessions) as session:
        await HANDLERS.dispatch(
            session,
            Envelope.wrap(
                DossierUnlinked(
                    application="e-tendering",
                    dossier_id="T-2026-001",
                    organisation_id=organisation,
                    user_id=member,
                ),
                producer="e-tendering",
            ),
        )
    assert await apply(db, approved(RequestKind.LEAVE, member, organisation)) == "applied"


async def test_a_dossier_linked_after_approval_makes_the_apply_step_refuse(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    boss, member = uuid4(), uuid4()
    organisation = await create_organisation(db, superuser=boss)
    await apply(db, approved(RequestKind.JOIN, member, organisation, [("e-catalogue", "buyer")]))
    # Up front (when the request is submitted and approved) nothing stands in the way...
    check = await client.get(
        f"/organisations/{organisation}/members/{member}/leave-check",
        headers=bearer(issuer, member),
    )
    assert check.json()["allowed"] is True
    leave = approved(RequestKind.LEAVE, member, organisation, decided_by=boss)
    # ...but a dossier link arrives before the approval is applied.
    await link(db, member, organisation, "C-77")
    assert await apply(db, leave) == "refused:linked_dossiers"
    refused = await events_of(db, member, "membership.change-refused")
    assert refused[-1]["data"]["reason"] == "linked_dossiers"
    assert await _roles_of(client, issuer, member, organisation) == [
        {"application": "e-catalogue", "role": "buyer"}
    ]
    assert not await events_of(db, member, "membership.revoked")


# --- applying approved requests ------------------------------------------------------


async def test_an_approved_request_is_applied_once(db: Db) -> None:
    boss, member = uuid4(), uuid4()
    organisation = await create_organisation(db, superuser=boss)
    join = approved(RequestKind.JOIN, member, organisation, [("e-catalogue", "buyer")])
    assert await apply(db, join) == "applied"
    # The same approval again under a new event id (a re-published event).
    again = approved(
        RequestKind.JOIN,
        member,
        organisation,
        [("e-catalogue", "buyer")],
        request_id=join.data.request_id,
    )
    assert await apply(db, again) == "applied"
    assert len(await events_of(db, member, "membership.granted")) == 1
    assert not await events_of(db, member, "membership.change-refused")


async def test_refusals_name_their_reason(db: Db) -> None:
    boss, member = uuid4(), uuid4()
    organisation = await create_organisation(db, superuser=boss)
    assert (
        await apply(db, approved(RequestKind.JOIN, member, organisation, [("e-x", "wizard")]))
        == "refused:unknown_role"
    )
    assert await apply(db, approved(RequestKind.LEAVE, member, organisation)) == (
        "refused:not_a_member"
    )
    assert (
        await apply(db, approved(RequestKind.JOIN, member, uuid4(), [("e-catalogue", "buyer")]))
        == "refused:unknown_organisation"
    )
    await apply(db, approved(RequestKind.JOIN, member, organisation, [("e-catalogue", "buyer")]))
    assert (
        await apply(
            db, approved(RequestKind.JOIN, member, organisation, [("e-catalogue", "buyer")])
        )
        == "refused:already_a_member"
    )


async def test_an_organisation_registration_makes_the_requester_its_superuser(
    db: Db, client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    parent_boss, requester = uuid4(), uuid4()
    parent = await create_organisation(db, superuser=parent_boss)
    number = next_enterprise_number()
    proposed = ProposedOrganisation(
        organisation_id=uuid4(),
        parent_id=parent,
        names=LocalisedName(nl="Dienst Aankoop", fr="Service Achats"),
        enterprise_number=number,
        address=ADDRESS,
    )
    registration = approved(
        RequestKind.ORGANISATION_REGISTRATION,
        requester,
        parent,
        proposed=proposed,
        decided_by=parent_boss,
    )
    assert await apply(db, registration) == "applied"
    registered = await events_of(db, proposed.organisation_id, "organisation.registered")
    assert registered[0]["data"]["enterprise_number"] == number
    assert await _roles_of(client, issuer, requester, proposed.organisation_id) == (
        SUPERUSER_EVERYWHERE
    )
    path = (
        await client.get(
            f"/organisations/{proposed.organisation_id}/path", headers=bearer(issuer, requester)
        )
    ).json()
    assert [o["id"] for o in path][-2:] == [str(parent), str(proposed.organisation_id)]

    # Another registration with the same enterprise number: refused, the requester is told.
    other = uuid4()
    duplicate = approved(
        RequestKind.ORGANISATION_REGISTRATION,
        other,
        parent,
        proposed=ProposedOrganisation(
            organisation_id=uuid4(),
            parent_id=parent,
            names=LocalisedName(nl="Dubbel"),
            enterprise_number=number,
            address=Address(street="Kerkstraat", postcode="9000", municipality="Gent"),
        ),
    )
    assert await apply(db, duplicate) == "refused:duplicate_enterprise_number"
    refused = await events_of(db, other, "membership.change-refused")
    assert refused[0]["data"]["reason"] == "duplicate_enterprise_number"
    assert refused[0]["data"]["request_id"] == str(duplicate.data.request_id)
