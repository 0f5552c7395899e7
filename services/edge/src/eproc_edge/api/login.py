"""Login (SPEC §2): the login page, local login as identity decides (R-LOGIN-2,
R-LOGIN-3), eID brokered to the upstream provider (R-LOGIN-1), and the
hand-over of a user without organisation to the portal (R-LOGIN-4)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from eproc_contracts import assurance
from eproc_edge import pages, service
from eproc_edge.api.deps import (
    DbSession,
    Edge,
    EdgeDep,
    cookie_path,
    form_token_matches,
    new_form_token,
    set_form_token,
)
from eproc_edge.identity_port import Authenticated, LoginRefused
from eproc_edge.stepup import LoginPolicy
from eproc_edge.upstream import UpstreamError
from eproc_runtime.ratelimit import source_address

router = APIRouter()


def _policy_of(edge: Edge, return_to: str) -> LoginPolicy:
    """What the authorization request a login continues needs of it (step-up)."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(return_to).query).items()}
    client = edge.server.query_client(params.get("client_id", ""))
    try:
        return LoginPolicy.of(params, client.config.minimum_acr if client else None)
    except OAuth2Error:
        return LoginPolicy()  # the authorization endpoint answers that request's error


def safe_return_to(value: str | None) -> str:
    # Only our own authorization endpoint: never an open redirect.
    if value and value.startswith("/authorize?"):
        return value
    return "/authorize"


_CSRF_COOKIE = "eproc_login_csrf"
DEVICE_COOKIE = "eproc_device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600  # identity's login_device_lifetime_days


async def _login_response(
    request: Request,
    edge: Edge,
    return_to: str,
    message: str = "",
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    password_form: bool = False,
    retry_after: int | None = None,
    language: str | None = None,
) -> HTMLResponse:
    """The login page in the user's language, with a fresh double-submit token
    against login CSRF (someone else's form logging the browser in to their account).

    The password form is shown up front only when local login is on for everyone,
    or when asked for (``/login/password``: a user for whom the helpdesk enabled
    it, R-LOGIN-2) and after a password attempt; otherwise a link leads to it."""
    language = pages.language_of(request, pages.ui_locales_of(return_to), chosen=language)
    for_everyone = await edge.identity.password_login_for_everyone()
    # An application that needs eID (or asked for it): the password is no use here.
    eid_only = _policy_of(edge, return_to).needs_eid
    if eid_only and not message:
        message = "eid_required"
    csrf = new_form_token()
    body = pages.render(
        "login.html",
        frame=pages.Frame.of(edge.settings),
        language=language,
        title="login_title",
        path="/login/password" if password_form else "/login",
        query={"return_to": return_to},
        message=pages.message(language, message, retry_after=retry_after) if message else "",
        return_to=return_to,
        csrf=csrf,
        eid_query=urlencode({"return_to": return_to, "lang": language}),
        password_query=urlencode({"return_to": return_to, "lang": language}),
        show_password_form=for_everyone or password_form,
        password_login_for_everyone=for_everyone,
        eid_only=eid_only,
    )
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    set_form_token(response, edge, _CSRF_COOKIE, csrf, max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, edge: EdgeDep, return_to: str = "/authorize"
) -> HTMLResponse:
    return await _login_response(request, edge, safe_return_to(return_to))


@router.get("/login/password", response_class=HTMLResponse)
async def password_login_page(
    request: Request, edge: EdgeDep, return_to: str = "/authorize"
) -> HTMLResponse:
    """The password form, for a user for whom the helpdesk enabled local login."""
    return await _login_response(request, edge, safe_return_to(return_to), password_form=True)


