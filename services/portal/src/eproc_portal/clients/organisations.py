"""The organisations service: directory, memberships, role catalogue
(see eproc_organisations.api)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eproc_contracts.common import RoleGrant
from eproc_contracts.directory import (
    AccountMatchPage,
    MemberOut,
    MyMembership,
    OperatorAuditEntry,
    OrganisationOut,
    OrganisationPage,
    SearchPage,
)
from eproc_contracts.roles import RoleCatalogue
from eproc_portal.clients.base import ServiceClient


class OrganisationsClient(ServiceClient):
    async def roles(self) -> RoleCatalogue:
        """The role catalogue with names and descriptions in nl/fr/de/en (R-ROLE-3)."""
        return await self.fetch(RoleCatalogue, "GET", "/roles", None)

    async def roots(
        self, token: str, lang: str, *, offset: int = 0, limit: int = 50
    ) -> OrganisationPage:
        params = {"lang": lang, "offset": offset, "limit": limit}
        return await self.fetch(
            OrganisationPage, "GET", "/organisations/roots", token, params=params
        )

    async def children(
        self, token: str, organisation_id: UUID, lang: str, *, offset: int = 0, limit: int = 50
    ) -> OrganisationPage:
        params = {"lang": lang, "offset": offset, "limit": limit}
        path = f"/organisations/{organisation_id}/children"
        return await self.fetch(OrganisationPage, "GET", path, token, params=params)

    async def organisation(self, token: str, organisation_id: UUID, lang: str) -> OrganisationOut:
        path = f"/organisations/{organisation_id}"
        return await self.fetch(OrganisationOut, "GET", path, token, params={"lang": lang})

    async def path(self, token: str, organisation_id: UUID, lang: str) -> list[OrganisationOut]:
        """The ancestors from the root down to the organisation ("show in tree")."""
        path = f"/organisations/{organisation_id}/path"
        return await self.fetch(list[OrganisationOut], "GET", path, token, params={"lang": lang})

    async def search(self, token: str, query: str, lang: str, *, limit: int = 20) -> SearchPage:
        params = {"q": query, "lang": lang, "limit": limit}
        return await self.fetch(SearchPage, "GET", "/organisations/search", token, params=params)

    async def my_organisations(self, token: str, lang: str) -> list[MyMembership]:
        params = {"lang": lang}
        return await self.fetch(
            list[MyMembership], "GET", "/me/organisations", token, params=params
        )

    async def set_default_organisation(self, token: str, organisation_id: UUID) -> None:
        await self.call(
            "PUT",
            "/me/default-organisation",
            token,
            json={"organisation_id": str(organisation_id)},
        )

    async def members(self, token: str, organisation_id: UUID) -> list[MemberOut]:
        """The organisation's members with their roles, for its Superusers (R-SU-1)."""
        path = f"/organisations/{organisation_id}/members"
        return await self.fetch(list[MemberOut], "GET", path, token)

    async def add_member(
        self, token: str, organisation_id: UUID, username: str, roles: list[RoleGrant]
    ) -> MemberOut:
        body = {"username": username, "roles": [r.model_dump() for r in roles]}
        path = f"/organisations/{organisation_id}/members"
        return await self.fetch(MemberOut, "POST", path, token, json=body)

    async def change_member_roles(
        self, token: str, organisation_id: UUID, user_id: UUID, roles: list[RoleGrant]
    ) -> list[RoleGrant]:
        """The member's roles as the organisation now holds them (R-SU-1)."""
        path = f"/organisations/{organisation_id}/members/{user_id}/roles"
        body = {"roles": [r.model_dump() for r in roles]}
        return await self.fetch(list[RoleGrant], "PUT", path, token, json=body)

    async def remove_member(self, token: str, organisation_id: UUID, user_id: UUID) -> None:
        await self.call("DELETE", f"/organisations/{organisation_id}/members/{user_id}", token)

    async def edit_organisation(
        self, token: str, organisation_id: UUID, names: dict[str, str], address: dict[str, str]
    ) -> OrganisationOut:
        """The organisation's data; never its enterprise number (R-ORG-4)."""
        path = f"/organisations/{organisation_id}"
        body = {"names": names, "address": address}
        return await self.fetch(OrganisationOut, "PATCH", path, token, json=body)

    # --- the operators' console (R-OP-1) ---------------------------------------------

    async def user_memberships(self, token: str, user_id: UUID, lang: str) -> list[MyMembership]:
        """A user's memberships with roles, for platform operators."""
        path = f"/operator/users/{user_id}/memberships"
        return await self.fetch(list[MyMembership], "GET", path, token, params={"lang": lang})

    async def matching_organisations(
        self, token: str, query: str, lang: str
    ) -> list[OrganisationOut]:
        """The organisation with this enterprise number, or those best matching this name."""
        params = {"q": query, "lang": lang}
        return await self.fetch(
            list[OrganisationOut], "GET", "/operator/organisations", token, params=params
        )

    async def members_matching(
        self, token: str, query: str, lang: str, *, offset: int = 0, limit: int = 20
    ) -> AccountMatchPage:
        """Members of the organisations matching a name or an enterprise number."""
        params = {"q": query, "lang": lang, "offset": offset, "limit": limit}
        return await self.fetch(AccountMatchPage, "GET", "/operator/members", token, params=params)

    async def audit(self, token: str, *, limit: int, **filters: Any) -> list[OperatorAuditEntry]:
        """The organisations' audit trail, newest first (platform operators)."""
        params = {"limit": limit, **{k: str(v) for k, v in filters.items() if v is not None}}
        return await self.fetch(
            list[OperatorAuditEntry], "GET", "/operator/audit", token, params=params
        )
