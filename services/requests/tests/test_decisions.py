"""Deciding requests: exactly once (R-REQ-11), only by a Superuser of the
organisation (R-REQ-4), never by the operator for membership requests
(R-REQ-12); the operator decides top-level registrations (R-ORG-3)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from eproc_contracts.common import Language
from eproc_contracts.events import (
    MembershipRevoked,
    PlatformOperatorChanged,
    RevocationReason,
    UserProfileChanged,
    UserRegistered,
)
from eproc_requests.models import audit_record, request_history

from .conftest import BUYER, Api, events_of, ids
from .helpers import REGISTRATION, create_join_requests


async def test_twenty_concurrent_decisions_store_exactly_one(
    api: Api, grant: Any, sessions: Any
) -> None:
    requester = ids(1)[0]
    superusers = ids(20)
    (org,) = ids(1)
    for superuser in superusers:
        await grant(superuser, org)
    (request,) = await create_join_requests(api, requester, [org])
    request_id = request["id"]

    async def decide(index: int, superuser: UUID) -> Any:
        if index % 2:
            return await api.call("POST", f"/requests/{request_id}/approve", superuser)
        return await api.call(
            "POST", f"/requests/{request_id}/reject", superuser, json={"reason": f"no {index}"}
        )

    responses = await asyncio.gather(*(decide(i, s) for i, s in enumerate(superusers)))

    winners = [r for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code != 200]
    assert len(winners) == 1
    assert len(losers) == 19
    assert {r.status_code for r in losers} == {409}
    assert {r.json()["detail"]["code"] for r in losers} == {"already_decided"}
    decided = winners[0].json()
    # One decision stored, one decision event, one decision in the history and the audit trail.
    approved = await events_of(sessions, request_id, "request.approved")
    rejected = await events_of(sessions, request_id, "request.rejected")
    assert len(approved) + len(rejected) == 1
    assert (len(approved) == 1) == (decided["status"] == "applying")
    async with sessions() as session:
        decisions_in_history = await session.scalar(
            select(func.count())
            .select_from(request_history)
            .where(
                request_history.c.request_id == UUID(request_id),
                request_history.c.status.in_(["approved", "rejected"]),
            )
        )
        decisions_audited = await session.scalar(
            select(func.count())
            .select_from(audit_record)
            .where(
                audit_record.c.request_id == UUID(request_id),
                audit_record.c.action.in_(["request.approved", "request.rejected"]),
            )
        )
    assert decisions_in_history == 1
    assert decisions_audited == 1
    detail = (await api.call("GET", f"/requests/{request_id}", requester)).json()
    assert detail["decided_by"] == decided["decided_by"]


async def test_buyer_other_superuser_and_operator_cannot_decide(api: Api, grant: Any) -> None:
    requester, buyer, other_superuser, operator, superuser = ids(5)
    org, other_org = ids(2)
    await grant(superuser, org)
    await grant(other_superuser, other_org)
    await grant(buyer, org, [BUYER])  # a plain member of the organisation
    (request,) = await create_join_requests(api, requester, [org])
    path = f"/requests/{request['id']}"

    for user, operator_flag, code in [
        (buyer, False, "not_a_superuser"),
        (other_superuser, False, "not_a_superuser"),
        (operator, True, "operator_cannot_decide"),
        (requester, False, "not_a_superuser"),
    ]:
        for action in ("approve", "reject"):
            response = await api.call(
                "POST", f"{path}/{action}", user, operator=operator_flag, json={"reason": "x"}
            )
            assert response.status_code == 403, (user, action)
            assert response.json()["detail"]["code"] == code
    # The operator may look, the other organisation's Superuser may not.
    assert (await api.call("GET", path, operator, operator=True)).status_code == 200
    assert (await api.call("GET", path, other_superuser)).status_code == 404
    # Still undecided: the Superuser decides.
    response = await api.call("POST", f"{path}/approve", superuser)
    assert response.status_code == 200
    assert response.json()["status"] == "applying"
    assert [h["status"] for h in response.json()["history"]] == [
        "submitted",
        "approved",
        "applying",
    ]


async def test_rejection_with_reason_is_shown_to_the_requester(
    api: Api, grant: Any, sessions: Any
) -> None:
    requester, superuser = ids(2)
    (org,) = ids(1)
    await grant(superuser, org)
    (request,) = await create_join_requests(api, requester, [org])
    response = await api.call(
        "POST",
        f"/requests/{request['id']}/reject",
        superuser,
        json={"reason": "Not one of our staff"},
    )
    assert response.status_code == 200
    mine = (await api.call("GET", "/requests/mine", requester)).json()
    assert mine["in_progress"] == []
    (finished,) = mine["finished"]
    assert finished["status"] == "rejected"
    assert finished["decision_reason"] == "Not one of our staff"
    assert finished["history"][-1] == {
        "at": finished["history"][-1]["at"],
        "status": "rejected",
        "actor_id": str(superuser),
        "reason": "Not one of our staff",
    }
    (event,) = await events_of(sessions, request["id"], "request.rejected")
    assert event["data"]["reason"] == "Not one of our staff"
    # Deciding again is refused; so is withdrawing.
    response = await api.call("POST", f"/requests/{request['id']}/approve", superuser)
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "already_decided"
    response = await api.call("POST", f"/requests/{request['id']}/withdraw", requester)
    assert response.status_code == 409


async def test_requester_withdraws_a_request_in_progress(
    api: Api, grant: Any, sessions: Any
) -> None:
    requester, superuser = ids(2)
    (org,) = ids(1)
    await grant(superuser, org)
    (request,) = await create_join_requests(api, requester, [org])
    response = await api.call("POST", f"/requests/{request['id']}/withdraw", superuser)
    assert response.status_code == 403
    response = await api.call("POST", f"/requests/{request['id']}/withdraw", requester)
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert response.json()["section"] == "finished"
    assert await events_of(sessions, request["id"], "request.withdrawn")
    response = await api.call("POST", f"/requests/{request['id']}/approve", superuser)
    assert response.status_code == 409


async def test_top_level_registration_is_decided_by_an_operator_only(
    api: Api, grant: Any, sessions: Any
) -> None:
    requester, operator, superuser = ids(3)
    (some_org,) = ids(1)
    await grant(superuser, some_org)
    response = await api.call(
        "POST", "/requests/registrations", requester, json={**REGISTRATION, "parent_id": None}
    )
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["orphaned"] is False  # operators always exist
    inbox = (
        await api.call(
            "GET", "/operator/requests?top_level_registrations=true", operator, operator=True
        )
    ).json()
    assert request["id"] in [r["id"] for r in inbox["items"]]
    response = await api.call("POST", f"/requests/{request['id']}/approve", superuser)
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "operator_decision_required"
    response = await api.call("POST", f"/requests/{request['id']}/approve", operator, operator=True)
    assert response.status_code == 200
    (event,) = await events_of(sessions, request["id"], "request.approved")
    proposed = event["data"]["proposed_organisation"]
    assert proposed["enterprise_number"] == "0123456749"
    assert proposed["parent_id"] is None
    assert {"application": "user-management", "role": "superuser"} in event["data"]["roles"]


async def test_sub_organisation_registration_goes_to_the_parents_superusers(
    api: Api, grant: Any
) -> None:
    requester, operator, superuser = ids(3)
    (parent,) = ids(1)
    await grant(superuser, parent)
    body = {**REGISTRATION, "parent_id": str(parent), "enterprise_number": "0200065765"}
    response = await api.call("POST", "/requests/registrations", requester, json=body)
    assert response.status_code == 201, response.text
    request = response.json()
    assert request["organisation_id"] == str(parent)
    inbox = (await api.call("GET", "/requests/inbox", superuser, organisation=parent)).json()
    assert [r["id"] for r in inbox["items"]] == [request["id"]]
    response = await api.call("POST", f"/requests/{request['id']}/approve", operator, operator=True)
    assert response.status_code == 403
    response = await api.call("POST", f"/requests/{request['id']}/approve", superuser)
    assert response.status_code == 200


async def test_registration_with_a_bad_enterprise_number_is_refused(api: Api) -> None:
    (requester,) = ids(1)
    body = {**REGISTRATION, "parent_id": None, "enterprise_number": "0123456789"}
    response = await api.call("POST", "/requests/registrations", requester, json=body)
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "enterprise_number"


async def test_superuser_inbox_filters_and_pages(api: Api, grant: Any) -> None:
    superuser, stranger = ids(2)
    requesters = ids(5)
    org, other = ids(2)
    await grant(superuser, org)
    await grant(superuser, other)
    for requester in requesters:
        await create_join_requests(api, requester, [org])
    await create_join_requests(api, requesters[0], [other])
    first = (
        await api.call("GET", "/requests/inbox?page_size=2", superuser, organisation=org)
    ).json()
    assert first["total"] == 5
    assert len(first["items"]) == 2
    third = (
        await api.call("GET", "/requests/inbox?page_size=2&page=3", superuser, organisation=org)
    ).json()
    assert len(third["items"]) == 1
    # A given organisation instead of the active one.
    given = (
        await api.call(
            "GET", f"/requests/inbox?organisation_id={other}", superuser, organisation=org
        )
    ).json()
    assert given["total"] == 1
    await api.call("POST", f"/requests/{first['items'][0]['id']}/approve", superuser)
    approved = (
        await api.call(
            "GET", "/requests/inbox?status=applying&kind=join", superuser, organisation=org
        )
    ).json()
    assert approved["total"] == 1
    none = (await api.call("GET", "/requests/inbox?kind=leave", superuser, organisation=org)).json()
    assert none["total"] == 0
    response = await api.call("GET", "/requests/inbox", stranger, organisation=org)
    assert response.status_code == 403


async def test_the_superuser_sees_who_asks_and_their_later_edits(
    api: Api, grant: Any, feed: Any
) -> None:
    """A first join request does not make the Superuser one of the requester's
    organisations' Superusers, so identity would not show the profile: the request
    carries the name and address from identity's events."""
    requester, superuser = ids(2)
    (org,) = ids(1)
    await grant(superuser, org)
    (request,) = await create_join_requests(api, requester, [org])
    unknown = await api.call("GET", f"/requests/{request['id']}", superuser)
    assert unknown.json()["requester"] is None  # identity's event has not arrived yet

    await feed(
        UserRegistered(
            user_id=requester,
            username=f"u{requester.hex[:10]}",
            given_name="Lotte",
            family_name="Maes",
            email="lotte.maes@example.be",
            language=Language.NL,
            phone="+32 2 511 11 11",
        )
    )
    seen = await api.call("GET", f"/requests/{request['id']}", superuser)
    assert seen.json()["requester"] == {
        "given_name": "Lotte",
        "family_name": "Maes",
        "email": "lotte.maes@example.be",
    }
    inbox = await api.call("GET", f"/requests/inbox?organisation_id={org}", superuser)
    assert [i["requester"]["family_name"] for i in inbox.json()["items"]] == ["Maes"]

    await feed(
        UserProfileChanged(
            user_id=requester,
            given_name="Lotte",
            family_name="Maes-Peeters",
            email="lotte@example.be",
            language=Language.NL,
            phone="+32 2 511 11 11",
            changed_by=requester,
        )
    )
    edited = await api.call("GET", f"/requests/{request['id']}", superuser)
    assert edited.json()["requester"]["family_name"] == "Maes-Peeters"
    assert edited.json()["requester"]["email"] == "lotte@example.be"
    # Others still see nothing of the request.
    other = await api.call("GET", f"/requests/{request['id']}", ids(1)[0])
    assert other.status_code == 404


