"""The eID gateway's use cases: start a card login, complete it, redeem its code.

The routes (``api.py``) only translate HTTP to these calls and their answers or
:class:`LoginRefused` back. Each use case runs in the caller's transaction.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from authlib.oauth2 import OAuth2Error
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.responses import Response

from eproc_eid_card.wire import CardPresentation
from eproc_runtime.errors import UseCaseError

from . import repository
from .oauth import (
    CodeRecord,
    Exchange,
    GatewayAuthorizationServer,
    GatewayRequest,
    Principal,
    run,
    secret_hash,
)
from .presentation import subject_for, verify_presentation
from .settings import Settings
from .status import StatusChecker
from .verification import VerificationError


def _log() -> Any:
    # Looked up per use: structlog caches a logger on first use, and the process may
    # reconfigure logging (each app's lifespan does).
    return structlog.get_logger("eproc_eid_gateway")


@dataclass
class Gateway:
    """What the use cases need: settings, the authorization server, trust anchors,
    the certificate status checker and the database."""

    settings: Settings
    server: GatewayAuthorizationServer
    anchors: list[x509.Certificate]
    status: StatusChecker
    sessions: async_sessionmaker[AsyncSession] | None = None

    def oauth_request(
        self, method: str, path: str, headers: Mapping[str, str], items: list[tuple[str, str]]
    ) -> GatewayRequest:
        # The public URL, not the one behind the proxy: authlib checks it for TLS.
        return GatewayRequest(method, f"{self.settings.base_url}{path}", headers, items)


class LoginRefused(UseCaseError):
    """A login step was refused (400); ``code`` is stable and the login page explains
    it by code in the user's language."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(code, message, field=field)


@dataclass(frozen=True)
class Challenge:
    """A fresh single-use challenge for the card, shown on the login page."""

    id: str
    value: str


async def start_login(
    db: AsyncSession, gateway: Gateway, items: list[tuple[str, str]], now: datetime
) -> Challenge:
    """Store a single-use challenge for an authorization request already validated."""
    challenge = Challenge(
        secrets.token_urlsafe(32), base64.b64encode(secrets.token_bytes(32)).decode()
    )
    await repository.purge(db, now, timedelta(hours=1))
    await repository.insert_challenge(
        db,
        {
            "id": challenge.id,
            "challenge": challenge.value,
            "authorization_request": json.dumps(items),
            "created_at": now,
            "expires_at": now + timedelta(seconds=gateway.settings.challenge_lifetime),
        },
    )
    return challenge


async def complete_login(
    db: AsyncSession,
    gateway: Gateway,
    challenge_id: str,
    presentation: CardPresentation,
    headers: Mapping[str, str],
    now: datetime,
) -> str:
    """Check the card agent's answer for the challenge; where to send the browser
    (the client's redirect URI with an authorization code). Raises LoginRefused.

    The challenge is used up first, also when the answer is then refused (the
    caller commits): a failed attempt needs a fresh page and a fresh challenge.
    """
    row = await repository.take_challenge(db, challenge_id, now)
    if row is None:
        known = await repository.find_challenge(db, challenge_id)
        if known is None:
            code, message = "challenge_unknown", "This login attempt is unknown."
        elif known.used_at is not None:
            code, message = "challenge_used", "This challenge was already used."
        else:
            code, message = "challenge_expired", "This login attempt has expired."
        _log().info("eid_login_refused", code=code)
        raise LoginRefused(code, message, "challenge_id")
    try:
        verified = verify_presentation(
            presentation, base64.b64decode(row.challenge), gateway.anchors, at=now
        )
        for certificate, issuer in verified.certificates:
            await gateway.status.check(certificate, issuer, at=now)
    except VerificationError as error:
        _log().info("eid_login_refused", code=error.code)
        raise LoginRefused(error.code, str(error), "presentation") from error

    holder = verified.holder
    principal = Principal(
        subject=subject_for(
            holder.national_number, gateway.settings.subject_key.get_secret_value()
        ),
        given_name=holder.given_name,
        family_name=holder.family_name,
        acr=gateway.settings.acr,
        auth_time=int(now.timestamp()),
    )
    items = [(str(k), str(v)) for k, v in json.loads(row.authorization_request)]
    oauth_request = gateway.oauth_request("GET", "/authorize", headers, items)
    exchange: Exchange[CodeRecord] = Exchange()
    try:
        grant = gateway.server.get_consent_grant(oauth_request)
        response: Response | None = run(
            exchange,
            lambda: gateway.server.create_authorization_response(
                oauth_request, grant_user=principal, grant=grant
            ),
        )
    except OAuth2Error as error:
        raise LoginRefused(
            error.error, "The login request is no longer valid.", "challenge_id"
        ) from error
    await exchange.apply(db)
    location = response.headers.get("location") if response is not None else None
    if not location:
        raise LoginRefused(
            "authorization_failed", "No authorization code could be issued.", "challenge_id"
        )
    _log().info("eid_login_succeeded", client_id=oauth_request.payload.client_id)
    return location


async def redeem_code(
    db: AsyncSession, gateway: Gateway, headers: Mapping[str, str], items: list[tuple[str, str]]
) -> Response:
    """The token endpoint: the authorization code grant with PKCE (authlib's answer)."""
    oauth_request = gateway.oauth_request("POST", "/token", headers, items)
    exchange: Exchange[CodeRecord] = Exchange()
    code = dict(items).get("code")
    if dict(items).get("grant_type") == "authorization_code" and code:
        row = await repository.take_code(db, secret_hash(code))
        exchange.code = CodeRecord(row) if row is not None else None
    response: Response | None = run(
        exchange, lambda: gateway.server.create_token_response(oauth_request)
    )
    await exchange.apply(db)
    assert response is not None
    response.headers["Cache-Control"] = "no-store"
    return response
