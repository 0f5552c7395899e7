"""Role changes (R-REQ-6), leaving (R-REQ-7, R-REQ-8) and the saga with the
organisations service: approved → applying → completed, or failed with the
reason shown to the requester."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from eproc_contracts.events import (
    MembershipChangeRefused,
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    OrganisationRegistered,
    RefusalReason,
    RevocationReason,
)
from eproc_requests.leave_guard import HttpLeaveGuard

from .conftest import BUYER, PUBLISHER, SUPERUSER, Api, FakeLeaveGuard, events_of, ids
from .helpers import REGISTRATION, create_join_requests


async def test_join_completes_when_the_membership_is_granted(
    api: Api, grant: Any, feed: Any, sessions: Any
) -> None:
    requester, superuser = ids(2)
    (org,) = ids(1)
    await grant(superuser, org)
    (request,) = await create_join_requests(api, requester, [org], [BUYER, PUBLISHER])
    await api.call("POST", f"/requests/{request['id']}/approve", superuser)
    (approved,) = await events_of(sessions, request["id"], "request.approved")
    assert approved["data"]["roles"] == [PUBLISHER.model_dump(), BUYER.model_dump()]
    granted = MembershipGranted(
        user_id=requester,
        organisation_id=org,
        roles=[BUYER, PUBLISHER],
        request_id=UUID(request["id"]),
        granted_by=superuser,
    )
    envelope = await feed(granted)
    await feed(granted)  # a second confirmation changes nothing
    detail = (await api.call("GET", f"/requests/{request['id']}", requester)).json()
    assert detail["status"] == "completed"
    assert [h["status"] for h in detail["history"]] == [
        "submitted",
        "approved",
        "applying",
        "completed",
    ]
    (completed,) = await events_of(sessions, request["id"], "request.completed")
    assert completed["causation_id"] == str(envelope.event_id)
    # The projection now knows the membership: joining again is refused when selected.
    response = await api.call(
        "POST", "/basket/entries", requester, json={"organisation_ids": [str(org)]}
    )
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "already_a_member"


async def test_role_changes_for_several_organisations(
    api: Api, grant: Any, feed: Any, sessions: Any
) -> None:
    member, superuser = ids(2)
    org_a, org_b, stranger_org = ids(3)
    for org in (org_a, org_b):
        await grant(superuser, org)
        await grant(member, org, [BUYER])
    body = {
        "changes": [
            {"organisation_id": str(org_a), "roles": [BUYER.model_dump(), PUBLISHER.model_dump()]},
            {"organisation_id": str(org_b), "roles": [PUBLISHER.model_dump()]},
        ]
    }
    response = await api.call("POST", "/requests/role-changes", member, json=body)
    assert response.status_code == 201, response.text
    first, second = response.json()
    assert {first["kind"], second["kind"]} == {"role_change"}
    # Not a member, no change, or no role at all: refused, nothing created.
    for change, code in [
        ({"organisation_id": str(stranger_org), "roles": [BUYER.model_dump()]}, "not_a_member"),
        ({"organisation_id": str(org_a), "roles": [BUYER.model_dump()]}, "no_change"),
        ({"organisation_id": str(org_a), "roles": [PUBLISHER.model_dump()]}, "request_in_progress"),
        ({"organisation_id": str(org_a), "roles": []}, "roles_required"),
    ]:
        response = await api.call(
            "POST", "/requests/role-changes", member, json={"changes": [change]}
        )
        assert response.json()["detail"]["code"] == code, change
    await api.call("POST", f"/requests/{first['id']}/approve", superuser)
    await feed(
        MembershipRolesChanged(
            user_id=member,
            organisation_id=UUID(first["organisation_id"]),
            roles=[BUYER, PUBLISHER],
            request_id=UUID(first["id"]),
        )
    )
    detail = (await api.call("GET", f"/requests/{first['id']}", member)).json()
    assert detail["status"] == "completed"


async def test_leaving_as_last_superuser_is_refused_up_front(
    api: Api, grant: Any, leave_guard: FakeLeaveGuard, sessions: Any
) -> None:
    (member,) = ids(1)
    org_a, org_b = ids(2)
    await grant(member, org_a)
    await grant(member, org_b)
    leave_guard.refusals[(member, org_b)] = "last_superuser"
    response = await api.call(
        "POST",
        "/requests/leaves",
        member,
        json={"organisation_ids": [str(org_a), str(org_b)]},
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail["code"] == "leave_refused"
    assert detail["reason"] == "last_superuser"
    assert detail["field"] == "organisation_ids[1]"
    assert "last Superuser" in detail["message"]
    assert set(leave_guard.asked) == {(member, org_a), (member, org_b)}
    # Nothing was created, not even for the organisation that could be left.
    assert (await api.call("GET", "/requests/mine", member)).json()["in_progress"] == []
    response = await api.call(
        "POST", "/requests/leaves", member, json={"organisation_ids": [str(org_a)]}
    )
    assert response.status_code == 201
    (request,) = response.json()
    assert request["kind"] == "leave"


async def test_apply_time_refusal_ends_as_failed_with_the_reason_for_the_user(
    api: Api, grant: Any, feed: Any, sessions: Any
) -> None:
    member, other_superuser = ids(2)
    (org,) = ids(1)
    await grant(member, org)
    await grant(other_superuser, org)
    # Up front the member is not the last Superuser: the guard lets it through.
    response = await api.call(
        "POST", "/requests/leaves", member, json={"organisation_ids": [str(org)]}
    )
    (request,) = response.json()
    await api.call("POST", f"/requests/{request['id']}/approve", other_superuser)
    # Meanwhile the other Superuser left, so applying the leave is refused.
    await feed(
        MembershipRevoked(
            user_id=other_superuser, organisation_id=org, reason=RevocationReason.LEFT
        )
    )
    await feed(
        MembershipChangeRefused(
            user_id=member,
            organisation_id=org,
            request_id=UUID(request["id"]),
            reason=RefusalReason.LAST_SUPERUSER,
        )
    )
    mine = (await api.call("GET", "/requests/mine", member)).json()
    (finished,) = mine["finished"]
    assert finished["status"] == "failed"
    assert finished["outcome_reason"] == "last_superuser"
    assert "last Superuser" in finished["outcome_message"]
    assert finished["history"][-1]["status"] == "failed"
    assert "last Superuser" in finished["history"][-1]["reason"]
    (failed,) = await events_of(sessions, request["id"], "request.failed")
    assert failed["data"]["reason"] == "last_superuser"
    # A late confirmation does not turn it into a success.
    await feed(
        MembershipRevoked(
            user_id=member,
            organisation_id=org,
            reason=RevocationReason.LEFT,
            request_id=UUID(request["id"]),
        )
    )
    assert (await api.call("GET", f"/requests/{request['id']}", member)).json()[
        "status"
    ] == "failed"


async def test_losing_the_last_superuser_flags_waiting_requests(
    api: Api, grant: Any, feed: Any, sessions: Any
) -> None:
    requester, superuser = ids(2)
    (org,) = ids(1)
    await grant(superuser, org)
    (request,) = await create_join_requests(api, requester, [org])
    assert request["orphaned"] is False
    await feed(MembershipRolesChanged(user_id=superuser, organisation_id=org, roles=[BUYER]))
    detail = (await api.call("GET", f"/requests/{request['id']}", requester)).json()
    assert detail["orphaned"] is True
    assert detail["waiting_reason"]
    assert await events_of(sessions, request["id"], "request.orphaned")


async def test_registration_completes_when_the_organisation_is_registered(
    api: Api, feed: Any
) -> None:
    requester, operator = ids(2)
    body = {**REGISTRATION, "parent_id": None, "enterprise_number": "0300000016"}
    request = (await api.call("POST", "/requests/registrations", requester, json=body)).json()
    await api.call("POST", f"/requests/{request['id']}/approve", operator, operator=True)
    proposed = request["proposed_organisation"]
    await feed(
        OrganisationRegistered(
            organisation_id=UUID(proposed["organisation_id"]),
            parent_id=None,
            names=proposed["names"],
            enterprise_number=proposed["enterprise_number"],
            address=proposed["address"],
            registered_by=requester,
        )
    )
    assert (await api.call("GET", f"/requests/{request['id']}", requester)).json()[
        "status"
    ] == "completed"
    # The registering buyer is now its Superuser (the organisations service says so).
    await feed(
        MembershipGranted(
            user_id=requester,
            organisation_id=UUID(proposed["organisation_id"]),
            roles=[SUPERUSER, BUYER],
            request_id=UUID(request["id"]),
        )
    )
    inbox = await api.call(
        "GET", "/requests/inbox", requester, organisation=UUID(proposed["organisation_id"])
    )
    assert inbox.status_code == 200


async def test_http_leave_guard_reads_the_organisations_answer() -> None:
    user, org = ids(2)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/down"):
            return httpx.Response(503)
        return httpx.Response(
            200,
            json={"allowed": False, "refusals": [{"reason": "linked_dossiers", "message": "2"}]},
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        guard = HttpLeaveGuard(
            "http://orgs/o/{organisation_id}/m/{user_id}", bearer_token="tok", client=client
        )
        verdict = await guard.check_leave(user, org)
        assert (verdict.allowed, verdict.reason, verdict.detail) == (False, "linked_dossiers", "2")
        assert seen[0].url.path == f"/o/{org}/m/{user}"
        assert seen[0].headers["authorization"] == "Bearer tok"
        # Unreachable: let the request through; the apply-time check decides.
        down = HttpLeaveGuard("http://orgs/down", bearer_token=None, client=client)
        assert (await down.check_leave(user, org)).allowed is True