async def test_a_withdrawn_operator_is_refused_at_once_though_the_token_still_claims_it(
    api: Api, feed: Any
) -> None:
    """Issue 18 finding 8: identity's withdrawal (PlatformOperatorChanged) counts
    here as soon as it arrives, not when the operator's token expires (on main
    the token's claim decided for its whole life)."""
    requester, operator = ids(2)
    response = await api.call(
        "POST", "/requests/registrations", requester, json={**REGISTRATION, "parent_id": None}
    )
    assert response.status_code == 201, response.text
    request = response.json()
    inbox = "/operator/requests?top_level_registrations=true"
    assert (await api.call("GET", inbox, operator, operator=True)).status_code == 200

    await feed(PlatformOperatorChanged(user_id=operator, platform_operator=False))
    listed = await api.call("GET", inbox, operator, operator=True)
    assert listed.status_code == 403
    decided = await api.call("POST", f"/requests/{request['id']}/approve", operator, operator=True)
    assert decided.status_code == 403
    assert decided.json()["detail"]["code"] == "operator_decision_required"
    seen = await api.call("GET", f"/requests/{request['id']}", operator, operator=True)
    assert seen.status_code in (403, 404)

    # Granted again: identity's word counts again.
    await feed(PlatformOperatorChanged(user_id=operator, platform_operator=True))
    decided = await api.call("POST", f"/requests/{request['id']}/approve", operator, operator=True)
    assert decided.status_code == 200, decided.text


