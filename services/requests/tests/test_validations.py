"""Validations up front, field-level, changing nothing (issue 19, point 11; R-NF-3):
organisations the directory does not know (basket, join, parent), organisations
already joined, enterprise numbers already in the directory, Belgian postcodes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_requests.models import request

from .conftest import BUYER, SUPERUSER, Api, FakeDirectory, ids
from .helpers import REGISTRATION


async def _nothing_filed(sessions: async_sessionmaker[AsyncSession], requester: UUID) -> bool:
    """No request of ``requester`` (so no request event: they are keyed by the request)."""
    async with sessions() as session:
        filed = await session.scalar(
            select(func.count()).select_from(request).where(request.c.requester_id == requester)
        )
    return filed == 0


async def test_an_organisation_the_directory_does_not_know_is_refused_at_once(
    api: Api, directory: FakeDirectory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    (user,) = ids(1)
    known, unknown = ids(2)
    directory.unknown.add(unknown)
    body = {"organisation_ids": [str(known), str(unknown)]}
    response = await api.call("POST", "/basket/entries", user, json=body)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert (detail["code"], detail["field"]) == ("unknown_organisation", "organisation_ids[1]")
    basket = (await api.call("GET", "/basket", user)).json()
    assert basket["entries"] == []  # all or nothing

    # An entry whose organisation left the directory since: refused at submit too.
    await api.call("POST", "/basket/entries", user, json={"organisation_ids": [str(known)]})
    await api.call(
        "PUT",
        "/basket/roles",
        user,
        json={"organisation_ids": [str(known)], "roles": [BUYER.model_dump()]},
    )
    directory.unknown.add(known)
    response = await api.call(
        "POST", "/basket/submit", user, json={"organisation_ids": [str(known)]}
    )
    assert response.status_code == 404
    assert response.json()["detail"]["field"] == "organisation_ids[0]"
    assert await _nothing_filed(sessions, user)  # no orphaned request, no operator mail


async def test_an_organisation_with_members_here_needs_no_directory_call(
    api: Api, directory: FakeDirectory, grant: Any
) -> None:
    """The existence check must not make every join request wait on (or fail with) the
    organisations service: one with members in this service's projection exists."""
    superuser, buyer = ids(2)
    staffed, empty = ids(2)
    await grant(superuser, staffed, [SUPERUSER])
    directory.down = True
    response = await api.call(
        "POST", "/basket/entries", buyer, json={"organisation_ids": [str(staffed)]}
    )
    assert response.status_code in (200, 201), response.text
    assert directory.asked == []
    # One this service knows nothing of still asks, and an unreachable directory refuses.
    response = await api.call(
        "POST", "/basket/entries", buyer, json={"organisation_ids": [str(empty)]}
    )
    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "directory_unavailable"
    assert directory.asked == [empty]
    entries = (await api.call("GET", "/basket", buyer)).json()["entries"]
    assert [e["organisation_id"] for e in entries] == [str(staffed)]


async def test_an_organisation_already_joined_is_refused_when_added_to_the_basket(
    api: Api, grant: Any
) -> None:
    (user,) = ids(1)
    other, member_of = ids(2)
    await grant(user, member_of, [BUYER])
    body = {"organisation_ids": [str(other), str(member_of)]}
    response = await api.call("POST", "/basket/entries", user, json=body)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert (detail["code"], detail["field"]) == ("already_a_member", "organisation_ids[1]")
    assert (await api.call("GET", "/basket", user)).json()["entries"] == []


async def test_registration_refuses_an_unknown_parent_and_a_registered_number_up_front(
    api: Api, directory: FakeDirectory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    (requester,) = ids(1)
    (parent,) = ids(1)
    directory.unknown.add(parent)
    body = {**REGISTRATION, "parent_id": str(parent)}
    response = await api.call("POST", "/requests/registrations", requester, json=body)
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert (detail["code"], detail["field"]) == ("unknown_organisation", "parent_id")

    directory.taken.add(REGISTRATION["enterprise_number"])
    body = {**REGISTRATION, "parent_id": None}
    response = await api.call("POST", "/requests/registrations", requester, json=body)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert (detail["code"], detail["field"]) == ("duplicate_enterprise_number", "enterprise_number")
    assert await _nothing_filed(sessions, requester)


async def test_a_postcode_is_belgian(api: Api, sessions: async_sessionmaker[AsyncSession]) -> None:
    (requester,) = ids(1)
    for postcode in ("10", "0999", "10000", "ABCD"):
        address = {**REGISTRATION["address"], "postcode": postcode}
        body = {**REGISTRATION, "parent_id": None, "address": address}
        response = await api.call("POST", "/requests/registrations", requester, json=body)
        assert response.status_code == 422, postcode
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["body", "address", "postcode"]
        assert problem["type"] == "invalid_postcode"
    assert await _nothing_filed(sessions, requester)
    address = {**REGISTRATION["address"], "postcode": " 9000 "}
    body = {**REGISTRATION, "parent_id": None, "address": address}
    response = await api.call("POST", "/requests/registrations", requester, json=body)
    assert response.status_code == 201, response.text
    stored: Any = response.json()
    assert UUID(stored["id"])
