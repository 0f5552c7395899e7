"""Login throttling that nobody can turn into a lock: growing delays per
(account, source), recognised browsers (device cookies), a sliding window.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The old counters meant something else (fixed window, lockout): start afresh.
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle") as batch:
        batch.alter_column(
            "key", existing_type=sa.String(100), type_=sa.String(200), existing_nullable=False
        )
        batch.alter_column(
            "window_started_at",
            new_column_name="last_failure_at",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=False,
        )
    op.create_table(
        "login_device",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_login_device")),
    )
    op.create_index(op.f("ix_login_device_user_id"), "login_device", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_device_user_id"), table_name="login_device")
    op.drop_table("login_device")
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle") as batch:
        batch.alter_column(
            "last_failure_at",
            new_column_name="window_started_at",
            existing_type=sa.DateTime(timezone=True),
            existing_nullable=False,
        )
        batch.alter_column(
            "key", existing_type=sa.String(200), type_=sa.String(100), existing_nullable=False
        )
