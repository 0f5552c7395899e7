"""The role catalogue as the portal shows it: names and descriptions in the
user's language (R-ROLE-3), read from the organisations service."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eproc_contracts.common import RoleGrant, name_in_language
from eproc_contracts.roles import RoleCatalogue


@dataclass(frozen=True)
class RoleView:
    application: str
    application_name: str
    role: str
    name: str
    capabilities: tuple[str, ...]
    """What the role may do, in the user's language (SPEC §4's table)."""


def localised(names: Any, language: str) -> str:
    """The name a reader of ``language`` sees (fallback order: ``NAME_FALLBACK``)."""
    if isinstance(names, dict):
        return name_in_language(names, language) or ""
    return str(names or "")


@dataclass(frozen=True)
class ApplicationView:
    id: str
    name: str
    roles: list[RoleView]


def applications(
    catalogue: RoleCatalogue, language: str, held: Iterable[str] = ()
) -> list[ApplicationView]:
    """The applications with their roles for a role picker, localised, in catalogue
    order: the applications on offer, and of a disabled one only the roles in ``held``
    (``"application:role"``), so changing other roles does not drop them."""
    kept = set(held)
    views = []
    for app in catalogue.applications:
        name = localised(app.names.model_dump(), language)
        roles = [
            RoleView(
                app.id,
                name,
                role.id,
                localised(role.names.model_dump(), language),
                role.descriptions.in_language(language),
            )
            for role in app.roles
            if app.offered or f"{app.id}:{role.id}" in kept
        ]
        if roles:
            views.append(ApplicationView(app.id, name, roles))
    return views


def role_label(catalogue: RoleCatalogue, grant: RoleGrant, language: str) -> str:
    """ "e-Notification: Publisher" in the user's language."""
    return catalogue.label(grant.pair, language)
