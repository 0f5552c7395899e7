"""Tables the requests service owns (DESIGN.md, "Services").

Roles are stored as JSON lists of ``{"application", "role"}`` objects; the
membership table is this service's projection of ``org.membership.v1`` (who is
a member, and who is a Superuser, where), fed by :mod:`eproc_requests.consumers`.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)

from eproc_runtime.applications import declared_roles_table
from eproc_runtime.db import new_metadata
from eproc_runtime.operators import operator_status_table
from eproc_runtime.outbox import add_messaging_tables

metadata = new_metadata()
messaging_tables = add_messaging_tables(metadata)

_BIGINT = BigInteger().with_variant(Integer, "sqlite")

basket_entry = Table(
    "basket_entry",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("roles", JSON, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    comment="Join requests awaiting submission (R-REQ-1, R-REQ-2)",
)

request = Table(
    "request",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("requester_id", Uuid, nullable=False),
    # The organisation that decides: the target, or for a registration its parent
    # (none for a top-level organisation, decided by the platform operators).
    Column("organisation_id", Uuid, nullable=True),
    Column("roles", JSON, nullable=False),
    Column("proposed_organisation_id", Uuid, nullable=True),
    Column("proposed_organisation", JSON, nullable=True),
    Column("justification", Text, nullable=False),
    Column("orphaned", Boolean, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", Uuid, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("outcome_reason", String(60), nullable=True),
    Column("outcome_detail", Text, nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("reminders_sent", Integer, nullable=False),
    Column("next_reminder_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_request_requester", request.c.requester_id, request.c.submitted_at)
Index("ix_request_organisation_status", request.c.organisation_id, request.c.status)
Index("ix_request_status_reminder", request.c.status, request.c.next_reminder_at)
Index("ix_request_proposed_organisation", request.c.proposed_organisation_id)

request_history = Table(
    "request_history",
    metadata,
    Column("id", _BIGINT, Identity(), primary_key=True),
    Column("request_id", Uuid, ForeignKey("request.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("actor_id", Uuid, nullable=True),  # none: the system (saga, reminders)
    Column("reason", Text, nullable=True),
)
Index("ix_request_history_request", request_history.c.request_id, request_history.c.id)

membership = Table(
    "membership",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("roles", JSON, nullable=False),
    Column("is_superuser", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="Projection of org.membership.v1",
)
Index(
    "ix_membership_organisation_superuser", membership.c.organisation_id, membership.c.is_superuser
)

# Who asks: the name and address a Superuser sees on a request (identity shows a
# profile only to Superusers of the person's organisations, which a first join
# request does not yet make them).
requester = Table(
    "requester",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="Projection of identity.user.v1",
)

# Identity's word on platform operators (PlatformOperatorChanged): a withdrawal
# counts here at once, before the withdrawn operator's token expires.
operator_status = operator_status_table(metadata)

# The roles each application declares in the edge's client registry (ClientChanged):
# what the role pickers offer and submissions are checked against (SPEC §4).
declared_roles = declared_roles_table(metadata)

reminder = Table(
    "reminder",
    metadata,
    Column("request_id", Uuid, ForeignKey("request.id", ondelete="CASCADE"), primary_key=True),
    Column("reminder_number", Integer, primary_key=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("emitted_at", DateTime(timezone=True), nullable=False),
    comment="Each reminder (R-REQ-14) once: the primary key refuses a second emission",
)

audit_record = Table(
    "audit_record",
    metadata,
    Column("id", _BIGINT, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_id", Uuid, nullable=True),  # none: the system
    # requester, superuser, platform_operator or system
    Column("actor_capacity", String(30), nullable=False),
    # The organisation a Superuser acts for, or the user a change is made for.
    Column("on_behalf_of", Uuid, nullable=True),
    Column("action", String(60), nullable=False),
    Column("request_id", Uuid, nullable=True),
    Column("organisation_id", Uuid, nullable=True),
    Column("subject_user_id", Uuid, nullable=True),
    Column("detail", JSON, nullable=False),
    comment="R-NF-1",
)
Index("ix_audit_record_actor", audit_record.c.actor_id, audit_record.c.at)
Index("ix_audit_record_organisation", audit_record.c.organisation_id, audit_record.c.at)
Index("ix_audit_record_at", audit_record.c.at)
Index("ix_audit_record_subject_user", audit_record.c.subject_user_id, audit_record.c.at)
