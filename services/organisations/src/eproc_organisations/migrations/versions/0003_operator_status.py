"""Identity's platform-operator status, projected: a withdrawal counts at once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_status",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("platform_operator", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_operator_status")),
        comment="Projection of identity.user.v1 (platform-operator status)",
    )


def downgrade() -> None:
    op.drop_table("operator_status")
