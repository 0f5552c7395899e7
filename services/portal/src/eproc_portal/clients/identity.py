"""The identity service: registration, profiles (see eproc_identity.api)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel

from eproc_portal.clients.base import ServiceClient

PROFILE_FIELDS = ("email", "language", "phone", "mobile", "job_title")
"""What a user may edit in their profile (R-PROF-1)."""


class Profile(BaseModel):
    """A user's profile as identity answers it (``eproc_identity.schemas.ProfileOut``)."""

    id: UUID
    username: str
    given_name: str
    family_name: str
    email: str
    language: Literal["nl", "fr", "de", "en"]
    phone: str
    mobile: str | None = None
    job_title: str | None = None
    local_login_enabled: bool
    local_login_allowed: bool = False
    """Whether the user may log in with a password now (answered on /users/me)."""
    created_at: datetime
    updated_at: datetime


class Contact(BaseModel):
    """One address-book entry (``eproc_identity.schemas.ContactOut``)."""

    id: UUID
    name: str
    organisation: str | None
    email: str | None
    phone: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class ContactPage(BaseModel):
    """A page of the address book (``eproc_identity.schemas.ContactPage``)."""

    items: list[Contact]
    total: int
    limit: int
    offset: int


class LocalLoginPolicy(BaseModel):
    """Whether local login is on for everyone (``eproc_identity.schemas.GlobalPolicyOut``)."""

    local_login_enabled: bool
    changed_by: UUID | None = None
    changed_at: datetime | None = None


class Account(BaseModel):
    """An account as the operators' search shows it (``eproc_identity.schemas.AccountOut``)."""

    id: UUID
    username: str
    given_name: str
    family_name: str
    email: str
    language: Literal["nl", "fr", "de", "en"]
    local_login_enabled: bool
    platform_operator: bool
    created_at: datetime


class AccountPage(BaseModel):
    """A page of the operators' account search (``eproc_identity.schemas.AccountPage``)."""

    items: list[Account]
    total: int
    limit: int
    offset: int


class AuditRecord(BaseModel):
    """One entry of identity's audit trail (``eproc_identity.schemas.AuditRecordOut``)."""

    id: UUID
    occurred_at: datetime
    actor_id: UUID | None
    actor_client: str | None
    action: str
    target_user_id: UUID | None
    on_behalf_of: UUID | None
    detail: dict[str, Any]


class IdentityClient(ServiceClient):
    async def register(self, form: dict[str, Any]) -> Profile:
        """POST /registrations: the eID ID token plus the profile form (R-REG-1..3)."""
        return await self.fetch(Profile, "POST", "/registrations", None, json=form)

    async def check_card(self, id_token: str) -> None:
        """POST /registrations/check: may the card just read still register? (409
        ``already_registered`` when it has an account)."""
        await self.call("POST", "/registrations/check", None, json={"id_token": id_token})

    async def my_profile(self, token: str) -> Profile:
        return await self.fetch(Profile, "GET", "/users/me", token)

    async def read_profile(self, token: str, user_id: UUID) -> Profile:
        """A member's profile, for a Superuser of one of their organisations."""
        return await self.fetch(Profile, "GET", f"/users/{user_id}", token)

    async def update_my_profile(self, token: str, change: dict[str, Any]) -> Profile:
        return await self.fetch(Profile, "PATCH", "/users/me", token, json=change)

    async def change_my_password(self, token: str, current: str, new: str) -> None:
        """R-PWD-1: identity checks the current password and the policy; the user's
        other sessions end."""
        await self.call(
            "POST",
            "/users/me/password",
            token,
            json={"current_password": current, "new_password": new},
        )

    async def update_profile(self, token: str, user_id: UUID, change: dict[str, Any]) -> Profile:
        """A Superuser edits a member's profile (R-SU-1); identity authorises it."""
        return await self.fetch(Profile, "PATCH", f"/users/{user_id}", token, json=change)

    async def contacts(self, token: str, query: str | None = None) -> ContactPage:
        """My address book, optionally searched (R-PROF-2)."""
        params = {"q": query} if query else None
        return await self.fetch(ContactPage, "GET", "/users/me/contacts", token, params=params)

    async def add_contact(self, token: str, contact: dict[str, Any]) -> Contact:
        return await self.fetch(Contact, "POST", "/users/me/contacts", token, json=contact)

    async def delete_contact(self, token: str, contact_id: UUID) -> None:
        await self.call("DELETE", f"/users/me/contacts/{contact_id}", token)

    async def local_login_policy(self, token: str) -> LocalLoginPolicy:
        """Whether local login is on for everyone (R-LOGIN-2), for platform operators."""
        return await self.fetch(LocalLoginPolicy, "GET", "/local-login/policy", token)

    async def switch_local_login(self, token: str, enabled: bool, reason: str | None) -> Any:
        body = {"enabled": enabled, "reason": reason}
        return await self.call("PUT", "/local-login/policy", token, json=body)

    async def switch_user_local_login(
        self, token: str, user_id: UUID, enabled: bool, reason: str | None
    ) -> Any:
        body = {"enabled": enabled, "reason": reason}
        return await self.call("PUT", f"/users/{user_id}/local-login", token, json=body)

    # --- the operators' console (R-OP-1) ---------------------------------------------

    async def search_accounts(
        self, token: str, query: str, *, offset: int = 0, limit: int = 20
    ) -> AccountPage:
        """Accounts by name, username or e-mail address (platform operators)."""
        params = {"q": query, "offset": offset, "limit": limit}
        return await self.fetch(AccountPage, "GET", "/operator/users", token, params=params)

    async def accounts(self, token: str, user_ids: Iterable[UUID]) -> dict[UUID, Account]:
        """The accounts with these ids, by id (platform operators)."""
        wanted = sorted({str(i) for i in user_ids})
        found: dict[UUID, Account] = {}
        for start in range(0, len(wanted), 200):
            params = {"id": wanted[start : start + 200], "limit": 200}
            page = await self.fetch(AccountPage, "GET", "/operator/users", token, params=params)
            found.update({account.id: account for account in page.items})
        return found

    async def switch_operator(
        self, token: str, user_id: UUID, enabled: bool, reason: str | None
    ) -> Any:
        body = {"enabled": enabled, "reason": reason}
        return await self.call("PUT", f"/users/{user_id}/platform-operator", token, json=body)

    async def audit(self, token: str, *, limit: int, **filters: Any) -> list[AuditRecord]:
        """Identity's audit trail, newest first (platform operators)."""
        params = {"limit": limit, **{k: str(v) for k, v in filters.items() if v is not None}}
        return await self.fetch(list[AuditRecord], "GET", "/audit", token, params=params)
