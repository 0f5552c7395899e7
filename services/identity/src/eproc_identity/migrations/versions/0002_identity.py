"""Users, address book, membership projection, local-login policy, throttling, audit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("eid_subject_digest", sa.String(64), nullable=False),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("mobile", sa.String(32), nullable=True),
        sa.Column("job_title", sa.String(200), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("local_login_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("registered_acr", sa.String(100), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
        sa.UniqueConstraint("eid_subject_digest", name=op.f("uq_user_account_eid_subject_digest")),
    )
    op.create_table(
        "contact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact")),
    )
    op.create_index("ix_contact_owner_id_name", "contact", ["owner_id", "name"])
    op.create_table(
        "organisation_member",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("user_id", "organisation_id", name=op.f("pk_organisation_member")),
    )
    op.create_index(
        "ix_organisation_member_organisation_id", "organisation_member", ["organisation_id"]
    )
    op.create_table(
        "login_policy",
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("local_login_enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        _timestamp("changed_at"),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_login_policy")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "audit_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_client", sa.String(100), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target_user_id", sa.Uuid(), nullable=True),
        sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
    )
    op.create_index("ix_audit_record_target_user_id", "audit_record", ["target_user_id"])
    op.create_index("ix_audit_record_occurred_at", "audit_record", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_record_occurred_at", table_name="audit_record")
    op.drop_index("ix_audit_record_target_user_id", table_name="audit_record")
    op.drop_table("audit_record")
    op.drop_table("login_throttle")
    op.drop_table("login_policy")
    op.drop_index("ix_organisation_member_organisation_id", table_name="organisation_member")
    op.drop_table("organisation_member")
    op.drop_index("ix_contact_owner_id_name", table_name="contact")
    op.drop_table("contact")
    op.drop_table("user_account")
