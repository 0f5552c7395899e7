"""Tables the organisations service owns (DESIGN.md, "Services").

Plain Core tables: the use cases read and write rows, they need no identity map.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    func,
)

from eproc_runtime.applications import declared_roles_table
from eproc_runtime.db import new_metadata
from eproc_runtime.operators import operator_status_table
from eproc_runtime.outbox import add_messaging_tables

metadata = new_metadata()
messaging_tables = add_messaging_tables(metadata)

organisation = Table(
    "organisation",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("parent_id", Uuid, ForeignKey("organisation.id"), nullable=True, index=True),
    # The dataset key ("municipality/gent"): lets the demo and the importer find an
    # organisation again; organisations registered through requests have none.
    Column("key", String(200), nullable=True, unique=True),
    Column("kind", String(50), nullable=True),
    Column("enterprise_number", String(10), nullable=False, unique=True),
    Column("name_nl", String(300), nullable=True),
    Column("name_fr", String(300), nullable=True),
    Column("name_de", String(300), nullable=True),
    Column("name_en", String(300), nullable=True),
    # The normalised first name: the order children and roots are listed in.
    Column("sort_name", String(300), nullable=False),
    Column("street", String(200), nullable=False),
    Column("house_number", String(20), nullable=False, server_default=""),
    Column("postcode", String(10), nullable=False),
    Column("municipality", String(100), nullable=False),
    Column("country", String(2), nullable=False, server_default="BE"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_organisation_parent_sort", organisation.c.parent_id, organisation.c.sort_name)

# One row per distinct name of an organisation, lowercased and unaccented in Python (so
# the index needs no immutable unaccent wrapper); on PostgreSQL a GIN trigram index
# serves the search (R-ORG-2).
organisation_name = Table(
    "organisation_name",
    metadata,
    Column(
        "organisation_id",
        Uuid,
        ForeignKey("organisation.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("search_text", String(300), primary_key=True),
)
Index(
    "ix_organisation_name_trgm",
    organisation_name.c.search_text,
    postgresql_using="gin",
    postgresql_ops={"search_text": "gin_trgm_ops"},
)

# Every distinct word of the names (normalised), for correcting typos word by word
# before the exact search runs again (see search.py). Words are never removed: a stale
# one only matches nothing.
search_word = Table(
    "search_word",
    metadata,
    Column("word", String(100), primary_key=True),
    # How many names contain it (counted when names are added, not when they change):
    # the search lets the index read only the rarest words' trigrams.
    Column("frequency", Integer, nullable=False, server_default="0"),
)
Index(
    "ix_search_word_trgm",
    search_word.c.word,
    postgresql_using="gin",
    postgresql_ops={"word": "gin_trgm_ops"},
)

membership = Table(
    "membership",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("organisation_id", Uuid, ForeignKey("organisation.id"), nullable=False, index=True),
    Column("is_default", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("user_id", "organisation_id", name="uq_membership_user_organisation"),
)
# R-MEM-2 held by the database too: at most one default per user.
Index(
    "uq_membership_default",
    membership.c.user_id,
    unique=True,
    postgresql_where=membership.c.is_default,
    sqlite_where=membership.c.is_default,
)

membership_role = Table(
    "membership_role",
    metadata,
    Column(
        "membership_id",
        Uuid,
        ForeignKey("membership.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("application", String(50), primary_key=True),
    Column("role", String(50), primary_key=True),
)

# Dossiers of platform applications a member is linked to (platform.dossier-link.v1).
dossier_link = Table(
    "dossier_link",
    metadata,
    Column("application", String(50), primary_key=True),
    Column("dossier_id", String(200), primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("linked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_dossier_link_user_org", dossier_link.c.user_id, dossier_link.c.organisation_id)

# Approved requests already applied, whatever their outcome: a second approval event for
# the same request (a new event id) changes nothing.
applied_request = Table(
    "applied_request",
    metadata,
    Column("request_id", Uuid, primary_key=True),
    Column("outcome", String(50), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Users known from identity.user.v1, so a Superuser can add an *existing* user (R-SU-1)
# and member lists can show names.
# Identity's word on platform operators (PlatformOperatorChanged): a withdrawal
# counts here at once, before the withdrawn operator's token expires.
operator_status = operator_status_table(metadata)

# The roles each application declares with its registration in the edge's client registry
# (ClientChanged): the role catalogue is the built-in one as these change it (SPEC §4).
declared_roles = declared_roles_table(metadata)

known_user = Table(
    "known_user",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("given_name", String(200), nullable=False),
    Column("family_name", String(200), nullable=False),
    Column("email", String(320), nullable=False),
)

# R-NF-1: who did what, when, on whose behalf.
audit_record = Table(
    "audit_record",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_id", Uuid, nullable=True),
    Column("actor_kind", String(20), nullable=False),
    Column("on_behalf_of", Uuid, nullable=True),
    Column("action", String(50), nullable=False),
    Column("organisation_id", Uuid, nullable=True, index=True),
    Column("subject_user_id", Uuid, nullable=True),
    Column("request_id", Uuid, nullable=True),
    Column("detail", JSON, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
)
# The operators' audit view (R-OP-1): newest first, by who acted or was acted upon.
Index("ix_audit_record_occurred_at", audit_record.c.occurred_at)
Index("ix_audit_record_actor_id", audit_record.c.actor_id, audit_record.c.occurred_at)
Index("ix_audit_record_subject_user_id", audit_record.c.subject_user_id, audit_record.c.occurred_at)
