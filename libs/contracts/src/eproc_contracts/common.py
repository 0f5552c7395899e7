"""Value types shared by several payloads."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError


class Language(StrEnum):
    """The languages of the UI and of the mails (SPEC §10)."""

    NL = "nl"
    FR = "fr"
    DE = "de"
    EN = "en"


NAME_FALLBACK: tuple[Language, ...] = (Language.NL, Language.FR, Language.DE, Language.EN)
"""The order in which a name missing in the reader's language is looked for.

The reader's own language always comes first. After it come Belgium's official
languages by how many people read them (Dutch, French, German), and English last:
English is a language of the UI, not an official language of the country, so an
organisation registered with a Dutch and an English name shows its Dutch name to a
French reader, as the Belgian administration itself would. Mails, the edge's top bar
and ID token claims, and the portal all use this one order (R-ORG-1).
"""


def name_in_language(names: Mapping[str, str | None] | None, language: str | None) -> str | None:
    """The name in ``language``, else in the first language of ``NAME_FALLBACK`` that has
    one, else ``None``; blank names count as missing."""
    if not names:
        return None
    for candidate in (language, *NAME_FALLBACK):
        if candidate is not None and (found := (names.get(candidate) or "").strip()):
            return found
    return None


class RoleGrant(BaseModel):
    """One (application, role) pair of a membership (R-ROLE-1)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    application: str = Field(examples=["e-notification"])
    role: str = Field(examples=["publisher"])

    @property
    def pair(self) -> tuple[str, str]:
        """``(application, role)``, the form the role rules work on."""
        return (self.application, self.role)


class Address(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    street: str
    number: str = ""
    postcode: str
    municipality: str
    country: str = "BE"


class AddressIn(Address):
    """An address as a person types it into the platform (organisation registration and
    edit): the postcode is Belgian, four digits from 1000 to 9999 (issue 19, point 11).
    Events keep the plain ``Address``: what was accepted once stays readable."""

    @field_validator("postcode")
    @classmethod
    def _belgian_postcode(cls, value: str) -> str:
        value = value.strip()
        if not (len(value) == 4 and value.isdigit() and 1000 <= int(value) <= 9999):
            raise PydanticCustomError(
                "invalid_postcode", "A Belgian postcode has 4 digits, from 1000 to 9999."
            )
        return value


class LocalisedName(BaseModel):
    """An organisation's name per language, where known (R-ORG-1)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    nl: str | None = None
    fr: str | None = None
    de: str | None = None
    en: str | None = None

    def in_language(self, language: str | None) -> str | None:
        """The name a reader of ``language`` sees (order: ``NAME_FALLBACK``)."""
        return name_in_language(self.model_dump(), language)


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
