"""The role catalogue (SPEC §4): ``eproc_contracts.roles.packaged_catalogue()`` (the data in
``libs/contracts``' ``role_catalogue.yaml``), never hard-coded.

Also the two rules that depend on it: the Superuser cascade (R-ROLE-2, defined in
``eproc_contracts.roles`` and fed the catalogue's ``cascades`` flags) and the roles an
organisation must keep (R-REQ-8).
"""

from __future__ import annotations

from collections.abc import Iterable

from eproc_contracts.common import RoleGrant
from eproc_contracts.roles import SUPERUSER as SUPERUSER_GRANT
from eproc_contracts.roles import Grant as Grant  # re-exported: the service speaks of Grant
from eproc_contracts.roles import RoleCatalogue as RoleCatalogue  # the shape /roles serves
from eproc_contracts.roles import packaged_catalogue


def catalogue() -> RoleCatalogue:
    """The catalogue shipped with this version of the platform."""
    return packaged_catalogue()


def to_grants(roles: Iterable[RoleGrant]) -> frozenset[Grant]:
    return frozenset((r.application, r.role) for r in roles)


def to_role_grants(grants: Iterable[Grant]) -> list[RoleGrant]:
    """Sorted, so events and responses list roles in a stable order."""
    return [RoleGrant(application=a, role=r) for a, r in sorted(grants)]


SUPERUSER: Grant = SUPERUSER_GRANT.pair
"""The Superuser grant (R-SU-1) in the tuple form this service's rules work on."""
