"""The edge's session API: the top bar and "Change organisation" (see eproc_edge.api)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eproc_portal.clients.base import ServiceClient


class EdgeClient(ServiceClient):
    async def topbar(self, token: str) -> dict[str, Any]:
        """Who, the active organisation, the user's organisations, and the applications
        the top bar offers (only those where the user holds a role, R-SSO-3)."""
        result: dict[str, Any] = await self.call("GET", "/session/topbar", token)
        return result

    async def change_organisation(self, token: str, organisation_id: UUID) -> dict[str, Any]:
        """Make ``organisation_id`` the active organisation of the portal's session."""
        result: dict[str, Any] = await self.call(
            "POST",
            "/session/organisation",
            token,
            json={"organisation_id": str(organisation_id)},
        )
        return result
