"""Value types shared by several payloads."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Language(StrEnum):
    """The languages of the UI and of the mails (SPEC §10)."""

    NL = "nl"
    FR = "fr"
    DE = "de"
    EN = "en"


class RoleGrant(BaseModel):
    """One (application, role) pair of a membership (R-ROLE-1)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    application: str = Field(examples=["e-notification"])
    role: str = Field(examples=["publisher"])


class Address(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    street: str
    number: str = ""
    postcode: str
    municipality: str
    country: str = "BE"


class LocalisedName(BaseModel):
    """An organisation's name per language, where known (R-ORG-1)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    nl: str | None = None
    fr: str | None = None
    de: str | None = None
    en: str | None = None


class RequestKind(StrEnum):
    JOIN = "join"
    ROLE_CHANGE = "role_change"
    LEAVE = "leave"
    ORGANISATION_REGISTRATION = "organisation_registration"


class ProposedOrganisation(BaseModel):
    """The organisation an organisation-registration request asks for (R-ORG-3)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    organisation_id: UUID = Field(description="Id the organisation will have once approved")
    parent_id: UUID | None
    names: LocalisedName
    enterprise_number: str = Field(pattern=r"^[01]\d{9}$")
    address: Address
