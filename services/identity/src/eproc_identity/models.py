"""Tables the identity service owns (DESIGN.md, "Services").

The national register number is never stored, not even hashed by us: the eID
gateway sends a keyed hash of it (the ID token's ``sub``), and we keep only our
own keyed hash of *that* (``eid_subject_digest``, R-NF-2).
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    false,
    func,
)

from eproc_runtime.db import new_metadata
from eproc_runtime.outbox import add_messaging_tables

metadata = new_metadata()
messaging_tables = add_messaging_tables(metadata)

user_account = Table(
    "user_account",
    metadata,
    Column("id", Uuid, primary_key=True),
    # Stored lower-case, so the unique constraint is case-insensitive (R-REG-3).
    Column("username", String(64), nullable=False, unique=True),
    Column("eid_subject_digest", String(64), nullable=False, unique=True),
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
    Column("language", String(2), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("mobile", String(32), nullable=True),
    Column("job_title", String(200), nullable=True),
    Column("password_hash", String(255), nullable=False),
    Column("local_login_enabled", Boolean, nullable=False, server_default=false()),
    # Platform staff (helpdesk): identity decides, the edge carries it into tokens.
    Column("platform_operator", Boolean, nullable=False, server_default=false()),
    Column("registered_acr", String(100), nullable=True),
    # Case- and accent-folded name, username and e-mail address: the operators'
    # account search (R-OP-1), served by a trigram index on PostgreSQL.
    Column("search_text", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index(
    "ix_user_account_search_trgm",
    user_account.c.search_text,
    postgresql_using="gin",
    postgresql_ops={"search_text": "gin_trgm_ops"},
)

contact = Table(
    "contact",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, nullable=False),
    Column("name", String(200), nullable=False),
    Column("organisation", String(200), nullable=True),
    Column("email", String(320), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("note", Text, nullable=True),
    # Case- and accent-folded text of the searchable fields (R-PROF-2).
    Column("search_text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_contact_owner_id_name", contact.c.owner_id, contact.c.name)

organisation_member = Table(
    "organisation_member",
    metadata,
    # A projection of org.membership.v1: who belongs where, and who is Superuser.
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("is_superuser", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_organisation_member_organisation_id", organisation_member.c.organisation_id)

login_policy = Table(
    "login_policy",
    metadata,
    # One row per scope; today only "global" (the per-user switch lives on the user).
    Column("scope", String(20), primary_key=True),
    Column("local_login_enabled", Boolean, nullable=False),
    Column("changed_by", Uuid, nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    # Failed-login counters shared by every instance (R-LOGIN-3, R-SEC-4); the
    # scopes and their numbers: service/local_login.py.
    Column("scope", String(10), primary_key=True),  # "pair", "device", "account", "source"
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    # The counter is forgotten after a quiet window from the *last* failure.
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
)

login_device = Table(
    "login_device",
    metadata,
    # A browser that logged in to the account with its password before (the
    # device cookie, R-SEC-4): only a SHA-256 digest of the cookie is kept.
    Column("token_digest", String(64), primary_key=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

password_reset = Table(
    "password_reset",
    metadata,
    # A reset link's single-use token (R-PWD-1): only its SHA-256 digest is kept
    # (the token has 256 random bits; a digest of the table lets nobody reset).
    Column("token_digest", String(64), primary_key=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

audit_record = Table(
    "audit_record",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", Uuid, nullable=True),
    Column("actor_client", String(100), nullable=True),
    Column("action", String(100), nullable=False),
    Column("target_user_id", Uuid, nullable=True),
    Column("on_behalf_of", Uuid, nullable=True),
    Column("detail", JSON, nullable=False),
)
Index("ix_audit_record_target_user_id", audit_record.c.target_user_id)
Index("ix_audit_record_occurred_at", audit_record.c.occurred_at)
Index("ix_audit_record_actor_id", audit_record.c.actor_id, audit_record.c.occurred_at)
