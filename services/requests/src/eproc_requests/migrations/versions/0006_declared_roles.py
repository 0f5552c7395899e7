"""The roles applications declare in the edge's client registry, projected: a newly
registered application's roles can be asked for and given without a restart.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "declared_roles",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_declared_roles")),
        comment="Projection of edge.client.v1 (the roles each application declares)",
    )


def downgrade() -> None:
    op.drop_table("declared_roles")