@router.post("/login/local")
async def login_local(
    request: Request,
    edge: EdgeDep,
    db: DbSession,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    return_to: Annotated[str, Form()] = "/",
    csrf: Annotated[str, Form()] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    return_to = safe_return_to(return_to)
    if not form_token_matches(request, _CSRF_COOKIE, csrf):
        return await _login_response(
            request,
            edge,
            return_to,
            "form_expired",
            status_code=400,
            password_form=True,
            language=lang,
        )
    if _policy_of(edge, return_to).needs_eid:
        # Checked before the password: a password login could not continue anyway.
        return await _login_response(
            request, edge, return_to, "eid_required", status_code=403, language=lang
        )
    result = await edge.identity.check_password(
        username, password, source_address(request), request.cookies.get(DEVICE_COOKIE)
    )
    if isinstance(result, LoginRefused):
        headers = {"Retry-After": str(result.retry_after)} if result.retry_after else None
        return await _login_response(
            request,
            edge,
            return_to,
            result.code,
            status_code=result.status,
            headers=headers,
            password_form=True,
            retry_after=result.retry_after,
            language=lang,
        )
    response = await complete_login(
        request, db, edge, result, acr=assurance.PASSWORD, return_to=return_to
    )
    if result.device_token:
        # The browser is now one identity knows for this account: an attacker's
        # failures elsewhere do not slow it (R-SEC-4).
        response.set_cookie(
            DEVICE_COOKIE,
            result.device_token,
            max_age=DEVICE_COOKIE_MAX_AGE,
            path=cookie_path(edge),
            httponly=True,
            secure=edge.settings.secure_cookies,
            samesite="lax",
        )
    return response


async def complete_login(
    request: Request, db: Any, edge: Edge, user: Authenticated, *, acr: str, return_to: str
) -> Response:
    """Open the SSO session — or, when the browser's session is the same user's,
    log in to it again (a step-up or a fresh login keeps the SSO session: its
    id, its applications, its organisation) — and continue; a user without any
    organisation is handed to the portal's first-login choice (R-LOGIN-4)."""
    current = await service.session_from_cookie(
        db, request.cookies.get(edge.settings.session_cookie_name)
    )
    if current is not None and current.user_id == user.user_id:
        cookie = await service.reauthenticate(db, current, acr=acr)
    else:
        _, cookie = await service.start_session(db, edge.settings, user, acr=acr)
    snapshot = await edge.cache.get(db, user.user_id)
    client_id = parse_qs(urlsplit(return_to).query).get("client_id", [""])[0]
    client = edge.server.query_client(client_id)
    if not snapshot.memberships and (client is None or client.application != "user-management"):
        target = edge.settings.first_login_url
    elif client is None:  # logged in at the edge directly: nowhere to go back to
        target = edge.settings.portal_url
    else:
        target = edge.settings.issuer + return_to
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        edge.settings.session_cookie_name,
        cookie,
        max_age=edge.settings.session_lifetime,
        path=cookie_path(edge),
        httponly=True,
        secure=edge.settings.secure_cookies,
        samesite="lax",
    )
    return response


@router.get("/login/eid")
async def login_eid(
    request: Request, edge: EdgeDep, db: DbSession, return_to: str = "/authorize"
) -> Response:
    """Send the browser to the eID login page of the upstream provider (R-LOGIN-1)."""
    policy = _policy_of(edge, safe_return_to(return_to))
    # A browser that has a session logs in again on purpose (a step-up, a fresh
    # login): the upstream must not answer from its own SSO session either.
    fresh = (
        await service.session_from_cookie(
            db, request.cookies.get(edge.settings.session_cookie_name)
        )
        is not None
    )
    try:
        language = pages.language_of(request, pages.ui_locales_of(return_to))
        url, attempt = await edge.upstream.authorization_url(
            ui_locales=language, acr_values=policy.upstream_acr, fresh=fresh
        )
    except httpx.HTTPError:
        return await _login_response(
            request, edge, safe_return_to(return_to), "eid_unavailable", status_code=503
        )
    await service.begin_upstream_login(db, attempt, safe_return_to(return_to))
    response = RedirectResponse(url, status_code=303)
    # The attempt belongs to this browser: a callback URL someone else started (and
    # completed with their card) must not log this browser in (login CSRF, R-SEC-5).
    set_form_token(response, edge, _EID_ATTEMPT_COOKIE, attempt["state"], max_age=900)
    return response


_EID_ATTEMPT_COOKIE = "eproc_eid_attempt"


@router.get("/login/eid/callback")
async def login_eid_callback(request: Request, edge: EdgeDep, db: DbSession) -> Response:
    state = request.query_params.get("state", "")
    if not form_token_matches(request, _EID_ATTEMPT_COOKIE, state):
        return await _login_response(request, edge, "/authorize", "eid_incomplete", status_code=400)
    attempt = await service.take_upstream_login(db, state)
    if attempt is None or "code" not in request.query_params:
        return await _login_response(request, edge, "/authorize", "eid_incomplete", status_code=400)
    try:
        upstream = await edge.upstream.login(
            f"{edge.upstream.redirect_uri}?{request.url.query}",
            nonce=attempt.nonce,
            code_verifier=attempt.code_verifier,
        )
    except (UpstreamError, httpx.HTTPError):
        return await _login_response(
            request, edge, attempt.return_to, "eid_unverified", status_code=400
        )
    if not _policy_of(edge, attempt.return_to).met_by(upstream.acr, upstream.auth_time):
        # The upstream logged the user in, but more weakly than the application
        # needs (the federal service's other means): not a loop back to it.
        return await _login_response(
            request, edge, attempt.return_to, "eid_level_too_low", status_code=403
        )
    user = await edge.identity.find_by_eid_subject(upstream.subject)
    if user is None:  # a card holder without an account: the portal registers them
        return RedirectResponse(edge.settings.registration_url, status_code=303)
    return await complete_login(
        request, db, edge, user, acr=upstream.acr, return_to=attempt.return_to
    )
