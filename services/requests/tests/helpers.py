"""Plain ``create_*`` helpers shared by the tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eproc_contracts.common import RoleGrant

from .conftest import BUYER, Api


async def create_join_requests(
    api: Api, user: UUID, organisations: list[UUID], roles: list[RoleGrant] | None = None
) -> list[dict[str, Any]]:
    """Through the basket, as a user would: select, edit roles, submit."""
    body = {"organisation_ids": [str(o) for o in organisations]}
    assert (await api.call("POST", "/basket/entries", user, json=body)).status_code == 200
    grants = [g.model_dump() for g in roles or [BUYER]]
    response = await api.call("PUT", "/basket/roles", user, json={**body, "roles": grants})
    assert response.status_code == 200, response.text
    response = await api.call("POST", "/basket/submit", user, json=body)
    assert response.status_code == 201, response.text
    created: list[dict[str, Any]] = response.json()
    return sorted(created, key=lambda r: organisations.index(UUID(r["organisation_id"])))


REGISTRATION = {
    "names": {"nl": "Dienst Aankopen", "fr": "Service Achats"},
    "enterprise_number": "0123456749",
    "address": {
        "street": "Wetstraat",
        "number": "16",
        "postcode": "1000",
        "municipality": "Brussel",
    },
}
