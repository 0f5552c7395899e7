"""Tables the edge service owns (DESIGN.md, "Services").

Four groups: the client registry (the relying parties as data, R-APP-1),
the OpenID Provider's own state (signing keys, sessions,
authorization codes, refresh tokens, pending upstream logins), and the claims
projection fed by ``identity.user.v1``, ``org.organisation.v1`` and
``org.membership.v1`` (the token path reads only these, never another service).
Secrets handed to browsers or clients (session cookies, codes, refresh tokens)
are stored as SHA-256 hashes only; client secrets as argon2id hashes.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
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

# --- the client registry (R-APP-1) -------------------------------------------

# One relying party (a platform application, the portal). Lists are JSON; a
# token lifetime left NULL is the edge's default (settings).
registered_client = Table(
    "registered_client",
    metadata,
    Column("client_id", String(64), primary_key=True),
    # The application whose roles its tokens carry (the role catalogue's id).
    Column("application", String(64), nullable=False),
    Column("names", JSON, nullable=False),  # {"nl": ..., "fr": ..., "de": ..., "en": ...}
    Column("redirect_uris", JSON, nullable=False),
    Column("post_logout_redirect_uris", JSON, nullable=False),
    Column("backchannel_logout_uri", Text, nullable=True),
    Column("home_url", Text, nullable=False),
    Column("login_url", Text, nullable=False),
    Column("grant_types", JSON, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("resource_servers", JSON, nullable=False),
    # client_secret_basic / client_secret_post (secrets in client_secret),
    # private_key_jwt (RFC 7523: jwks or jwks_uri), none (public, PKCE only).
    Column("token_endpoint_auth_method", String(32), nullable=False),
    Column("jwks", JSON, nullable=True),
    Column("jwks_uri", Text, nullable=True),
    Column("require_pkce", Boolean, nullable=False),
    # The weakest login its users may come with (eproc_contracts.assurance): a
    # weaker SSO session is stepped up first.
    Column("minimum_acr", String(64), nullable=True),
    Column("access_token_lifetime", Integer, nullable=True),
    Column("id_token_lifetime", Integer, nullable=True),
    Column("refresh_token_lifetime", Integer, nullable=True),
    Column("roles", JSON, nullable=False),  # the roles it declares (eproc_contracts.roles.Role)
    Column("enabled", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A client's valid secrets, hashed: one, or two while a rotation overlaps (the
# new one and the old one until it is retired).
client_secret = Table(
    "client_secret",
    metadata,
    Column("secret_id", String(32), primary_key=True),
    Column(
        "client_id",
        String(64),
        ForeignKey("registered_client.client_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Who changed which client when, and what (never a secret): the registry's audit trail.
client_change = Table(
    "client_change",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("client_id", String(64), nullable=False, index=True),
    Column("change", String(32), nullable=False),
    Column("changed_by", Uuid, nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),
)

# --- OpenID Provider state ---------------------------------------------------

signing_key = Table(
    "signing_key",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_jwk", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Stops signing at ``retired_at``; stays published in the JWKS until
    # ``published_until`` so that tokens it signed can still be verified.
    Column("retired_at", DateTime(timezone=True), nullable=True),
    Column("published_until", DateTime(timezone=True), nullable=True),
)

sso_session = Table(
    "sso_session",
    metadata,
    Column("id", String(64), primary_key=True),  # public session id (``sid`` claim)
    Column("cookie_hash", String(64), nullable=False, unique=True),
    Column("user_id", Uuid, nullable=False, index=True),
    Column("acr", String(32), nullable=False),
    Column("platform_operator", Boolean, nullable=False, default=False),
    # The organisation last chosen in this session: where a newly opened
    # application starts (R-SSO-2).
    Column("active_organisation_id", Uuid, nullable=True),
    Column("auth_time", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
)

# The active organisation per (session, application): two applications open
# side by side keep their own organisation (R-SSO-2, R-SSO-3).
session_client = Table(
    "session_client",
    metadata,
    Column(
        "session_id",
        String(64),
        ForeignKey("sso_session.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("client_id", String(64), primary_key=True),
    Column("active_organisation_id", Uuid, nullable=True),
)

authorization_code = Table(
    "authorization_code",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("nonce", String(255), nullable=True),
    Column("code_challenge", String(128), nullable=False),
    Column("code_challenge_method", String(10), nullable=False),
    Column("acr", String(32), nullable=False),
    Column("auth_time", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # A used code is kept (not deleted) so that a replay can be recognised and
    # the tokens issued from it revoked (RFC 6749 §4.1.2).
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("family_id", String(64), nullable=True),
    Index("ix_authorization_code_client_nonce", "client_id", "nonce"),
)

refresh_token = Table(
    "refresh_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(64), nullable=False, index=True),
    Column("client_id", String(64), nullable=False),
    Column("user_id", Uuid, nullable=False),
    Column("session_id", String(64), nullable=False, index=True),
    Column("scope", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Revoked access tokens (RFC 7009), by what an access token names: one token
# (its ``jti``), a refresh-token family (``grant_id``) or a whole session
# (``sid``). Kept until every token it covers has expired (``until``). The
# revocation views of the edge instances and the applications are fed from
# the ``sso.revocation.v1`` events written with these rows; this table is the
# fallback an instance reads when its view is not known to be up to date.
revocation = Table(
    "revocation",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False, index=True),
)

# The ``jti`` of every private_key_jwt client assertion seen (RFC 7523 §3 item 7),
# until it expires: a replayed assertion is refused by every edge instance.
client_assertion = Table(
    "client_assertion",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Dynamic client registration (RFC 7591/7592): initial access tokens operators
# issue (``kind`` "initial": a number of registrations until ``expires_at``) and
# each registered client's registration access token (``kind`` "client").
# Stored as SHA-256 hashes only.
registration_token = Table(
    "registration_token",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("client_id", String(64), nullable=True, index=True),
    Column("issued_by", Uuid, nullable=False),  # the operator (the audit's actor)
    Column("uses_left", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

upstream_login = Table(
    "upstream_login",
    metadata,
    Column("state", String(64), primary_key=True),
    Column("nonce", String(64), nullable=False),
    Column("code_verifier", String(128), nullable=False),
    Column("return_to", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# --- claims projection (R-SSO-4) ----------------------------------------------

projected_user = Table(
    "projected_user",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("given_name", String(255), nullable=False),
    Column("family_name", String(255), nullable=False),
    Column("email", String(320), nullable=False),
    Column("language", String(2), nullable=False),
    # When the profile last changed here: SCIM's meta.lastModified (R-APP-2).
    Column("last_modified", DateTime(timezone=True), nullable=True),
)
# SCIM's `userName eq` compares lower-cased (RFC 7643 §2.1: caseExact false): without this
# index it scans every user (100k users: bench/scim.py).
Index("ix_projected_user_username_lower", func.lower(projected_user.c.username))

projected_default_organisation = Table(
    "projected_default_organisation",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, nullable=True),
)

projected_membership = Table(
    "projected_membership",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, primary_key=True),
    Column("roles", JSON, nullable=False),  # [{"application": ..., "role": ...}]
    # A revoked membership is kept as a tombstone with the time of the event
    # that ended it, so that an older event delivered late cannot revive it.
    Column("revoked", Boolean, nullable=False, default=False),
    Column("last_event_at", DateTime(timezone=True), nullable=False),
)

projected_organisation = Table(
    "projected_organisation",
    metadata,
    Column("organisation_id", Uuid, primary_key=True),
    Column("names", JSON, nullable=False),  # {"nl": ..., "fr": ..., ...}
)

# Bumped, in the same transaction, by every projection change that concerns the
# user: each edge instance compares it with its cached snapshot's version, so a
# change consumed by any instance shows in the next token from every instance.
projection_version = Table(
    "projection_version",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# --- SCIM read model (R-APP-2, eproc_edge.scim) --------------------------------
#
# The organisation x application-role groups and their members, kept from the
# claims projection's membership rows in the same transaction (a normalised copy:
# SCIM filters and pages them in SQL, which the JSON ``roles`` column cannot do
# portably). A group's id is derived from (organisation, application, role), so
# it is stable and every consumer instance computes the same one.

scim_group = Table(
    "scim_group",
    metadata,
    Column("group_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, nullable=False, index=True),
    Column("application", String(64), nullable=False),
    Column("role", String(64), nullable=False),
    Column("organisation_name", String(512), nullable=False),
    Column("display_name", String(600), nullable=False),
    # When its name or members last changed: SCIM's meta.lastModified.
    Column("last_modified", DateTime(timezone=True), nullable=True),
    Index("ix_scim_group_application_display_name", "application", "display_name"),
)

scim_group_member = Table(
    "scim_group_member",
    metadata,
    Column("group_id", Uuid, primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, nullable=False),
    Column("application", String(64), nullable=False),
    Index("ix_scim_group_member_application_user", "application", "user_id"),
    Index("ix_scim_group_member_user_organisation", "user_id", "organisation_id"),
)
