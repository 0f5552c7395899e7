"""API request and response models."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from eproc_contracts.common import Address, LocalisedName, RoleGrant
from eproc_organisations.enterprise_number import format_enterprise_number
from eproc_organisations.repository import Organisation
from eproc_organisations.service.directory import address_of


class OrganisationOut(BaseModel):
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

    @classmethod
    def of(cls, organisation: Organisation, language: str | None = None) -> OrganisationOut:
        return cls(
            id=organisation.id,
            parent_id=organisation.parent_id,
            key=organisation.key,
            kind=organisation.kind,
            name=organisation.name(language),
            names=LocalisedName(**organisation.names),
            enterprise_number=organisation.enterprise_number,
            enterprise_number_display=format_enterprise_number(organisation.enterprise_number),
            address=address_of(organisation),
            has_children=organisation.has_children,
        )


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    total: int
    offset: int
    limit: int


class SearchHit(BaseModel):
    organisation: OrganisationOut
    score: float


class SearchPage(BaseModel):
    items: list[SearchHit]
    offset: int
    limit: int
    has_more: bool


class OrganisationEdit(BaseModel):
    """What a Superuser may change (R-ORG-4): never the enterprise number."""

    model_config = ConfigDict(extra="forbid")

    names: LocalisedName
    address: Address


class OrganisationBootstrap(BaseModel):
    """A platform operator adds an organisation and, optionally, its first Superuser."""

    model_config = ConfigDict(extra="forbid")

    organisation_id: UUID | None = None
    parent_id: UUID | None = None
    key: str | None = Field(default=None, max_length=200)
    kind: str | None = Field(default=None, max_length=50)
    names: LocalisedName
    enterprise_number: str = Field(examples=["0123.456.749"])
    address: Address
    superuser_id: UUID | None = None


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[RoleGrant]


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: UUID | None = None
    username: str | None = None
    roles: list[RoleGrant]


class MemberOut(BaseModel):
    user_id: UUID
    username: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    roles: list[RoleGrant]
    member_since: str


class MyMembership(BaseModel):
    organisation: OrganisationOut
    roles: list[RoleGrant]
    is_default: bool


class DefaultOrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: UUID


class Refusal(BaseModel):
    reason: str
    message: str


class GuardCheck(BaseModel):
    """Whether a change would pass the guards of R-REQ-8 right now."""

    allowed: bool
    refusals: list[Refusal]


class AuditEntry(BaseModel):
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
