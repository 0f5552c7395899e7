"""The operators' audit view (R-OP-1): the audit trail by time, by actor and by
the user acted upon.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_record_occurred_at", "audit_record", ["occurred_at"])
    op.create_index("ix_audit_record_actor_id", "audit_record", ["actor_id", "occurred_at"])
    op.create_index(
        "ix_audit_record_subject_user_id", "audit_record", ["subject_user_id", "occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_record_subject_user_id", table_name="audit_record")
    op.drop_index("ix_audit_record_actor_id", table_name="audit_record")
    op.drop_index("ix_audit_record_occurred_at", table_name="audit_record")
