"""The edge's session API (the top bar, "Change organisation") and its client
registry API for operators (see eproc_edge.api)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
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

    # --- the client registry (operators only; the edge authorises every call)

    async def registered_clients(self, token: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.call("GET", "/clients", token)
        return result

    async def registered_client(self, token: str, client_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/clients/{_id(client_id)}", token)
        return result

    async def client_changes(self, token: str, client_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.call(
            "GET", f"/clients/{_id(client_id)}/changes", token
        )
        return result

    async def register_client(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        """The new client and its first secret (``client_secret``, shown once)."""
        result: dict[str, Any] = await self.call("POST", "/clients", token, json=body)
        return result

    async def update_client(
        self, token: str, client_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "PATCH", f"/clients/{_id(client_id)}", token, json=body
        )
        return result

    async def rotate_secret(self, token: str, client_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "POST", f"/clients/{_id(client_id)}/secrets", token
        )
        return result

    async def retire_secret(self, token: str, client_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "POST", f"/clients/{_id(client_id)}/secrets/retire", token, json={}
        )
        return result

    async def set_client_enabled(self, token: str, client_id: str, enabled: bool) -> None:
        action = "enable" if enabled else "disable"
        await self.call("POST", f"/clients/{_id(client_id)}/{action}", token)


def _id(client_id: str) -> str:
    return quote(client_id, safe="")
