"""The requests service: the join basket and the user's requests
(see eproc_requests.api)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eproc_contracts.common import RoleGrant
from eproc_contracts.requests import (
    AuditPageOut,
    BasketOut,
    MyRequestsOut,
    RequestOut,
    RequestPageOut,
)
from eproc_portal.clients.base import ServiceClient


def _ids(organisation_ids: Iterable[UUID]) -> list[str]:
    return [str(i) for i in organisation_ids]


def _grants(roles: Iterable[RoleGrant]) -> list[dict[str, str]]:
    return [r.model_dump() for r in roles]


class RequestsClient(ServiceClient):
    async def basket(self, token: str) -> BasketOut:
        return await self.fetch(BasketOut, "GET", "/basket", token)

    async def add_to_basket(self, token: str, organisation_ids: Iterable[UUID]) -> BasketOut:
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.fetch(BasketOut, "POST", "/basket/entries", token, json=body)

    async def remove_from_basket(self, token: str, organisation_ids: Iterable[UUID]) -> BasketOut:
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.fetch(BasketOut, "POST", "/basket/remove", token, json=body)

    async def set_basket_roles(
        self, token: str, organisation_ids: Iterable[UUID], roles: list[RoleGrant]
    ) -> BasketOut:
        body = {"organisation_ids": _ids(organisation_ids), "roles": _grants(roles)}
        return await self.fetch(BasketOut, "PUT", "/basket/roles", token, json=body)

    async def submit_basket(self, token: str, organisation_ids: Iterable[UUID]) -> list[RequestOut]:
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.fetch(list[RequestOut], "POST", "/basket/submit", token, json=body)

    async def my_requests(self, token: str) -> MyRequestsOut:
        return await self.fetch(MyRequestsOut, "GET", "/requests/mine", token)

    async def request_detail(self, token: str, request_id: UUID) -> RequestOut:
        return await self.fetch(RequestOut, "GET", f"/requests/{request_id}", token)

    async def withdraw(self, token: str, request_id: UUID) -> RequestOut:
        return await self.fetch(RequestOut, "POST", f"/requests/{request_id}/withdraw", token)

    async def register_organisation(self, token: str, proposal: dict[str, Any]) -> RequestOut:
        """An organisation-registration request (R-ORG-3, R-REQ-9)."""
        return await self.fetch(RequestOut, "POST", "/requests/registrations", token, json=proposal)

    async def request_role_changes(
        self, token: str, organisation_ids: Iterable[UUID], roles: list[RoleGrant]
    ) -> list[RequestOut]:
        """Role-change requests: the same new roles in one or several organisations (R-REQ-6)."""
        changes = [{"organisation_id": i, "roles": _grants(roles)} for i in _ids(organisation_ids)]
        return await self.fetch(
            list[RequestOut], "POST", "/requests/role-changes", token, json={"changes": changes}
        )

    async def request_leaves(
        self, token: str, organisation_ids: Iterable[UUID]
    ) -> list[RequestOut]:
        """Leave requests, one per organisation (R-REQ-7)."""
        body = {"organisation_ids": _ids(organisation_ids)}
        return await self.fetch(list[RequestOut], "POST", "/requests/leaves", token, json=body)

    async def inbox(self, token: str, organisation_id: UUID, *, page: int = 1) -> RequestPageOut:
        """Requests awaiting a decision by the organisation's Superusers (R-REQ-4)."""
        params = {"organisation_id": str(organisation_id), "page": page}
        return await self.fetch(RequestPageOut, "GET", "/requests/inbox", token, params=params)

    async def approve(self, token: str, request_id: UUID) -> RequestOut:
        return await self.fetch(RequestOut, "POST", f"/requests/{request_id}/approve", token)

    async def reject(self, token: str, request_id: UUID, reason: str) -> RequestOut:
        path = f"/requests/{request_id}/reject"
        return await self.fetch(RequestOut, "POST", path, token, json={"reason": reason})

    async def orphaned_requests(self, token: str, *, page: int = 1) -> RequestPageOut:
        """Requests waiting for an organisation without any Superuser (R-REQ-13)."""
        path = "/operator/orphaned-requests"
        return await self.fetch(RequestPageOut, "GET", path, token, params={"page": page})

    async def audit(self, token: str, *, limit: int, **filters: Any) -> AuditPageOut:
        """The requests audit trail, newest first (R-NF-1), for platform operators."""
        params = {
            "page": 1,
            "page_size": limit,
            **{k: str(v) for k, v in filters.items() if v is not None},
        }
        return await self.fetch(AuditPageOut, "GET", "/operator/audit", token, params=params)

    async def top_level_registrations(
        self, token: str, *, page: int = 1, statuses: Iterable[str] = ("submitted",)
    ) -> RequestPageOut:
        """Registrations of top-level organisations: the operators decide them (R-ORG-3)."""
        params: dict[str, Any] = {
            "top_level_registrations": "true",
            "status": list(statuses),
            "page": page,
        }
        return await self.fetch(RequestPageOut, "GET", "/operator/requests", token, params=params)
