"""OIDC Back-Channel Logout: when an SSO session ends, every application that
signed in through it and registered a ``backchannel_logout_uri`` is told, with
a signed logout token, to end its own session for that ``sid``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import structlog
from joserfc import jwt

from eproc_edge.keys import ALGORITHM, KeyRing

log = structlog.get_logger(__name__)

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_token(
    keyring: KeyRing, *, issuer: str, client_id: str, user_id: uuid.UUID, session_id: str
) -> str:
    """A logout token (OIDC Back-Channel Logout 1.0, §2.4): no nonce, an ``events`` claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
        "sub": str(user_id),
        "sid": session_id,
        "events": {EVENT: {}},
    }
    key = keyring.material.signing
    return jwt.encode({"alg": ALGORITHM, "kid": str(key.kid), "typ": "logout+jwt"}, claims, key)


def notices(
    keyring: KeyRing,
    *,
    issuer: str,
    query_client: Callable[[str], Any],
    user_id: uuid.UUID,
    session_id: str,
    client_ids: Iterable[str],
) -> list[tuple[str, str]]:
    """(URI, logout token) for each client of the ended session that registered a
    ``backchannel_logout_uri``."""
    found = []
    for client_id in client_ids:
        client = query_client(client_id)
        uri = client.config.backchannel_logout_uri if client is not None else None
        if uri:
            token = logout_token(
                keyring,
                issuer=issuer,
                client_id=client.client_id,
                user_id=user_id,
                session_id=session_id,
            )
            found.append((uri, token))
    return found


async def deliver(notifications: list[tuple[str, str]], *, timeout: float = 5.0) -> None:
    """POST each logout token to its application; an application that is down
    only misses the notice (its own session times out), so failures are logged."""
    async with httpx.AsyncClient(timeout=timeout) as http:
        for uri, token in notifications:
            try:
                response = await http.post(uri, data={"logout_token": token})
                if response.status_code >= 400:
                    log.warning("backchannel_logout_refused", uri=uri, status=response.status_code)
            except httpx.HTTPError as exc:
                log.warning("backchannel_logout_failed", uri=uri, error=str(exc))
