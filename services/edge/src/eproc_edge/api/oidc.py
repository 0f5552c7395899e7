"""The OpenID Provider's endpoints run through authlib: discovery, authorization,
the authorization-code grant and RP-initiated logout. The token path (refresh and
client credentials, introspection, revocation, userinfo, JWKS) is
:mod:`eproc_edge.api.token_path`."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from eproc_contracts import assurance
from eproc_edge import backchannel, pages, service
from eproc_edge.api.deps import (
    DbSession,
    Edge,
    EdgeDep,
    cookie_path,
    form_request,
    form_token_matches,
    new_form_token,
    oauth_headers,
    oauth_uri,
    set_form_token,
)
from eproc_edge.assertions import ALGORITHMS, AssertionRefused, has_assertion
from eproc_edge.oauth import Client, EdgeRequest, Exchange, run
from eproc_edge.stepup import LoginPolicy, UnmetAuthenticationRequirements

router = APIRouter()


@router.get("/.well-known/openid-configuration")
async def discovery(edge: EdgeDep) -> dict[str, Any]:
    iss = edge.settings.issuer
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/authorize",
        "token_endpoint": f"{iss}/token",
        "userinfo_endpoint": f"{iss}/userinfo",
        "jwks_uri": f"{iss}/jwks",
        "introspection_endpoint": f"{iss}/introspect",
        "revocation_endpoint": f"{iss}/revoke",
        "end_session_endpoint": f"{iss}/logout",
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "introspection_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "revocation_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        # Authentication levels (issue 20): password < eID, the federal ranks.
        "acr_values_supported": list(assurance.SUPPORTED),
        "claims_parameter_supported": True,
        "claims_supported": [
            "sub",
            "name",
            "preferred_username",
            "given_name",
            "family_name",
            "email",
            "org_id",
            "org_name",
            "roles",
            "default_org_id",
            "sid",
            "acr",
            "auth_time",
        ],
        "authorization_response_iss_parameter_supported": True,  # RFC 9207
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


@router.api_route("/authorize", methods=["GET", "POST"])
async def authorize(request: Request, edge: EdgeDep, db: DbSession) -> Response:
    await edge.keyring.refresh(db)
    if request.method == "POST":  # OIDC Core §3.1.2.1: GET and POST
        form = await request.form()
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    else:
        items = list(request.query_params.multi_items())
    oauth_request = EdgeRequest("GET", oauth_uri(edge, request), oauth_headers(request), items)
    data = oauth_request.payload.data
    client = edge.server.query_client(data.get("client_id") or "")
    session_row = await service.session_from_cookie(
        db, request.cookies.get(edge.settings.session_cookie_name)
    )
    exchange = Exchange()
    principal = None
    if session_row is not None and client is not None:
        principal, new = await service.principal_for(db, edge.cache, session_row, client)
        if new:
            exchange.writes.append(
                service.remember_client_organisation(session_row.id, client, principal)
            )
    if client is not None and data.get("nonce"):
        exchange.nonce_seen = await service.nonce_seen(db, client.client_id, data["nonce"])

    def call() -> Response | None:
        try:
            grant = edge.server.get_consent_grant(oauth_request, end_user=principal)
            policy = _policy(grant, data, client)
            if principal is not None and not policy.met_by(principal.acr, principal.auth_time):
                # Step-up or a fresh login (issue 20): the SSO session is kept.
                if "none" in data.get("prompt", "").split():
                    raise LoginRequiredError(
                        "The session does not meet the request's authentication level or age.",
                        redirect_uri=grant.redirect_uri,
                        state=data.get("state"),
                    )
                return None
        except OAuth2Error as error:
            return edge.server.handle_error_response(oauth_request, error)  # type: ignore[no-any-return]
        if principal is None or grant.prompt == "login":
            return None
        return edge.server.create_authorization_response(  # type: ignore[no-any-return]
            oauth_request, grant_user=principal, grant=grant
        )

    response = run(exchange, call)
    await exchange.apply(db)
    if response is not None:
        if response.status_code == 302 and "location" in response.headers:
            # RFC 9207: the client learns which issuer answered (mix-up attacks).
            location = add_params_to_uri(
                response.headers["location"], {"iss": edge.settings.issuer}
            )
            response.headers["location"] = location
        return response
    # Not logged in yet, or not strongly or recently enough: log in, then come back
    # without the "prompt=login" or "max_age" the login has just satisfied.
    query = [(k, v) for k, v in items if k not in ("prompt", "max_age")]
    return_to = f"/authorize?{urlencode(query)}"
    return RedirectResponse(f"login?{urlencode({'return_to': return_to})}", status_code=303)


def _policy(grant: Any, data: dict[str, str], client: Client | None) -> LoginPolicy:
    """The request's login policy; an essential acr no login meets is refused."""
    try:
        policy = LoginPolicy.of(data, client.config.minimum_acr if client else None)
    except OAuth2Error as error:
        error.redirect_uri, error.state = grant.redirect_uri, data.get("state")
        raise
    if policy.unmet:
        raise UnmetAuthenticationRequirements(
            "No login here reaches the essential 'acr' asked for; supported: "
            + " ".join(assurance.SUPPORTED),
            redirect_uri=grant.redirect_uri,
            state=data.get("state"),
        )
    return policy


