"""The OpenID Provider's state and the claims projection.

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

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.Column("published_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_signing_key")),
    )
    op.create_table(
        "sso_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("cookie_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("acr", sa.String(32), nullable=False),
        sa.Column("platform_operator", sa.Boolean(), nullable=False),
        sa.Column("active_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("auth_time", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_session")),
        sa.UniqueConstraint("cookie_hash", name=op.f("uq_sso_session_cookie_hash")),
    )
    op.create_index(op.f("ix_sso_session_user_id"), "sso_session", ["user_id"])
    op.create_table(
        "session_client",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("active_organisation_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sso_session.id"],
            name=op.f("fk_session_client_session_id_sso_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "client_id", name=op.f("pk_session_client")),
    )
    op.create_table(
        "authorization_code",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(255), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("code_challenge_method", sa.String(10), nullable=False),
        sa.Column("acr", sa.String(32), nullable=False),
        sa.Column("auth_time", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("family_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_authorization_code")),
    )
    op.create_index(
        "ix_authorization_code_client_nonce", "authorization_code", ["client_id", "nonce"]
    )
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_token")),
    )
    op.create_index(op.f("ix_refresh_token_family_id"), "refresh_token", ["family_id"])
    op.create_index(op.f("ix_refresh_token_session_id"), "refresh_token", ["session_id"])
    op.create_table(
        "upstream_login",
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("return_to", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_upstream_login")),
    )
    op.create_table(
        "projected_user",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("given_name", sa.String(255), nullable=False),
        sa.Column("family_name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_projected_user")),
    )
    op.create_table(
        "projected_default_organisation",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_projected_default_organisation")),
    )
    op.create_table(
        "projected_membership",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("last_event_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "organisation_id", name=op.f("pk_projected_membership")),
    )
    op.create_table(
        "projected_organisation",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_projected_organisation")),
    )
    op.create_table(
        "projection_version",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_projection_version")),
    )


def downgrade() -> None:
    for table in (
        "projection_version",
        "projected_organisation",
        "projected_membership",
        "projected_default_organisation",
        "projected_user",
        "upstream_login",
        "refresh_token",
        "authorization_code",
        "session_client",
        "sso_session",
        "signing_key",
    ):
        op.drop_table(table)
