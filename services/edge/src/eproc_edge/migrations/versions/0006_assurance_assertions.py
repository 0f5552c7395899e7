"""Issue 20: the jti of private_key_jwt client assertions (used once), dynamic
registration's tokens, and the sessions' acr as federal levels.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

# The former acr values and the federal levels that replace them.
_LEVELS = {"password": "urn:be:fedict:iam:fas:Level100", "eid": "urn:be:fedict:iam:fas:Level500"}


def _relabel(pairs: dict[str, str]) -> None:
    for table in ("sso_session", "authorization_code"):
        for old, new in pairs.items():
            statement = sa.text(f"UPDATE {table} SET acr = :new WHERE acr = :old")  # noqa: S608 - fixed names
            op.execute(statement.bindparams(old=old, new=new))


def upgrade() -> None:
    op.create_table(
        "client_assertion",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("jti", sa.String(255), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("client_id", "jti", name=op.f("pk_client_assertion")),
    )
    op.create_table(
        "registration_token",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("issued_by", sa.Uuid(), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_registration_token")),
    )
    op.create_index(op.f("ix_registration_token_client_id"), "registration_token", ["client_id"])
    _relabel(_LEVELS)


def downgrade() -> None:
    _relabel({new: old for old, new in _LEVELS.items()})
    op.drop_index(op.f("ix_registration_token_client_id"), table_name="registration_token")
    op.drop_table("registration_token")
    op.drop_table("client_assertion")
