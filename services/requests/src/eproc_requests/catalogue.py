"""This service's copy of the role catalogue (SPEC §4).

The organisations service owns the catalogue and re-checks every role when it
applies an approved request (refusing with ``unknown_role``), so this copy only
serves to refuse obvious mistakes at once and to draw the role pickers without
a synchronous call on the submit path. It is data, not code: the packaged JSON
can be replaced with ``EPROC_ROLE_CATALOGUE_PATH``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from eproc_contracts.common import RoleGrant
from eproc_contracts.roles import apply_cascade


@dataclass(frozen=True)
class RoleCatalogue:
    """The (application, role) pairs a membership may hold, with their labels."""

    document: dict[str, Any]

    @classmethod
    def load(cls, path: str | None = None) -> RoleCatalogue:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = resources.files(__package__).joinpath("role_catalogue.json").read_text("utf-8")
        return cls(json.loads(text))

    @property
    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(
            (app["application"], role["role"])
            for app in self.document["applications"]
            for role in app["roles"]
        )

    def unknown(self, roles: Iterable[RoleGrant]) -> list[RoleGrant]:
        """The roles of ``roles`` that the catalogue does not know."""
        pairs = self.pairs
        return [r for r in roles if (r.application, r.role) not in pairs]

    @property
    def cascading(self) -> frozenset[tuple[str, str]]:
        """The (application, role) pairs marked ``cascades`` (R-ROLE-2)."""
        return frozenset(
            (app["application"], role["role"])
            for app in self.document["applications"]
            for role in app["roles"]
            if role.get("cascades")
        )

    def normalise(self, roles: Iterable[RoleGrant]) -> list[RoleGrant]:
        """Sorted, without duplicates, and with the cascade (R-ROLE-2) of
        ``eproc_contracts.roles`` applied, as the organisations service will."""
        chosen = apply_cascade((), (r.pair for r in roles), self.cascading)
        return [RoleGrant(application=a, role=r) for a, r in sorted(chosen)]


def roles_to_json(roles: Iterable[RoleGrant]) -> list[dict[str, str]]:
    return [{"application": r.application, "role": r.role} for r in roles]


def roles_from_json(value: Any) -> list[RoleGrant]:
    return [RoleGrant.model_validate(item) for item in value or []]
