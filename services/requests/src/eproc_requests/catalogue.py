"""The role catalogue as this service reads it (SPEC §4).

The platform's built-in applications (``eproc_contracts``' packaged catalogue) as the
applications registered in the edge's client registry change them: ``edge.client.v1``
is projected in ``declared_roles`` (``eproc_runtime.applications``), read per use case,
so a newly registered application's roles can be asked for at once and a disabled one's
are no longer offered, on every instance, without a restart. The organisations service
re-checks every role when it applies an approved request (refusing with
``unknown_role``); this service refuses obvious mistakes at once, without a synchronous
call on the submit path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RoleGrant
from eproc_contracts.roles import RoleCatalogue
from eproc_requests.models import declared_roles
from eproc_runtime.applications import DeclaredRoles

applications = DeclaredRoles(declared_roles)


async def catalogue(session: AsyncSession) -> RoleCatalogue:
    """The role catalogue now (built-in, changed by the registry's declarations)."""
    return await applications.catalogue(session)


def not_offered(
    roles_now: RoleCatalogue, roles: Iterable[RoleGrant], held: Iterable[RoleGrant] = ()
) -> list[RoleGrant]:
    """The roles of ``roles`` that cannot be asked for: unknown, or of a disabled
    application, unless already ``held`` (disabling withdraws the offer, not the role)."""
    kept = {r.pair for r in held}
    refused = set(roles_now.not_offered(r.pair for r in roles if r.pair not in kept))
    return [r for r in roles if r.pair in refused]


def normalise(roles_now: RoleCatalogue, roles: Iterable[RoleGrant]) -> list[RoleGrant]:
    """Sorted, without duplicates, and with the cascade (R-ROLE-2) applied, as the
    organisations service will."""
    chosen = roles_now.apply_cascade((), (r.pair for r in roles))
    return [RoleGrant(application=a, role=r) for a, r in sorted(chosen)]


def roles_to_json(roles: Iterable[RoleGrant]) -> list[dict[str, str]]:
    return [{"application": r.application, "role": r.role} for r in roles]


def roles_from_json(value: Any) -> list[RoleGrant]:
    return [RoleGrant.model_validate(item) for item in value or []]