async def test_the_last_superuser_cannot_drop_the_role_by_request_nor_approve_it(
    api: Api, grant: Any, feed: Any, sessions: Any
) -> None:
    """Issue 19, point 3: the same rule as through "Members" — refused when filed, and
    refused at decision time (not approved and then failed) when it became true since."""
    alone, first, second = ids(3)
    solo_org, org = ids(2)
    await grant(alone, solo_org)
    drop = {"roles": [BUYER.model_dump()]}
    response = await api.call(
        "POST",
        "/requests/role-changes",
        alone,
        json={"changes": [{"organisation_id": str(solo_org), **drop}]},
    )
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "last_superuser"
    assert response.json()["detail"]["field"] == "changes[0].roles"

    # Two Superusers: the first may ask to become a plain buyer ...
    await grant(first, org)
    await grant(second, org)
    response = await api.call(
        "POST",
        "/requests/role-changes",
        first,
        json={"changes": [{"organisation_id": str(org), **drop}]},
    )
    assert response.status_code == 201, response.text
    (request,) = response.json()
    # ... but the second leaves before anyone decides: approving is refused at once.
    await feed(MembershipRevoked(user_id=second, organisation_id=org, reason=RevocationReason.LEFT))
    response = await api.call("POST", f"/requests/{request['id']}/approve", first)
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "last_superuser"
    detail = (await api.call("GET", f"/requests/{request['id']}", first)).json()
    assert detail["status"] == "submitted"
    assert await events_of(sessions, request["id"], "request.approved") == []
    # Rejecting stays possible, with a reason (required: issue 19, point 6).
    response = await api.call("POST", f"/requests/{request['id']}/reject", first, json={})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert (detail["code"], detail["field"]) == ("reason_required", "reason")
    still = (await api.call("GET", f"/requests/{request['id']}", first)).json()
    assert still["status"] == "submitted"  # nothing changed
    response = await api.call(
        "POST", f"/requests/{request['id']}/reject", first, json={"reason": "   "}
    )
    assert response.status_code == 422
    response = await api.call(
        "POST", f"/requests/{request['id']}/reject", first, json={"reason": "Vertrokken"}
    )
    assert response.status_code == 200
