"""Revoked access tokens (RFC 7009): one token, a refresh-token family or a session.

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

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "revocation",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("revoked_at", TS, nullable=False),
        sa.Column("until", TS, nullable=False),
        sa.PrimaryKeyConstraint("kind", "id", name=op.f("pk_revocation")),
    )
    op.create_index(op.f("ix_revocation_until"), "revocation", ["until"])


def downgrade() -> None:
    op.drop_index(op.f("ix_revocation_until"), table_name="revocation")
    op.drop_table("revocation")
