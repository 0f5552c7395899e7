"""The operators' audit view (R-OP-1): the trail by the user acted upon.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_audit_record_subject_user", "audit_record", ["subject_user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_record_subject_user", table_name="audit_record")
