"""The client registry (R-APP-1): relying parties, their hashed secrets, the audit trail.

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

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registered_client",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("application", sa.String(64), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.Text(), nullable=True),
        sa.Column("home_url", sa.Text(), nullable=False),
        sa.Column("login_url", sa.Text(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("resource_servers", sa.JSON(), nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(32), nullable=False),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("jwks_uri", sa.Text(), nullable=True),
        sa.Column("require_pkce", sa.Boolean(), nullable=False),
        sa.Column("minimum_acr", sa.String(64), nullable=True),
        sa.Column("access_token_lifetime", sa.Integer(), nullable=True),
        sa.Column("id_token_lifetime", sa.Integer(), nullable=True),
        sa.Column("refresh_token_lifetime", sa.Integer(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_registered_client")),
    )
    op.create_table(
        "client_secret",
        sa.Column("secret_id", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["registered_client.client_id"],
            name=op.f("fk_client_secret_client_id_registered_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("secret_id", name=op.f("pk_client_secret")),
    )
    op.create_index(op.f("ix_client_secret_client_id"), "client_secret", ["client_id"])
    op.create_table(
        "client_change",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_change")),
    )
    op.create_index(op.f("ix_client_change_client_id"), "client_change", ["client_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_client_change_client_id"), table_name="client_change")
    op.drop_table("client_change")
    op.drop_index(op.f("ix_client_secret_client_id"), table_name="client_secret")
    op.drop_table("client_secret")
    op.drop_table("registered_client")
