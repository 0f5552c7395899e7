"""Mails know their request and organisation: held mails (awaiting a Superuser, awaiting
the outcome) and the withdrawal mail to the Superusers who were told (issue 19, point 5).

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
    with op.batch_alter_table("mail") as batch:
        batch.add_column(sa.Column("request_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("organisation_id", sa.Uuid(), nullable=True))
    op.create_index("ix_mail_request_id", "mail", ["request_id"])
    op.create_index("ix_mail_organisation_id_state", "mail", ["organisation_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_mail_organisation_id_state", table_name="mail")
    op.drop_index("ix_mail_request_id", table_name="mail")
    with op.batch_alter_table("mail") as batch:
        batch.drop_column("organisation_id")
        batch.drop_column("request_id")
