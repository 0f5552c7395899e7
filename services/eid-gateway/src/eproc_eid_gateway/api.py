"""HTTP endpoints of the eID gateway: an OpenID Provider shaped like the federal
authentication service (discovery, authorize, token, userinfo, JWKS), plus the
endpoint the login page posts the card agent's answer to."""

from __future__ import annotations

import base64
import html
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from authlib.oauth2 import OAuth2Error
from cryptography import x509
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import repository
from .oauth import (
    AUTH_METHODS,
    SCOPES,
    CodeRecord,
    Exchange,
    GatewayAuthorizationServer,
    GatewayRequest,
    Principal,
    run,
    secret_hash,
)
from .pages import LANGUAGES, choose_language, login_page
from .presentation import CardPresentation, subject_for, verify_presentation
from .settings import Settings
from .verification import VerificationError


def _log() -> Any:
    # Looked up per use: structlog caches a logger on first use, and the process may
    # reconfigure logging (each app's lifespan does).
    return structlog.get_logger("eproc_eid_gateway")


router = APIRouter()


@dataclass
class Gateway:
    """What the routes need: settings, the authorization server, trust anchors, sessions."""

    settings: Settings
    server: GatewayAuthorizationServer
    anchors: list[x509.Certificate]
    sessions: async_sessionmaker[AsyncSession] | None = None


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway  # type: ignore[no-any-return]


GatewayDep = Annotated[Gateway, Depends(_gateway)]


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    sessions = _gateway(request).sessions
    assert sessions is not None, "the gateway's lifespan opens the database"
    async with sessions() as session, session.begin():
        yield session


DbSession = Annotated[AsyncSession, Depends(_session)]


def _error(status: int, code: str, message: str, field: str | None = None) -> HTTPException:
    detail: dict[str, Any] = {"code": code, "message": message}
    if field:
        detail["field"] = field
    return HTTPException(status, detail=detail)


def _refusal(code: str, message: str, field: str) -> JSONResponse:
    return JSONResponse(
        {"detail": {"code": code, "message": message, "field": field}}, status_code=400
    )


def _oauth_request(
    gateway: Gateway, request: Request, path: str, items: list[tuple[str, str]]
) -> GatewayRequest:
    # The public URL, not the one behind the proxy: authlib checks it for TLS.
    uri = f"{gateway.settings.base_url}{path}"
    # Starlette's headers are case-insensitive, as authlib expects ("Authorization").
    return GatewayRequest(request.method, uri, request.headers, items)


# --- discovery and keys ---------------------------------------------------------


@router.get("/.well-known/openid-configuration")
async def discovery(gateway: GatewayDep) -> dict[str, Any]:
    """OpenID Provider metadata, as the federal authentication service publishes it."""
    base = gateway.settings.base_url
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo",
        "jwks_uri": f"{base}/jwks",
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": [gateway.settings.acr],
        "claims_supported": ["sub", "acr", "given_name", "family_name", "auth_time", "nonce"],
        "ui_locales_supported": list(LANGUAGES),
    }


@router.get("/jwks")
async def jwks(gateway: GatewayDep) -> dict[str, Any]:
    return gateway.server.jwks()


# --- authorize: the login page ------------------------------------------------------


@router.get("/authorize", response_class=HTMLResponse)
async def authorize(request: Request, gateway: GatewayDep, db: DbSession) -> Response:
    """Validate the authorization request, then show the eID login page with a fresh
    single-use challenge for the card."""
    items = list(request.query_params.multi_items())
    oauth_request = _oauth_request(gateway, request, "/authorize", items)
    try:
        gateway.server.get_consent_grant(oauth_request)
    except OAuth2Error as error:
        _log().info("eid_authorize_refused", error=error.error)
        if error.redirect_uri:
            return gateway.server.handle_error_response(oauth_request, error)  # type: ignore[no-any-return]
        return HTMLResponse(
            f"<!doctype html><title>eID</title><p>{html.escape(error.error)}: "
            "the application sent an invalid login request.</p>",
            status_code=400,
        )
    now = datetime.now(UTC)
    challenge_id = secrets.token_urlsafe(32)
    challenge = base64.b64encode(secrets.token_bytes(32)).decode()
    await repository.purge(db, now, timedelta(hours=1))
    await repository.insert_challenge(
        db,
        {
            "id": challenge_id,
            "challenge": challenge,
            "authorization_request": json.dumps(items),
            "created_at": now,
            "expires_at": now + timedelta(seconds=gateway.settings.challenge_lifetime),
        },
    )
    language = choose_language(
        request.query_params.get("ui_locales"), request.headers.get("accept-language")
    )
    others = [(k, v) for k, v in items if k != "ui_locales"]
    links = {code: "?" + urlencode([*others, ("ui_locales", code)]) for code in LANGUAGES}
    nonce = secrets.token_urlsafe(16)
    agent = gateway.settings.agent_url.rstrip("/")
    page = login_page(
        language=language,
        challenge_id=challenge_id,
        challenge=challenge,
        agent_url=agent,
        complete_url=f"{gateway.settings.base_url}/authorize/complete",
        script_nonce=nonce,
        language_links=links,
    )
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
                f"connect-src 'self' {agent}; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'"
            ),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


