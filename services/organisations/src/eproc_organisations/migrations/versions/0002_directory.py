"""The organisation directory, its search index, memberships, dossier links, audit.

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


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Trigram search (R-ORG-2); the names are unaccented in Python before they are
        # stored, unaccent is there for ad-hoc queries by operators.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.create_table(
        "organisation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(50), nullable=True),
        sa.Column("enterprise_number", sa.String(10), nullable=False),
        sa.Column("name_nl", sa.String(300), nullable=True),
        sa.Column("name_fr", sa.String(300), nullable=True),
        sa.Column("name_de", sa.String(300), nullable=True),
        sa.Column("name_en", sa.String(300), nullable=True),
        sa.Column("sort_name", sa.String(300), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("house_number", sa.String(20), server_default="", nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("municipality", sa.String(100), nullable=False),
        sa.Column("country", sa.String(2), server_default="BE", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["organisation.id"], name=op.f("fk_organisation_parent_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("enterprise_number", name=op.f("uq_organisation_enterprise_number")),
        sa.UniqueConstraint("key", name=op.f("uq_organisation_key")),
    )
    op.create_index("ix_organisation_parent_id", "organisation", ["parent_id"])
    op.create_index("ix_organisation_parent_sort", "organisation", ["parent_id", "sort_name"])
    op.create_table(
        "organisation_name",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("search_text", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_organisation_name_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "search_text", name=op.f("pk_organisation_name")
        ),
    )
    op.create_index(
        "ix_organisation_name_trgm",
        "organisation_name",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_table(
        "search_word",
        sa.Column("word", sa.String(100), nullable=False),
        sa.Column("frequency", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_word")),
    )
    op.create_index(
        "ix_search_word_trgm",
        "search_word",
        ["word"],
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.create_table(
        "membership",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_membership_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_organisation"),
    )
    op.create_index("ix_membership_user_id", "membership", ["user_id"])
    op.create_index("ix_membership_organisation_id", "membership", ["organisation_id"])
    op.create_index(
        "uq_membership_default",
        "membership",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    op.create_table(
        "membership_role",
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("application", sa.String(50), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_membership_role_membership_id_membership"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "membership_id", "application", "role", name=op.f("pk_membership_role")
        ),
    )
    op.create_table(
        "dossier_link",
        sa.Column("application", sa.String(50), nullable=False),
        sa.Column("dossier_id", sa.String(200), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "application", "dossier_id", "organisation_id", "user_id", name=op.f("pk_dossier_link")
        ),
    )
    op.create_index("ix_dossier_link_user_org", "dossier_link", ["user_id", "organisation_id"])
    op.create_table(
        "applied_request",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(50), nullable=False),
        sa.Column(
            "applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_applied_request")),
    )
    op.create_table(
        "known_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("given_name", sa.String(200), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_known_user")),
        sa.UniqueConstraint("username", name=op.f("uq_known_user_username")),
    )
    op.create_table(
        "audit_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("subject_user_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
    )
    op.create_index("ix_audit_record_organisation_id", "audit_record", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_record_organisation_id", table_name="audit_record")
    op.drop_table("audit_record")
    op.drop_table("known_user")
    op.drop_table("applied_request")
    op.drop_index("ix_dossier_link_user_org", table_name="dossier_link")
    op.drop_table("dossier_link")
    op.drop_table("membership_role")
    op.drop_index("uq_membership_default", table_name="membership")
    op.drop_index("ix_membership_organisation_id", table_name="membership")
    op.drop_index("ix_membership_user_id", table_name="membership")
    op.drop_table("membership")
    op.drop_index("ix_search_word_trgm", table_name="search_word")
    op.drop_table("search_word")
    op.drop_index("ix_organisation_name_trgm", table_name="organisation_name")
    op.drop_table("organisation_name")
    op.drop_index("ix_organisation_parent_sort", table_name="organisation")
    op.drop_index("ix_organisation_parent_id", table_name="organisation")
    op.drop_table("organisation")
