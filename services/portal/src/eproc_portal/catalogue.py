"""The role catalogue as the portal shows it: names and descriptions in the
user's language (R-ROLE-3), read from the organisations service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eproc_contracts.common import name_in_language


@dataclass(frozen=True)
class RoleView:
    application: str
    application_name: str
    role: str
    name: str
    description: str


def localised(names: Any, language: str) -> str:
    """The name a reader of ``language`` sees (fallback order: ``NAME_FALLBACK``)."""
    if isinstance(names, dict):
        return name_in_language(names, language) or ""
    return str(names or "")


def applications(catalogue: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """The applications with their roles, localised, in catalogue order."""
    return [
        {
            "id": app["id"],
            "name": localised(app.get("names"), language),
            "roles": [
                RoleView(
                    app["id"],
                    localised(app.get("names"), language),
                    role["id"],
                    localised(role.get("names"), language),
                    localised(role.get("descriptions"), language),
                )
                for role in app.get("roles", [])
            ],
        }
        for app in catalogue.get("applications", [])
    ]


def role_label(catalogue: dict[str, Any], grant: dict[str, str], language: str) -> str:
    """ "e-Notification: Publisher" in the user's language."""
    for app in catalogue.get("applications", []):
        if app["id"] == grant.get("application"):
            for role in app.get("roles", []):
                if role["id"] == grant.get("role"):
                    return (
                        f"{localised(app.get('names'), language)}: "
                        f"{localised(role.get('names'), language)}"
                    )
    return f"{grant.get('application')}: {grant.get('role')}"
