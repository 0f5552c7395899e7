"""Keeping the SCIM read model, in the consumer's transaction (see consumers.py).

It follows the claims projection rather than the events themselves: after the
claims projection applied a membership event (or ignored a late, older one),
the user's groups in that organisation are made to match the membership row as
it now stands. So the ordering rules live in one place (eproc_edge.claims), and
replaying an event changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid5

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import name_in_language
from eproc_edge.scim import repository

GROUP_NAMESPACE = UUID("6f1f4d8e-3b0a-5c39-9a51-2f8f0c7e5d21")
"""Group ids are uuid5(GROUP_NAMESPACE, "<organisation>/<application>/<role>"):
stable, and the same on every edge instance (migration 0005 computes them too)."""


def group_id_of(organisation_id: UUID, application: str, role: str) -> UUID:
    return uuid5(GROUP_NAMESPACE, f"{organisation_id}/{application}/{role}")


def organisation_name_of(organisation_id: UUID, names: dict[str, str]) -> str:
    """Its name (Dutch, else French, German, English), its id until its event arrives."""
    return name_in_language(names, None) or str(organisation_id)


def display_name_of(organisation_name: str, role: str) -> str:
    """ "<organisation name> / <role>": what a person sees in the application's group list."""
    return f"{organisation_name} / {role}"


async def membership_changed(session: AsyncSession, user_id: UUID, organisation_id: UUID) -> None:
    """The user's groups in the organisation are those of its membership row now."""
    grants = await repository.current_grants(session, user_id, organisation_id)
    names = await repository.organisation_names(session, organisation_id) if grants else {}
    organisation_name = organisation_name_of(organisation_id, names)
    wanted = {
        group_id_of(organisation_id, application, role): (application, role)
        for application, role in grants
    }
    held = await repository.membership_groups(session, user_id, organisation_id)
    await repository.remove_members(session, user_id, held - wanted.keys())
    added = [(g, wanted[g]) for g in sorted(wanted.keys() - held)]
    now = datetime.now(UTC)
    await repository.save_groups(
        session,
        [
            {
                "group_id": g,
                "organisation_id": organisation_id,
                "application": application,
                "role": role,
                "organisation_name": organisation_name,
                "display_name": display_name_of(organisation_name, role),
                "last_modified": now,
            }
            for g, (application, role) in added
        ],
    )
    await repository.add_members(
        session,
        [
            {
                "group_id": g,
                "user_id": user_id,
                "organisation_id": organisation_id,
                "application": application,
            }
            for g, (application, _) in added
        ],
    )
    # A group the user left changed too (SCIM's meta.lastModified).
    await repository.touch_groups(session, held - wanted.keys(), now)


async def organisation_renamed(
    session: AsyncSession, organisation_id: UUID, names: dict[str, str]
) -> None:
    """Its groups' display names follow the organisation's name."""
    organisation_name = organisation_name_of(organisation_id, names)
    for row in await repository.groups_of_organisation(session, organisation_id):
        if organisation_name != row.organisation_name:
            await repository.rename_group(
                session,
                row.group_id,
                organisation_name,
                display_name_of(organisation_name, row.role),
                datetime.now(UTC),
            )
