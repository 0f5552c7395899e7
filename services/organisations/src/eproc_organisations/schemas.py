"""API request and response models."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from eproc_contracts.common import Address, AddressIn, LocalisedName, RoleGrant
from eproc_contracts.directory import AccountMatch as AccountMatch
from eproc_contracts.directory import AccountMatchPage as AccountMatchPage
from eproc_contracts.directory import AuditEntry as AuditEntry
from eproc_contracts.directory import MemberOut as MemberOut
from eproc_contracts.directory import MyMembership as MyMembership
from eproc_contracts.directory import OperatorAuditEntry as OperatorAuditEntry
from eproc_contracts.directory import OrganisationOut as OrganisationOut
from eproc_contracts.directory import OrganisationPage as OrganisationPage
from eproc_contracts.directory import SearchHit as SearchHit
from eproc_contracts.directory import SearchPage as SearchPage
from eproc_organisations.enterprise_number import format_enterprise_number
from eproc_organisations.repository import Organisation
from eproc_organisations.service.directory import address_of


def organisation_out(organisation: Organisation, language: str | None = None) -> OrganisationOut:
    return OrganisationOut(
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


class OrganisationEdit(BaseModel):
    """What a Superuser may change (R-ORG-4): never the enterprise number."""

    model_config = ConfigDict(extra="forbid")

    names: LocalisedName
    address: AddressIn


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
