"""What several screens read from their forms and addresses the same way."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from eproc_contracts.common import RoleGrant


def uuids(values: Iterable[object]) -> list[UUID]:
    """The values that are ids; anything else (a tampered address) is left out."""
    ids: list[UUID] = []
    for value in values:
        try:
            ids.append(UUID(str(value)))
        except ValueError:
            continue
    return ids


def role_grants(values: Iterable[object]) -> list[RoleGrant]:
    """The ticked role boxes (``application:role``); a malformed value is left out."""
    grants = []
    for value in values:
        application, _, role = str(value).partition(":")
        if application and role:
            grants.append(RoleGrant(application=application, role=role))
    return grants


def role_keys(roles: Iterable[RoleGrant]) -> set[str]:
    """The role boxes' values for ``roles``."""
    return {f"{r.application}:{r.role}" for r in roles}


def common_roles(role_lists: Iterable[Iterable[RoleGrant]]) -> set[str]:
    """The boxes to tick when editing the roles of one or several at once: the roles
    of the one, or those all of them hold."""
    chosen: set[str] | None = None
    for roles in role_lists:
        keys = role_keys(roles)
        chosen = keys if chosen is None else chosen & keys
    return chosen or set()
