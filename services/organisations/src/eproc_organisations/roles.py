"""The role catalogue (SPEC §4): loaded from ``role_catalogue.yaml``, never hard-coded.

Also the two rules that depend on it: the Superuser cascade (R-ROLE-2, defined in
``eproc_contracts.roles`` and fed the catalogue's ``cascades`` flags) and the roles an
organisation must keep (R-REQ-8).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from eproc_contracts.common import RoleGrant
from eproc_contracts.roles import SUPERUSER as SUPERUSER_GRANT
from eproc_contracts.roles import Grant as Grant  # re-exported: the service speaks of Grant
from eproc_contracts.roles import apply_cascade


class Localised(BaseModel):
    model_config = ConfigDict(frozen=True)

    nl: str
    fr: str
    de: str
    en: str


class Role(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    names: Localised
    descriptions: Localised
    cascades: bool = False
    must_keep: bool = False


class Application(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    names: Localised
    roles: tuple[Role, ...]


class RoleCatalogue(BaseModel):
    """The applications of the platform and the roles each offers."""

    model_config = ConfigDict(frozen=True)

    version: int
    applications: tuple[Application, ...]

    def role(self, application: str, role: str) -> Role | None:
        for app in self.applications:
            if app.id == application:
                return next((r for r in app.roles if r.id == role), None)
        return None

    def unknown(self, grants: Iterable[Grant]) -> list[Grant]:
        """The grants that name no role of the catalogue."""
        return [g for g in grants if self.role(*g) is None]

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
def catalogue() -> RoleCatalogue:
    """The catalogue shipped with this version of the service."""
    text = resources.files("eproc_organisations").joinpath("role_catalogue.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return RoleCatalogue.model_validate(document)


def to_grants(roles: Iterable[RoleGrant]) -> frozenset[Grant]:
    return frozenset((r.application, r.role) for r in roles)


def to_role_grants(grants: Iterable[Grant]) -> list[RoleGrant]:
    """Sorted, so events and responses list roles in a stable order."""
    return [RoleGrant(application=a, role=r) for a, r in sorted(grants)]


SUPERUSER: Grant = SUPERUSER_GRANT.pair
"""The Superuser grant (R-SU-1) in the tuple form this service's rules work on."""
