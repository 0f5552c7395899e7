"""The requests service: the join basket and the user's requests
(see eproc_requests.api)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eproc_portal.clients.base import ServiceClient


def _ids(organisation_ids: Iterable[UUID]) -> list[str]:
    return [str(i) for i in organisation_ids]


class RequestsClient(ServiceClient):
    async def basket(self, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/basket", token)
        return result

    async def add_to_basket(self, token: str, organisation_ids: Iterable[UUID]) -> Any:
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.call("POST", "/basket/entries", token, json=body)

    async def remove_from_basket(self, token: str, organisation_ids: Iterable[UUID]) -> Any:
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.call("POST", "/basket/remove", token, json=body)

    async def set_basket_roles(
        self, token: str, organisation_ids: Iterable[UUID], roles: list[dict[str, str]]
    ) -> Any:
        body = {"organisation_ids": _ids(organisation_ids), "roles": roles}
        return await self.call("PUT", "/basket/roles", token, json=body)

    async def submit_basket(self, token: str, organisation_ids: Iterable[UUID]) -> Any:
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.call("POST", "/basket/submit", token, json=body)

    async def my_requests(self, token: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/requests/mine", token)
        return result

    async def request_detail(self, token: str, request_id: UUID) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/requests/{request_id}", token)
        return result

    async def withdraw(self, token: str, request_id: UUID) -> Any:
        return await self.call("POST", f"/requests/{request_id}/withdraw", token)

    async def register_organisation(self, token: str, proposal: dict[str, Any]) -> Any:
        """An organisation-registration request (R-ORG-3, R-REQ-9)."""
        return await self.call("POST", "/requests/registrations", token, json=proposal)

    async def request_role_changes(
        self, token: str, organisation_ids: Iterable[UUID], roles: list[dict[str, str]]
    ) -> Any:
        """Role-change requests: the same new roles in one or several organisations (R-REQ-6)."""
        changes = [{"organisation_id": i, "roles": roles} for i in _ids(organisation_ids)]
        return await self.call("POST", "/requests/role-changes", token, json={"changes": changes})

    async def request_leaves(self, token: str, organisation_ids: Iterable[UUID]) -> Any:
        """Leave requests, one per organisation (R-REQ-7)."""
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.call("POST", "/requests/leaves", token, json=body)

    async def inbox(self, token: str, organisation_id: UUID, *, page: int = 1) -> dict[str, Any]:
        """Requests awaiting a decision by the organisation's Superusers (R-REQ-4)."""
        params = {"organisation_id": str(organisation_id), "page": page}
        result: dict[str, Any] = await self.call("GET", "/requests/inbox", token, params=params)
        return result

    async def approve(self, token: str, request_id: UUID) -> Any:
        return await self.call("POST", f"/requests/{request_id}/approve", token)

    async def reject(self, token: str, request_id: UUID, reason: str) -> Any:
        return await self.call(
            "POST", f"/requests/{request_id}/reject", token, json={"reason": reason}
        )

    async def orphaned_requests(self, token: str, *, page: int = 1) -> dict[str, Any]:
        """Requests waiting for an organisation without any Superuser (R-REQ-13)."""
        result: dict[str, Any] = await self.call(
            "GET", "/operator/orphaned-requests", token, params={"page": page}
        )
        return result

    async def audit(self, token: str, *, limit: int, **filters: Any) -> dict[str, Any]:
        """The requests audit trail, newest first (R-NF-1), for platform operators."""
        params = {
            "page": 1,
            "page_size": limit,
            **{k: str(v) for k, v in filters.items() if v is not None},
        }
        result: dict[str, Any] = await self.call("GET", "/operator/audit", token, params=params)
        return result

    async def top_level_registrations(
        self, token: str, *, page: int = 1, statuses: Iterable[str] = ("submitted",)
    ) -> dict[str, Any]:
        """Registrations of top-level organisations: the operators decide them (R-ORG-3)."""
        params: dict[str, Any] = {
            "top_level_registrations": "true",
            "status": list(statuses),
            "page": page,
        }
        result: dict[str, Any] = await self.call("GET", "/operator/requests", token, params=params)
        return result
