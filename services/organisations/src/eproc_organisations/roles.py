"""The role catalogue (SPEC §4): the platform's built-in applications
(``libs/contracts``' ``role_catalogue.yaml``) as the applications registered in the
edge's client registry change them (``edge.client.v1``, projected in
``declared_roles``), never hard-coded. Read per use case, so a newly registered
application's roles count at once on every instance.

Also the two rules that depend on it: the Superuser cascade (R-ROLE-2, defined in
``eproc_contracts.roles`` and fed the catalogue's ``cascades`` flags) and the roles an
organisation must keep (R-REQ-8).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RoleGrant
from eproc_contracts.roles import SUPERUSER as SUPERUSER_GRANT
from eproc_contracts.roles import Grant as Grant  # re-exported: the service speaks of Grant
from eproc_contracts.roles import RoleCatalogue as RoleCatalogue  # the shape /roles serves
from eproc_organisations.models import declared_roles
from eproc_runtime.applications import DeclaredRoles

applications = DeclaredRoles(declared_roles)


async def catalogue(session: AsyncSession) -> RoleCatalogue:
    """The role catalogue now (built-in, changed by the registry's declarations)."""
    return await applications.catalogue(session)


def to_grants(roles: Iterable[RoleGrant]) -> frozenset[Grant]:
    return frozenset((r.application, r.role) for r in roles)


def to_role_grants(grants: Iterable[Grant]) -> list[RoleGrant]:
    """Sorted, so events and responses list roles in a stable order."""
    return [RoleGrant(application=a, role=r) for a, r in sorted(grants)]


SUPERUSER: Grant = SUPERUSER_GRANT.pair
"""The Superuser grant (R-SU-1) in the tuple form this service's rules work on."""
