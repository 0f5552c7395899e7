"""Responses of the organisations service's directory API that other parts of the
product read (the portal's typed client): one model, served by the service
(``eproc_organisations.schemas`` uses these) and parsed by its readers.

Readers ignore fields they do not know, so adding a field is not breaking.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from eproc_contracts.common import Address, LocalisedName, RoleGrant


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OrganisationOut(_Response):
    id: UUID
    parent_id: UUID | None
    key: str | None
    kind: str | None
    name: str = Field(
        description="The name in the requested language, else in nl, fr, de, en (NAME_FALLBACK)"
    )
    names: LocalisedName
    enterprise_number: str = Field(examples=["0123456749"])
    enterprise_number_display: str = Field(examples=["0123.456.749"])
    address: Address
    has_children: bool


class OrganisationPage(_Response):
    items: list[OrganisationOut]
    total: int
    offset: int
    limit: int


class SearchHit(_Response):
    organisation: OrganisationOut
    score: float


class SearchPage(_Response):
    items: list[SearchHit]
    offset: int
    limit: int
    has_more: bool


class MemberOut(_Response):
    user_id: UUID
    username: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    roles: list[RoleGrant]
    member_since: str


class MyMembership(_Response):
    organisation: OrganisationOut
    roles: list[RoleGrant]
    is_default: bool


class AuditEntry(_Response):
    id: UUID
    occurred_at: str
    actor_id: UUID | None
    actor_kind: str
    on_behalf_of: UUID | None
    action: str
    subject_user_id: UUID | None
    request_id: UUID | None
    detail: dict[str, object]
    summary: str


class AccountMatch(_Response):
    """A member of an organisation matching the operators' account search (R-OP-1)."""

    user_id: UUID
    username: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    organisation: OrganisationOut
    roles: list[RoleGrant]


class AccountMatchPage(_Response):
    items: list[AccountMatch]
    total: int
    offset: int
    limit: int


class OperatorAuditEntry(AuditEntry):
    organisation_id: UUID | None
