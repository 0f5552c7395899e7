"""The basket "join requests awaiting submission" and its submission (R-REQ-1..3, R-REQ-13)."""

from __future__ import annotations

import asyncio
from typing import Any

from .conftest import BUYER, PUBLISHER, Api, events_of, ids


def _roles(*grants: Any) -> list[dict[str, str]]:
    return [g.model_dump() for g in grants]


async def test_basket_collects_organisations_and_roles_and_survives_logout(api: Api) -> None:
    (user,) = ids(1)
    org_a, org_b, org_c = ids(3)
    response = await api.call(
        "POST", "/basket/entries", user, json={"organisation_ids": [str(org_a)]}
    )
    assert response.status_code == 200
    response = await api.call(
        "POST",
        "/basket/entries",
        user,
        json={"organisation_ids": [str(org_b), str(org_c), str(org_a)]},
    )
    assert [e["organisation_id"] for e in response.json()["entries"]] == [
        str(org_a),
        str(org_b),
        str(org_c),
    ]
    # "Edit roles" for two organisations at once, then one more on its own.
    response = await api.call(
        "PUT",
        "/basket/roles",
        user,
        json={"organisation_ids": [str(org_a), str(org_b)], "roles": _roles(BUYER, PUBLISHER)},
    )
    assert response.status_code == 200
    # A new token (a new login) sees the same basket: it lives in the database.
    entries = {
        e["organisation_id"]: e for e in (await api.call("GET", "/basket", user)).json()["entries"]
    }
    assert (
        entries[str(org_a)]["roles"]
        == entries[str(org_b)]["roles"]
        == [
            {"application": "e-notification", "role": "publisher"},
            {"application": "user-management", "role": "buyer"},
        ]
    )
    assert entries[str(org_c)]["ready"] is False
    assert entries[str(org_a)]["ready"] is True
    # Someone else's basket is their own.
    (other,) = ids(1)
    assert (await api.call("GET", "/basket", other)).json() == {"entries": []}


async def test_superuser_in_one_application_means_superuser_everywhere(api: Api) -> None:
    (user,) = ids(1)
    (org,) = ids(1)
    await api.call("POST", "/basket/entries", user, json={"organisation_ids": [str(org)]})
    response = await api.call(
        "PUT",
        "/basket/roles",
        user,
        json={
            "organisation_ids": [str(org)],
            "roles": [{"application": "e-awarding", "role": "superuser"}],
        },
    )
    assert {(r["application"], r["role"]) for r in response.json()["entries"][0]["roles"]} == {
        ("e-awarding", "superuser"),
        ("e-notification", "superuser"),
        ("user-management", "superuser"),
    }


