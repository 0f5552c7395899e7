"""Login through the edge: an OIDC client (authorization code + PKCE) whose
tokens stay in the server-side session, never in the browser."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from eproc_portal import i18n
from eproc_portal.clients.base import ApiError
from eproc_portal.sessions import ROTATE
from eproc_portal.settings import Settings
from eproc_portal.topbar import load_topbar
from eproc_portal.web import flash, redirect, safe_next, settings_of

router = APIRouter()

_REFRESH_MARGIN = 30


def create_oauth(
    settings: Settings,
    *,
    edge_transport: httpx.AsyncBaseTransport | None = None,
    eid_transport: httpx.AsyncBaseTransport | None = None,
) -> OAuth:
    """The edge (login) and the eID gateway (registration's eID step) as OpenID
    Providers; discovery happens on first use, not at start-up. A transport
    reaches a provider running in the same process (tests, embedded mode)."""
    oauth = OAuth()
    edge_kwargs: dict[str, Any] = {"scope": settings.oidc_scope, "code_challenge_method": "S256"}
    if edge_transport is not None:
        edge_kwargs["transport"] = edge_transport
    oauth.register(
        name="edge",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        server_metadata_url=settings.discovery_url,
        client_kwargs=edge_kwargs,
    )
    eid_kwargs: dict[str, Any] = {"scope": "openid profile", "code_challenge_method": "S256"}
    if eid_transport is not None:
        eid_kwargs["transport"] = eid_transport
    oauth.register(
        name="eid",
        client_id=settings.eid_client_id,
        client_secret=settings.eid_client_secret.get_secret_value(),
        server_metadata_url=settings.eid_discovery,
        client_kwargs=eid_kwargs,
    )
    return oauth


def oauth_of(request: Request) -> OAuth:
    oauth: OAuth = request.app.state.oauth
    return oauth


class LoginRequired(Exception):
    """The page needs a logged-in user; answered with a redirect to the login."""


def start_session(request: Request, token: dict[str, Any]) -> None:
    """Keep what the edge gave, under a new session id (no session fixation)."""
    claims = token.get("userinfo") or {}
    session = request.session
    for key in [k for k in session if k not in {"csrf", "flash"}]:
        del session[key]
    session[ROTATE] = True
    session["tokens"] = {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token"),
        "id_token": token.get("id_token"),
        "expires_at": int(token.get("expires_at") or time.time() + 300),
    }
    given = claims.get("given_name", "")
    family = claims.get("family_name", "")
    session["user"] = {
        "id": claims.get("sub"),
        "name": claims.get("name") or f"{given} {family}".strip(),
        "language": claims.get("locale"),
    }
    organisation = claims.get("org_id")
    if organisation:
        session["active_organisation"] = {
            "id": organisation,
            "name": claims.get("org_name") or organisation,
        }


async def access_token(request: Request) -> str:
    """The user's access token, refreshed through the edge when it is about to
    expire or when the edge says its claims changed. A page (GET) reads the top
    bar again first, so its header says what is true now (issue 19 point 7)."""
    tokens = request.session.get("tokens")
    if not isinstance(tokens, dict) or "user" not in request.session:
        raise LoginRequired
    if tokens.get("expires_at", 0) - _REFRESH_MARGIN > time.time():
        token = str(tokens["access_token"])
        if request.method != "GET" or not await load_topbar(request, token):
            return token
    token = await _refresh(request, tokens)
    if request.method == "GET":
        await load_topbar(request, token)
    return token


async def _refresh(request: Request, tokens: dict[str, Any]) -> str:
    refresh = tokens.get("refresh_token")
    if not refresh:
        raise LoginRequired
    try:
        new = await oauth_of(request).edge.fetch_access_token(
            grant_type="refresh_token", refresh_token=refresh
        )
    except (OAuthError, Exception) as exc:  # any failure: log in again
        request.session.clear()
        raise LoginRequired from exc
    request.session["tokens"] = {
        **tokens,
        "access_token": new["access_token"],
        "refresh_token": new.get("refresh_token") or refresh,
        "expires_at": int(new.get("expires_at") or time.time() + 300),
    }
    return str(new["access_token"])


AccessToken = Annotated[str, Depends(access_token)]


@router.get("/auth/login")
async def login(request: Request, next: str | None = None) -> Response:
    """Start the authorization code flow at the edge (eID, or local login when allowed)."""
    settings = settings_of(request)
    request.session["after_login"] = safe_next(next)
    try:
        response: Response = await oauth_of(request).edge.authorize_redirect(
            request, settings.oidc_redirect_uri, ui_locales=i18n.current_language.get()
        )
    except httpx.HTTPError as exc:
        # The edge unreachable: the visitor hears it in their language, nothing changes.
        raise ApiError(503, "service_unavailable") from exc
    return response


@router.get("/auth/callback")
async def callback(request: Request) -> Response:
    after = safe_next(request.session.get("after_login"))
    try:
        token = await oauth_of(request).edge.authorize_access_token(request)
    except OAuthError:
        flash(request, i18n.gettext("The login did not succeed. Please try again."))
        return redirect("/")
    start_session(request, token)
    return redirect(after if after != "/" else "/home")


@router.post("/auth/logout")
async def logout(request: Request) -> Response:
    """Forget the session, then let the edge end its own (single logout)."""
    settings = settings_of(request)
    id_token = (request.session.get("tokens") or {}).get("id_token")
    request.session.clear()
    try:
        metadata = await oauth_of(request).edge.load_server_metadata()
        end_session = metadata.get("end_session_endpoint")
    except Exception:  # the edge unreachable: the local logout still holds
        end_session = None
    if not end_session:
        return redirect("/")
    query = urlencode(
        {
            "post_logout_redirect_uri": settings.public_url.rstrip("/") + "/",
            "client_id": settings.oidc_client_id,
            **({"id_token_hint": id_token} if id_token else {}),
        }
    )
    return RedirectResponse(f"{end_session}?{query}", status_code=303)
