"""The role catalogue as the portal shows it: names and descriptions in the
user's language (R-ROLE-3), read from the organisations service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eproc_contracts.common import name_in_language
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


def applications(catalogue: RoleCatalogue, language: str) -> list[ApplicationView]:
    """The applications with their roles, localised, in catalogue order."""
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
        ]
        views.append(ApplicationView(app.id, name, roles))
    return views


def role_label(catalogue: RoleCatalogue, grant: dict[str, str], language: str) -> str:
    """ "e-Notification: Publisher" in the user's language."""
    return catalogue.label((grant.get("application", ""), grant.get("role", "")), language)