async def test_unknown_role_is_refused_with_the_field(api: Api) -> None:
    (user,) = ids(1)
    (org,) = ids(1)
    await api.call("POST", "/basket/entries", user, json={"organisation_ids": [str(org)]})
    response = await api.call(
        "PUT",
        "/basket/roles",
        user,
        json={
            "organisation_ids": [str(org)],
            "roles": [BUYER.model_dump(), {"application": "e-tendering", "role": "king"}],
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "unknown_role"
    assert response.json()["detail"]["field"] == "roles[1]"


async def test_an_entry_without_roles_cannot_be_submitted_and_nothing_is_created(api: Api) -> None:
    (user,) = ids(1)
    org_a, org_b = ids(2)
    await api.call(
        "POST", "/basket/entries", user, json={"organisation_ids": [str(org_a), str(org_b)]}
    )
    await api.call(
        "PUT",
        "/basket/roles",
        user,
        json={"organisation_ids": [str(org_a)], "roles": _roles(BUYER)},
    )
    response = await api.call(
        "POST", "/basket/submit", user, json={"organisation_ids": [str(org_a), str(org_b)]}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "roles_required"
    assert detail["field"] == "organisation_ids[1]"
    assert str(org_b) in detail["message"]
    mine = (await api.call("GET", "/requests/mine", user)).json()
    assert mine == {"in_progress": [], "finished": []}
    assert len((await api.call("GET", "/basket", user)).json()["entries"]) == 2


async def test_submit_creates_one_request_per_ticked_organisation(
    api: Api, grant: Any, sessions: Any
) -> None:
    user, superuser = ids(2)
    org_a, org_b, org_c = ids(3)
    await grant(superuser, org_a)
    await grant(superuser, org_b)
    await api.call(
        "POST",
        "/basket/entries",
        user,
        json={"organisation_ids": [str(o) for o in (org_a, org_b, org_c)]},
    )
    await api.call(
        "PUT",
        "/basket/roles",
        user,
        json={"organisation_ids": [str(o) for o in (org_a, org_b, org_c)], "roles": _roles(BUYER)},
    )
    response = await api.call(
        "POST",
        "/basket/submit",
        user,
        json={"organisation_ids": [str(org_a), str(org_b)], "justification": "New colleague"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert sorted(r["organisation_id"] for r in created) == sorted([str(org_a), str(org_b)])
    assert {r["kind"] for r in created} == {"join"}
    assert {r["status"] for r in created} == {"submitted"}
    # The unticked entry stays in the basket.
    basket = (await api.call("GET", "/basket", user)).json()["entries"]
    assert [e["organisation_id"] for e in basket] == [str(org_c)]
    for request in created:
        (event,) = await events_of(sessions, request["id"], "request.submitted")
        assert event["data"]["roles"] == [{"application": "user-management", "role": "buyer"}]
        assert event["data"]["justification"] == "New colleague"
    mine = (await api.call("GET", "/requests/mine", user)).json()
    assert len(mine["in_progress"]) == 2
    assert mine["in_progress"][0]["history"][0]["status"] == "submitted"
    # Selecting the same organisation again while it is in progress is refused at once
    # (issue 19, point 11), naming the entry.
    response = await api.call(
        "POST", "/basket/entries", user, json={"organisation_ids": [str(org_a)]}
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert (detail["code"], detail["field"]) == ("request_in_progress", "organisation_ids[0]")


async def test_a_submission_sent_twice_at_once_files_each_request_once(
    api: Api, grant: Any
) -> None:
    """A client that resends "submit" while its first attempt still runs (its
    answer lost to a restart, the gateway sending the retry to another
    instance) gets one set of requests: the second attempt waits for the first
    and is then refused as a duplicate (found by the cluster chaos run)."""
    user, superuser = ids(2)
    orgs = ids(3)
    for org in orgs:
        await grant(superuser, org)
    body = {"organisation_ids": [str(o) for o in orgs]}
    await api.call("POST", "/basket/entries", user, json=body)
    await api.call("PUT", "/basket/roles", user, json={**body, "roles": _roles(BUYER)})
    first, second = await asyncio.gather(
        api.call("POST", "/basket/submit", user, json=body),
        api.call("POST", "/basket/submit", user, json=body),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409], (
        first.text,
        second.text,
    )
    refused = first if first.status_code == 409 else second
    assert refused.json()["detail"]["code"] == "request_in_progress"
    mine = (await api.call("GET", "/requests/mine", user)).json()
    assert sorted(r["organisation_id"] for r in mine["in_progress"]) == sorted(map(str, orgs))


async def test_request_for_organisation_without_superuser_is_flagged_until_one_appears(
    api: Api, grant: Any, sessions: Any
) -> None:
    user, operator, superuser = ids(3)
    (org,) = ids(1)
    await api.call("POST", "/basket/entries", user, json={"organisation_ids": [str(org)]})
    await api.call(
        "PUT", "/basket/roles", user, json={"organisation_ids": [str(org)], "roles": _roles(BUYER)}
    )
    (request,) = (
        await api.call("POST", "/basket/submit", user, json={"organisation_ids": [str(org)]})
    ).json()
    assert request["orphaned"] is True
    assert "no Superuser" in request["waiting_reason"]
    assert await events_of(sessions, request["id"], "request.orphaned")
    orphans = (await api.call("GET", "/operator/orphaned-requests", operator, operator=True)).json()
    assert request["id"] in [r["id"] for r in orphans["items"]]
    # Only operators see that list.
    response = await api.call("GET", "/operator/orphaned-requests", user)
    assert response.status_code == 403

    await grant(superuser, org)
    detail = (await api.call("GET", f"/requests/{request['id']}", user)).json()
    assert detail["orphaned"] is False
    assert detail["waiting_reason"] is None
    assert [h["status"] for h in detail["history"]] == [
        "submitted",
        "orphaned",
        "superuser_available",
    ]
    orphans = (await api.call("GET", "/operator/orphaned-requests", operator, operator=True)).json()
    assert request["id"] not in [r["id"] for r in orphans["items"]]
