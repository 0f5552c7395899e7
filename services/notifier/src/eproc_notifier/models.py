"""Tables the notifier service owns (DESIGN.md, "Services").

Projections fed by events (recipients, Superusers, organisation names) and the
mail outbox with its delivery state.
"""

from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    func,
)

from eproc_runtime.db import new_metadata
from eproc_runtime.outbox import add_messaging_tables

metadata = new_metadata()
messaging_tables = add_messaging_tables(metadata)


class MailState(StrEnum):
    AWAITING_RECIPIENT = "awaiting_recipient"
    """The recipient's profile has not reached us yet (events of other topics
    may arrive later); the mail is rendered when it does."""
    AWAITING_SUPERUSER = "awaiting_superuser"
    """A "new request" mail for an organisation whose Superusers we do not know yet
    (no recipient): sent to them the moment one is known; the operators are told at
    ``next_attempt_at`` if nobody is known by then (issue 19, point 5)."""
    AWAITING_OUTCOME = "awaiting_outcome"
    """The approval of a request, told to its requester once the change is applied
    (``request.completed``), cancelled when it fails: one mail per outcome."""
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    """Failed permanently: a 5xx answer, or too many temporary failures."""
    RELEASED = "released"
    """An ``awaiting_superuser`` mail handed to the Superusers (one mail each)."""
    CANCELLED = "cancelled"
    """A held mail that lost its reason: the request was withdrawn, decided, or failed."""


HELD = (MailState.AWAITING_SUPERUSER, MailState.AWAITING_OUTCOME)


recipient = Table(
    "recipient",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False),
    Column("language", String(2), nullable=False),
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

superuser = Table(
    "superuser",
    metadata,
    Column("organisation_id", Uuid, primary_key=True),
    Column("user_id", Uuid, primary_key=True),
)

organisation = Table(
    "organisation",
    metadata,
    Column("organisation_id", Uuid, primary_key=True),
    Column("names", JSON, nullable=False),
)

mail = Table(
    "mail",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("event_id", Uuid, nullable=False),
    Column("kind", String(50), nullable=False),
    Column("request_id", Uuid, nullable=True),
    Column("organisation_id", Uuid, nullable=True),
    Column("recipient_user_id", Uuid, nullable=True),
    Column("recipient_email", String(320), nullable=True),
    Column("language", String(2), nullable=True),
    Column("context", JSON, nullable=False),
    Column("subject", Text, nullable=True),
    Column("text_body", Text, nullable=True),
    Column("html_body", Text, nullable=True),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("sent_by", String(100), nullable=True),
)
Index("ix_mail_state_next_attempt_at", mail.c.state, mail.c.next_attempt_at)
Index("ix_mail_recipient_user_id", mail.c.recipient_user_id)
Index("ix_mail_request_id", mail.c.request_id)
Index("ix_mail_organisation_id_state", mail.c.organisation_id, mail.c.state)
