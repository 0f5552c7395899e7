"""Basket, requests and their history, membership projection, reminders, audit.

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

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "basket_entry",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "organisation_id", name=op.f("pk_basket_entry")),
        comment="Join requests awaiting submission (R-REQ-1, R-REQ-2)",
    )
    op.create_table(
        "request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("proposed_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("proposed_organisation", sa.JSON(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("orphaned", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("outcome_reason", sa.String(60), nullable=True),
        sa.Column("outcome_detail", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request")),
    )
    op.create_index("ix_request_requester", "request", ["requester_id", "submitted_at"])
    op.create_index("ix_request_organisation_status", "request", ["organisation_id", "status"])
    op.create_index("ix_request_status_reminder", "request", ["status", "next_reminder_at"])
    op.create_index("ix_request_proposed_organisation", "request", ["proposed_organisation_id"])
    op.create_table(
        "request_history",
        sa.Column("id", _BIGINT, sa.Identity(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_request_history_request_id_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_history")),
    )
    op.create_index("ix_request_history_request", "request_history", ["request_id", "id"])
    op.create_table(
        "membership",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "organisation_id", name=op.f("pk_membership")),
        comment="Projection of org.membership.v1",
    )
    op.create_index(
        "ix_membership_organisation_superuser", "membership", ["organisation_id", "is_superuser"]
    )
    op.create_table(
        "reminder",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("reminder_number", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("emitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["request.id"],
            name=op.f("fk_reminder_request_id_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "reminder_number", name=op.f("pk_reminder")),
        comment="Each reminder (R-REQ-14) once: the primary key refuses a second emission",
    )
    op.create_table(
        "audit_record",
        sa.Column("id", _BIGINT, sa.Identity(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_capacity", sa.String(30), nullable=False),
        sa.Column("on_behalf_of", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=True),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("subject_user_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
        comment="R-NF-1",
    )
    op.create_index("ix_audit_record_actor", "audit_record", ["actor_id", "at"])
    op.create_index("ix_audit_record_organisation", "audit_record", ["organisation_id", "at"])
    op.create_index("ix_audit_record_at", "audit_record", ["at"])


def downgrade() -> None:
    op.drop_table("audit_record")
    op.drop_table("reminder")
    op.drop_table("membership")
    op.drop_table("request_history")
    op.drop_table("request")
    op.drop_table("basket_entry")
