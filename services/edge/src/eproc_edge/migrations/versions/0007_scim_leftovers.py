"""SCIM leftovers (R-APP-2): ``userName eq`` by an index on the lower-cased username
instead of a scan, and ``meta.lastModified`` of users and groups.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("projected_user", "scim_group"):
        op.add_column(table, sa.Column("last_modified", sa.DateTime(timezone=True), nullable=True))
        # What is there now was last seen changing now (no earlier time is known).
        op.execute(sa.text(f"UPDATE {table} SET last_modified = CURRENT_TIMESTAMP"))  # noqa: S608 - fixed names
    op.create_index(
        "ix_projected_user_username_lower",
        "projected_user",
        [sa.text("lower(username)")],
    )


def downgrade() -> None:
    op.drop_index("ix_projected_user_username_lower", table_name="projected_user")
    for table in ("scim_group", "projected_user"):
        op.drop_column(table, "last_modified")
