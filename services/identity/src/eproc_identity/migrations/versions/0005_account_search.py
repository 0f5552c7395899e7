"""The operators' account search (R-OP-1): a folded search text per user with a
trigram index, and the audit trail by actor.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from eproc_identity.text import account_search_text

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    users = sa.table(
        "user_account",
        sa.column("id", sa.Uuid()),
        sa.column("given_name", sa.String()),
        sa.column("family_name", sa.String()),
        sa.column("username", sa.String()),
        sa.column("email", sa.String()),
        sa.column("search_text", sa.Text()),
    )
    # Folded in Python, like every later write (no unaccent needed in the database).
    for row in bind.execute(sa.select(users)).mappings().all():
        bind.execute(
            users.update()
            .where(users.c.id == row["id"])
            .values(search_text=account_search_text(dict(row)))
        )
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_user_account_search_trgm",
        "user_account",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index("ix_audit_record_actor_id", "audit_record", ["actor_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_record_actor_id", table_name="audit_record")
    op.drop_index("ix_user_account_search_trgm", table_name="user_account")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("search_text")
