"""The gateway's tables: login challenges, authorization codes and its signing key.

Deliberately nothing about card holders beyond what an unredeemed code needs
(the keyed subject and the names for the ID token); the national number is never
stored (R-NF-2).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, Text

from eproc_runtime.db import new_metadata

metadata = new_metadata()

login_challenge = Table(
    "login_challenge",
    metadata,
    Column("id", String(64), primary_key=True),
    # The random bytes the card signs (base64url); single use, short-lived.
    Column("challenge", String(64), nullable=False),
    # The validated authorization request (JSON) to resume once the card answered.
    Column("authorization_request", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

authorization_code = Table(
    "authorization_code",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(100), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("nonce", String(255), nullable=True),
    Column("code_challenge", String(128), nullable=False),
    Column("code_challenge_method", String(10), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("given_name", String(255), nullable=False),
    Column("family_name", String(255), nullable=False),
    Column("acr", String(64), nullable=False),
    Column("auth_time", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

signing_key = Table(
    "signing_key",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_jwk", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
