"""The role words every service uses (SPEC §4): grants, the Superuser grant and the
Superuser cascade (R-ROLE-1, R-ROLE-2, R-SU-1).

Which roles exist is data (each service's role catalogue); what a Superuser is and
how a cascading role spreads over applications is defined here, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from eproc_contracts.common import RoleGrant, name_in_language

Grant = tuple[str, str]
"""``(application, role)``."""

USER_MANAGEMENT = "user-management"
"""The application of this hub: its roles are the ones the hub itself acts on."""

SUPERUSER = RoleGrant(application=USER_MANAGEMENT, role="superuser")
"""The grant that makes its holder a Superuser of the organisation (R-SU-1): they decide
its requests and manage its members and data."""


def holds_superuser(roles: Iterable[RoleGrant | Grant]) -> bool:
    """Whether a member holding ``roles`` is a Superuser of the organisation."""
    return any(_pair(r) == SUPERUSER.pair for r in roles)


def apply_cascade(
    before: Iterable[Grant], after: Iterable[Grant], cascading: Iterable[Grant]
) -> frozenset[Grant]:
    """The roles a member really gets when asking to go from ``before`` to ``after``.

    ``cascading`` lists every ``(application, role)`` the catalogue marks as cascading;
    the pairs sharing a role id form one group (today: Superuser in each application
    that has it). R-ROLE-2: choosing such a role in one application gives it in every
    application of its group; removing it in one removes it everywhere. "Removing" means
    the member held it and the new set lacks it somewhere; "choosing" means the new set
    has it somewhere while the member did not hold it.
    """
    groups: dict[str, set[Grant]] = {}
    for application, role in cascading:
        groups.setdefault(role, set()).add((application, role))
    before_set, result = frozenset(before), set(after)
    for group in groups.values():
        held_before = bool(before_set & group)
        wanted = result & group
        if held_before and wanted != group:
            result -= group
        elif not held_before and wanted:
            result |= group
    return frozenset(result)


# --- the role catalogue (SPEC §4): data. The platform's built-in applications come with
# this version (``role_catalogue.yaml`` beside this module); every application registered in
# the edge's client registry declares its roles with its registration (``edge.client.v1``),
# which organisations and requests project (``RoleCatalogue.with_declarations``). The
# organisations service applies it and serves it at GET /roles; the portal reads that shape.


class Localised(BaseModel):
    model_config = ConfigDict(frozen=True)

    nl: str
    fr: str
    de: str
    en: str


class Capabilities(BaseModel):
    """What a role may do, per language: the capability list R-ROLE-3 shows next to the
    role pickers (SPEC §4's table). A single sentence is read as a one-item list."""

    model_config = ConfigDict(frozen=True)

    nl: tuple[str, ...]
    fr: tuple[str, ...]
    de: tuple[str, ...]
    en: tuple[str, ...]

    @field_validator("nl", "fr", "de", "en", mode="before")
    @classmethod
    def _one_sentence_is_a_list(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("nl", "fr", "de", "en")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or not all(item.strip() for item in value):
            raise ValueError("give at least one capability, none blank")
        return value

    def in_language(self, language: str) -> tuple[str, ...]:
        """The capabilities in ``language`` (English for an unknown language)."""
        return tuple(getattr(self, language if language in type(self).model_fields else "en"))


class Role(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    names: Localised
    descriptions: Capabilities
    cascades: bool = False
    must_keep: bool = False


class Application(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    names: Localised
    roles: tuple[Role, ...]
    offered: bool = True
    """Whether its roles can be asked for and given now: false while the application is
    disabled in the registry. Members keep the roles they hold; names stay known."""


class DeclaredApplication(BaseModel):
    """What the client registry says of one application (its clients' last
    ``ClientChanged``, merged): its names, the roles it declares, and whether any of its
    clients is enabled."""

    model_config = ConfigDict(frozen=True)

    id: str
    names: Localised
    roles: tuple[Role, ...]
    enabled: bool
    version: int = 0


class RoleCatalogue(BaseModel):
    """The applications of the platform and the roles each offers."""

    model_config = ConfigDict(frozen=True)

    version: int
    applications: tuple[Application, ...]

    def application(self, application: str) -> Application | None:
        return next((app for app in self.applications if app.id == application), None)

    def role(self, application: str, role: str) -> Role | None:
        for app in self.applications:
            if app.id == application:
                return next((r for r in app.roles if r.id == role), None)
        return None

    def label(self, grant: RoleGrant | Grant, language: str) -> str:
        """ "e-Notification: Publisher" as a reader of ``language`` says it (R-I18N-1): the
        application's and the role's names, never their codes. A role the catalogue does
        not know (any more) is named by its codes, the only words left for it."""
        application_id, role_id = _pair(grant)
        application = self.application(application_id)
        role = self.role(application_id, role_id)
        if application is None or role is None:
            return f"{application_id}: {role_id}"
        return (
            f"{name_in_language(application.names.model_dump(), language)}: "
            f"{name_in_language(role.names.model_dump(), language)}"
        )

    def unknown(self, grants: Iterable[Grant]) -> list[Grant]:
        """The grants that name no role of the catalogue."""
        return [g for g in grants if self.role(*g) is None]

    def not_offered(self, grants: Iterable[Grant]) -> list[Grant]:
        """The grants that cannot be asked for or given now: unknown, or of an
        application that is not offered (disabled in the registry)."""
        offered = {
            (app.id, role.id) for app in self.applications if app.offered for role in app.roles
        }
        return [g for g in grants if g not in offered]

    def with_declarations(self, declared: Iterable[DeclaredApplication]) -> RoleCatalogue:
        """This (built-in) catalogue as the client registry changed it.

        An application whose registration declares roles has exactly those (names and
        descriptions included), replacing the built-in ones; one that declares none keeps
        its built-in roles (an application imported from the former configuration declares
        none). A disabled application stays in the catalogue but is not offered. The hub's
        own application (:data:`USER_MANAGEMENT`) keeps its built-in roles whatever a
        registration says: its rules (the Superuser) are this code's.
        """
        applications = {app.id: app for app in self.applications}
        version = self.version
        for app in declared:
            version += app.version
            if app.id == USER_MANAGEMENT:
                continue
            known = applications.get(app.id)
            if app.roles:
                applications[app.id] = Application(
                    id=app.id, names=app.names, roles=app.roles, offered=app.enabled
                )
            elif known is not None:
                applications[app.id] = known.model_copy(update={"offered": app.enabled})
        return RoleCatalogue(version=version, applications=tuple(applications.values()))

    def cascading(self) -> frozenset[Grant]:
        """Every (application, role) the catalogue marks as cascading (R-ROLE-2)."""
        return frozenset(
            (app.id, role.id) for app in self.applications for role in app.roles if role.cascades
        )

    def must_keep(self) -> frozenset[Grant]:
        """The roles an organisation must always have at least one holder of."""
        return frozenset(
            (app.id, role.id) for app in self.applications for role in app.roles if role.must_keep
        )

    def apply_cascade(self, before: Iterable[Grant], after: Iterable[Grant]) -> frozenset[Grant]:
        """The roles a member really gets when asking to go from ``before`` to ``after``."""
        return apply_cascade(before, after, self.cascading())


@cache
def packaged_catalogue() -> RoleCatalogue:
    """The catalogue shipped with this version of the platform (``role_catalogue.yaml``)."""
    text = resources.files("eproc_contracts").joinpath("role_catalogue.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return RoleCatalogue.model_validate(document)


def _pair(grant: RoleGrant | Grant) -> Grant:
    return grant.pair if isinstance(grant, RoleGrant) else grant