@router.post("/token")
async def token(request: Request, edge: EdgeDep, db: DbSession) -> Response:
    """The authorization-code grant (the token path answers the others)."""
    await edge.keyring.refresh(db)
    oauth_request = await form_request(edge, request)
    data = oauth_request.payload.data
    exchange = Exchange()
    if has_assertion(data):
        tokens = edge.token_service(request.app.state.service)
        try:
            exchange.asserted_client = await edge.assertions.authenticate(
                data, endpoint="/token", sessions=tokens.sessions
            )
        except AssertionRefused as refused:
            return JSONResponse(
                {"error": "invalid_client", "error_description": str(refused)},
                status_code=400,
                headers={"Cache-Control": "no-store"},
            )
    if data.get("grant_type") == "authorization_code" and data.get("code"):
        # The family the grant's refresh token starts, named in its access token.
        exchange.family_id = uuid.uuid4().hex
        exchange.code, exchange.principal = await service.redeem_code(
            db, edge.cache, edge.server.clients, edge.revocations, edge.settings, data["code"]
        )
    response: Response | None = run(
        exchange, lambda: edge.server.create_token_response(oauth_request)
    )
    await exchange.apply(db)
    assert response is not None
    response.headers["Cache-Control"] = "no-store"
    return response


# RP-initiated logout §6: a request without a valid id_token_hint may come from
# any page (a "logout CSRF"), so the user confirms it first, through a form that
# carries a double-submit token and the request's parameters on.
_LOGOUT_CSRF_COOKIE = "eproc_logout_csrf"
_LOGOUT_PARAMETERS = ("client_id", "post_logout_redirect_uri", "state", "ui_locales")


def _logout_confirmed(request: Request, oauth_request: EdgeRequest) -> bool:
    given = oauth_request.payload.data.get("csrf", "")
    return request.method == "POST" and form_token_matches(request, _LOGOUT_CSRF_COOKIE, given)


def _logout_confirmation(request: Request, edge: Edge, oauth_request: EdgeRequest) -> HTMLResponse:
    csrf = new_form_token()
    data = oauth_request.payload.data
    parameters = {name: data[name] for name in _LOGOUT_PARAMETERS if data.get(name)}
    language = pages.language_of(request, parameters.get("ui_locales"))
    response = HTMLResponse(
        pages.render(
            "logout.html",
            frame=pages.Frame.of(edge.settings),
            language=language,
            title="logout_title",
            path="/logout",
            query=parameters,
            csrf=csrf,
            parameters=parameters,
        )
    )
    set_form_token(response, edge, _LOGOUT_CSRF_COOKIE, csrf, max_age=600)
    return response


@router.api_route("/logout", methods=["GET", "POST"], response_class=HTMLResponse)
async def logout(
    request: Request, edge: EdgeDep, db: DbSession, background: BackgroundTasks
) -> Response:
    await edge.keyring.refresh(db)
    if request.method == "POST":
        oauth_request = await form_request(edge, request)
    else:
        oauth_request = EdgeRequest(
            "GET",
            oauth_uri(edge, request),
            oauth_headers(request),
            request.query_params.multi_items(),
        )
    session_row = await service.session_from_cookie(
        db, request.cookies.get(edge.settings.session_cookie_name)
    )
    exchange = Exchange(session_id=session_row.id if session_row is not None else None)
    try:
        validated = run(
            exchange, lambda: edge.server.validate_endpoint_request("end_session", oauth_request)
        )
    except OAuth2Error as error:
        return edge.server.handle_error_response(oauth_request, error)  # type: ignore[no-any-return]
    if (
        validated.needs_confirmation
        and session_row is not None
        and not _logout_confirmed(request, oauth_request)
    ):
        return _logout_confirmation(request, edge, oauth_request)
    response: Response | None = run(
        exchange, lambda: edge.server.create_endpoint_response("end_session", validated)
    )
    if exchange.ended_session:
        user_id, client_ids = await service.end_session(
            db, edge.revocations, edge.settings, exchange.ended_session
        )
        notices = (
            backchannel.notices(
                edge.keyring,
                issuer=edge.settings.issuer,
                query_client=edge.server.query_client,
                user_id=user_id,
                session_id=exchange.ended_session,
                client_ids=client_ids,
            )
            if user_id
            else []
        )
        if notices:
            background.add_task(backchannel.deliver, notices)
    if response is None:
        language = pages.language_of(request, oauth_request.payload.data.get("ui_locales"))
        response = HTMLResponse(
            pages.render(
                "logged_out.html",
                frame=pages.Frame.of(edge.settings),
                language=language,
                title="logged_out_title",
                path=None,
            )
        )
    response.delete_cookie(edge.settings.session_cookie_name, path=cookie_path(edge))
    response.delete_cookie(_LOGOUT_CSRF_COOKIE, path=cookie_path(edge))
    return response
