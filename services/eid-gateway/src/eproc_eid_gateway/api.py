"""HTTP endpoints of the eID gateway: an OpenID Provider shaped like the federal
authentication service (discovery, authorize, token, userinfo, JWKS), plus the
endpoint the login page posts the card agent's answer to."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from eproc_contracts import assurance
from eproc_eid_card.wire import CardPresentation
from eproc_page_shell import LANGUAGE_COOKIE, STYLESHEET, contact_url
from eproc_runtime.app import DbSession
from eproc_runtime.errors import error_response
from eproc_runtime.oauth import AUTH_METHODS

from . import service
from .oauth import SCOPES
from .pages import LANGUAGES, choose_language, invalid_request_page, login_page
from .service import Gateway, LoginRefused


def _log() -> Any:
    return structlog.get_logger("eproc_eid_gateway")


router = APIRouter()


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway  # type: ignore[no-any-return]


GatewayDep = Annotated[Gateway, Depends(_gateway)]


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
    # ``lang``: the page's own language switch, not part of the authorization request.
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    language = choose_language(
        request.query_params.get("ui_locales"),
        request.headers.get("accept-language"),
        chosen=request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE),
    )
    stylesheet = f"{gateway.settings.base_url}/static/{STYLESHEET}"
    oauth_request = gateway.oauth_request(request.method, "/authorize", request.headers, items)
    try:
        grant = gateway.server.get_consent_grant(oauth_request)
        _check_acr_request(grant, dict(items), gateway.settings.acr)
    except OAuth2Error as error:
        _log().info("eid_authorize_refused", error=error.error)
        if error.redirect_uri:
            return gateway.server.handle_error_response(oauth_request, error)  # type: ignore[no-any-return]
        return HTMLResponse(
            invalid_request_page(
                language=language,
                error=error.error,
                stylesheet_url=stylesheet,
                contact_url=contact_url(gateway.settings.portal_url),
            ),
            status_code=400,
        )
    challenge = await service.start_login(db, gateway, items, datetime.now(UTC))
    others = [(k, v) for k, v in items if k != "ui_locales"]
    links = {
        code: "?" + urlencode([*others, ("ui_locales", code), ("lang", code)]) for code in LANGUAGES
    }
    nonce = secrets.token_urlsafe(16)
    agent = gateway.settings.agent_url.rstrip("/")
    page = login_page(
        language=language,
        challenge_id=challenge.id,
        challenge=challenge.value,
        agent_url=agent,
        complete_url=f"{gateway.settings.base_url}/authorize/complete",
        script_nonce=nonce,
        language_links=links,
        stylesheet_url=stylesheet,
        contact_url=contact_url(gateway.settings.portal_url),
    )
    return HTMLResponse(
        page,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; "
                f"connect-src 'self' {agent}; form-action 'self'; frame-ancestors 'none'; "
                "base-uri 'none'"
            ),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


class UnmetAuthenticationRequirements(OAuth2Error):  # type: ignore[misc]
    """OpenID Connect Unmet Authentication Requirements 1.0."""

    error = "unmet_authentication_requirements"


def _check_acr_request(grant: Any, params: dict[str, str], acr: str) -> None:
    """The card login is the strongest there is: any federal level asked for is
    met; an essential ``acr`` request for nothing on that ladder is refused."""
    try:
        values, essential = assurance.requested(params)
    except ValueError:
        raise InvalidRequestError(
            "'claims' is not valid JSON.",
            redirect_uri=grant.redirect_uri,
            state=params.get("state"),
        ) from None
    if essential and not assurance.reachable(values, strongest=acr):
        raise UnmetAuthenticationRequirements(
            f"Only {acr} is offered here.",
            redirect_uri=grant.redirect_uri,
            state=params.get("state"),
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
    try:
        location = await service.complete_login(
            db, gateway, login.challenge_id, login.presentation, request.headers, datetime.now(UTC)
        )
    except LoginRefused as refused:
        # Answered, not raised, so that the challenge stays used (the unit of work
        # commits): a failed attempt needs a fresh page and a fresh challenge.
        return error_response(refused)
    return JSONResponse({"redirect": location}, headers={"Cache-Control": "no-store"})


# --- token and userinfo ---------------------------------------------------------------


@router.post("/token")
async def token(request: Request, gateway: GatewayDep, db: DbSession) -> Response:
    """The authorization code grant with PKCE (authlib)."""
    form = await request.form()
    items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return await service.redeem_code(db, gateway, request.headers, items)


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