class CardLogin(BaseModel):
    """What the login page posts: its challenge and the card agent's answer."""

    challenge_id: str = Field(min_length=10, max_length=64)
    presentation: CardPresentation


class Redirect(BaseModel):
    redirect: str


@router.post(
    "/authorize/complete",
    response_model=Redirect,
    responses={400: {"description": "the card's answer was refused (see `code`)"}},
)
async def complete(
    login: CardLogin, request: Request, gateway: GatewayDep, db: DbSession
) -> JSONResponse:
    """Check the card agent's answer for the challenge and, if everything holds,
    issue an authorization code: the page is told where to send the browser."""
    now = datetime.now(UTC)
    row = await repository.take_challenge(db, login.challenge_id, now)
    if row is None:
        known = await repository.find_challenge(db, login.challenge_id)
        if known is None:
            code, message = "challenge_unknown", "This login attempt is unknown."
        elif known.used_at is not None:
            code, message = "challenge_used", "This challenge was already used."
        else:
            code, message = "challenge_expired", "This login attempt has expired."
        _log().info("eid_login_refused", code=code)
        return _refusal(code, message, "challenge_id")
    try:
        holder = verify_presentation(
            login.presentation, base64.b64decode(row.challenge), gateway.anchors, at=now
        )
    except VerificationError as error:
        _log().info("eid_login_refused", code=error.code)
        # Answered, not raised, so that the challenge stays used (the unit of work
        # commits): a failed attempt needs a fresh page and a fresh challenge.
        return _refusal(error.code, str(error), "presentation")

    key = gateway.settings.subject_key.get_secret_value()
    principal = Principal(
        subject=subject_for(holder.national_number, key),
        given_name=holder.given_name,
        family_name=holder.family_name,
        acr=gateway.settings.acr,
        auth_time=int(now.timestamp()),
    )
    items = [(str(k), str(v)) for k, v in json.loads(row.authorization_request)]
    oauth_request = _oauth_request(gateway, request, "/authorize", items)
    exchange = Exchange()
    try:
        grant = gateway.server.get_consent_grant(oauth_request)
        response = run(
            exchange,
            lambda: gateway.server.create_authorization_response(
                oauth_request, grant_user=principal, grant=grant
            ),
        )
    except OAuth2Error as error:
        raise _error(400, error.error, "The login request is no longer valid.") from error
    await exchange.apply(db)
    assert response is not None
    location = response.headers.get("location")
    if not location:
        raise _error(400, "authorization_failed", "No authorization code could be issued.")
    _log().info("eid_login_succeeded", client_id=oauth_request.payload.client_id)
    return JSONResponse({"redirect": location}, headers={"Cache-Control": "no-store"})


# --- token and userinfo ---------------------------------------------------------------


@router.post("/token")
async def token(request: Request, gateway: GatewayDep, db: DbSession) -> Response:
    """The authorization code grant with PKCE (authlib)."""
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    oauth_request = _oauth_request(gateway, request, "/token", items)
    exchange = Exchange()
    code = dict(items).get("code")
    if dict(items).get("grant_type") == "authorization_code" and code:
        row = await repository.take_code(db, secret_hash(code))
        exchange.code = CodeRecord(row) if row is not None else None
    response = run(exchange, lambda: gateway.server.create_token_response(oauth_request))
    await exchange.apply(db)
    assert response is not None
    response.headers["Cache-Control"] = "no-store"
    return response


@router.api_route("/userinfo", methods=["GET", "POST"])
async def userinfo(request: Request, gateway: GatewayDep) -> Response:
    """The claims of the access token's holder (the same as in the ID token)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    claims = gateway.server.verify_access_token(value) if scheme.lower() == "bearer" else None
    if claims is None:
        return JSONResponse(
            {"error": "invalid_token"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    released = ("sub", "acr", "given_name", "family_name")
    return JSONResponse({k: claims[k] for k in released if k in claims})
