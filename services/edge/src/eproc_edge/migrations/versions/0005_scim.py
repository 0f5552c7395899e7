"""The SCIM read model (R-APP-2): organisation x application-role groups and
their members, filled from the claims projection's current memberships.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid5

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As eproc_edge.scim.projection (frozen here: a migration never imports the code
# of a later day); tests/test_scim.py checks that both agree.
GROUP_NAMESPACE = UUID("6f1f4d8e-3b0a-5c39-9a51-2f8f0c7e5d21")
NAME_FALLBACK = ("nl", "fr", "de", "en")


def group_id_of(organisation_id: UUID, application: str, role: str) -> UUID:
    return uuid5(GROUP_NAMESPACE, f"{organisation_id}/{application}/{role}")


def organisation_name_of(organisation_id: UUID, names: dict[str, Any] | None) -> str:
    for language in NAME_FALLBACK:
        name = str((names or {}).get(language) or "").strip()
        if name:
            return name
    return str(organisation_id)


def upgrade() -> None:
    group = op.create_table(
        "scim_group",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("application", sa.String(64), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("organisation_name", sa.String(512), nullable=False),
        sa.Column("display_name", sa.String(600), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_scim_group")),
    )
    op.create_index(op.f("ix_scim_group_organisation_id"), "scim_group", ["organisation_id"])
    op.create_index(
        "ix_scim_group_application_display_name", "scim_group", ["application", "display_name"]
    )
    member = op.create_table(
        "scim_group_member",
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("application", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "user_id", name=op.f("pk_scim_group_member")),
    )
    op.create_index(
        "ix_scim_group_member_application_user", "scim_group_member", ["application", "user_id"]
    )
    op.create_index(
        "ix_scim_group_member_user_organisation",
        "scim_group_member",
        ["user_id", "organisation_id"],
    )
    _fill(group, member)


def _fill(group: sa.Table, member: sa.Table) -> None:
    """The groups of the memberships the edge already knows (an existing deployment)."""
    bind = op.get_bind()
    memberships = sa.table(
        "projected_membership",
        sa.column("user_id", sa.Uuid()),
        sa.column("organisation_id", sa.Uuid()),
        sa.column("roles", sa.JSON()),
        sa.column("revoked", sa.Boolean()),
    )
    organisations = sa.table(
        "projected_organisation",
        sa.column("organisation_id", sa.Uuid()),
        sa.column("names", sa.JSON()),
    )
    names = {
        row.organisation_id: organisation_name_of(row.organisation_id, row.names)
        for row in bind.execute(sa.select(organisations))
    }
    groups: dict[UUID, dict[str, Any]] = {}
    members: list[dict[str, Any]] = []
    rows = bind.execute(sa.select(memberships).where(memberships.c.revoked.is_(False)))
    for row in rows:
        organisation_name = names.get(row.organisation_id) or str(row.organisation_id)
        for grant in row.roles or []:
            application, role = str(grant["application"]), str(grant["role"])
            group_id = group_id_of(row.organisation_id, application, role)
            groups[group_id] = {
                "group_id": group_id,
                "organisation_id": row.organisation_id,
                "application": application,
                "role": role,
                "organisation_name": organisation_name,
                "display_name": f"{organisation_name} / {role}",
            }
            members.append(
                {
                    "group_id": group_id,
                    "user_id": row.user_id,
                    "organisation_id": row.organisation_id,
                    "application": application,
                }
            )
    if groups:
        op.bulk_insert(group, list(groups.values()))
    if members:
        op.bulk_insert(member, list({(m["group_id"], m["user_id"]): m for m in members}.values()))


def downgrade() -> None:
    op.drop_table("scim_group_member")
    op.drop_table("scim_group")
