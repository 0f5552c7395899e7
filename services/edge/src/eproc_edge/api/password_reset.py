"""Password reset by an emailed single-use link (R-PWD-1): the "Forgot password?"
page behind the password form, the page the mailed link opens, and the answers.

Identity decides everything (whether an account matches, the link, the policy);
these routes translate forms into its port and its answers into pages in the
user's language. The answer to a reset request is the same page whether or not
an account matched, and identity answers after the same minimum time either way.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from eproc_edge import pages
from eproc_edge.api.deps import Edge, EdgeDep, form_token_matches, new_form_token, set_form_token
from eproc_edge.api.login import safe_return_to
from eproc_edge.identity_port import ResetRefused
from eproc_runtime.ratelimit import source_address

router = APIRouter()

_CSRF_COOKIE = "eproc_reset_csrf"
_MAX_LOGIN = 320  # identity's bound: an e-mail address at most
_MAX_TOKEN = 128


def _page(
    edge: Edge,
    template: str,
    *,
    language: str,
    title: str,
    path: str | None,
    query: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page of the reset flow; a form on it gets a fresh double-submit token."""
    csrf = new_form_token() if template in ("forgot.html", "reset.html") else None
    body = pages.render(
        template,
        frame=pages.Frame.of(edge.settings),
        language=language,
        title=title,
        path=path,
        query=query,
        csrf=csrf,
        **context,
    )
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    if csrf is not None:
        set_form_token(response, edge, _CSRF_COOKIE, csrf, max_age=3600)
    return response


def _forgot_form(
    edge: Edge,
    return_to: str,
    language: str,
    *,
    value: str = "",
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return _page(
        edge,
        "forgot.html",
        language=language,
        title="forgot_title",
        path="/login/forgot",
        query={"return_to": return_to},
        status_code=status_code,
        headers=headers,
        return_to=return_to,
        value=value,
        errors=errors or {},
        message=message,
        login_query=urlencode({"return_to": return_to, "lang": language}),
    )


@router.get("/login/forgot", response_class=HTMLResponse)
async def forgot_page(
    request: Request, edge: EdgeDep, return_to: str = "/authorize"
) -> HTMLResponse:
    """Ask for a reset link: the username or the account's e-mail address."""
    return_to = safe_return_to(return_to)
    language = pages.language_of(request, pages.ui_locales_of(return_to))
    return _forgot_form(edge, return_to, language)


@router.post("/login/forgot")
async def forgot(
    request: Request,
    edge: EdgeDep,
    login: Annotated[str, Form()] = "",
    return_to: Annotated[str, Form()] = "/authorize",
    csrf: Annotated[str, Form()] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Always the same "check your mailbox" page (after a redirect), whether or
    not an account matched; a 429 page while too many requests were made."""
    return_to = safe_return_to(return_to)
    language = pages.language_of(request, pages.ui_locales_of(return_to), chosen=lang)
    texts = pages.TEXTS[language]
    login = login.strip()
    if not form_token_matches(request, _CSRF_COOKIE, csrf):
        return _forgot_form(
            edge, return_to, language, value=login, message=texts["form_expired"], status_code=400
        )
    if not login or len(login) > _MAX_LOGIN:
        problem = "required" if not login else "invalid_value"
        return _forgot_form(
            edge,
            return_to,
            language,
            value=login[:_MAX_LOGIN],
            errors={"login": pages.field_message(language, problem)},
            status_code=422,
        )
    try:
        refused = await edge.identity.request_password_reset(login, source_address(request))
    except (httpx.HTTPError, RuntimeError):
        return _forgot_form(
            edge,
            return_to,
            language,
            value=login,
            message=texts["service_unavailable"],
            status_code=503,
        )
    if refused is not None:
        retry = refused.retry_after
        return _forgot_form(
            edge,
            return_to,
            language,
            value=login,
            message=(
                pages.minutes_message(language, "rate_limited", retry)
                if refused.status == 429
                else texts["refused"]
            ),
            status_code=refused.status,
            headers={"Retry-After": str(retry)} if retry else None,
        )
    query = urlencode({"return_to": return_to, "lang": language})
    return RedirectResponse(f"{pages.Frame.of(edge.settings).base}/login/forgot/sent?{query}", 303)


@router.get("/login/forgot/sent", response_class=HTMLResponse)
async def forgot_sent(
    request: Request, edge: EdgeDep, return_to: str = "/authorize"
) -> HTMLResponse:
    return_to = safe_return_to(return_to)
    language = pages.language_of(request, pages.ui_locales_of(return_to))
    return _page(
        edge,
        "forgot_sent.html",
        language=language,
        title="forgot_sent_title",
        path="/login/forgot/sent",
        query={"return_to": return_to},
        login_query=urlencode({"return_to": return_to, "lang": language}),
    )


def _invalid_link(edge: Edge, language: str, refused: ResetRefused) -> HTMLResponse:
    """A used, expired or unknown link (or password login off): a page, never a 500."""
    texts = pages.TEXTS[language]
    message = texts.get(refused.code) if refused.code.startswith("reset_link_") else None
    if refused.code in ("local_login_disabled", "service_unavailable"):
        message = texts[refused.code]
    return _page(
        edge,
        "reset_invalid.html",
        language=language,
        title="reset_invalid_title",
        path=None,
        status_code=refused.status if refused.status in (403, 410, 503) else 410,
        message=message or texts["reset_link_unknown"],
    )


def _reset_form(
    edge: Edge,
    token: str,
    language: str,
    *,
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return _page(
        edge,
        "reset.html",
        language=language,
        title="reset_title",
        # No language switch: its links would carry the token into another URL.
        path=None,
        status_code=status_code,
        token=token,
        errors=errors or {},
        message=message,
    )


@router.get("/login/reset", response_class=HTMLResponse)
async def reset_page(request: Request, edge: EdgeDep, token: str = "") -> HTMLResponse:
    """The page the mailed link opens: the form while the link works. Looking
    at it spends nothing (a mail scanner following the link uses it up not)."""
    if not token or len(token) > _MAX_TOKEN:
        return _invalid_link(
            edge, pages.language_of(request), ResetRefused("reset_link_unknown", 410)
        )
    try:
        answer = await edge.identity.password_reset_link(token)
    except (httpx.HTTPError, RuntimeError):
        answer = ResetRefused("service_unavailable", 503)
    if isinstance(answer, ResetRefused):
        return _invalid_link(edge, pages.language_of(request), answer)
    # The link's own language (the mail's), else the account's.
    return _reset_form(edge, token, pages.language_of(request, answer))


@router.post("/login/reset", response_class=HTMLResponse)
async def reset(
    request: Request,
    edge: EdgeDep,
    token: Annotated[str, Form(max_length=_MAX_TOKEN)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    new_password_repeat: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form()] = "",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> HTMLResponse:
    """Set the new password: the token is spent with it; every session ends."""
    language = pages.language_of(request, chosen=lang)
    texts = pages.TEXTS[language]
    if not token:
        return _invalid_link(edge, language, ResetRefused("reset_link_unknown", 410))
    if not form_token_matches(request, _CSRF_COOKIE, csrf):
        return _reset_form(edge, token, language, message=texts["form_expired"], status_code=400)
    errors: dict[str, str] = {}
    if not new_password:
        errors["new_password"] = pages.field_message(language, "required")
    elif new_password != new_password_repeat:
        errors["new_password_repeat"] = pages.field_message(language, "passwords_differ")
    if errors:
        return _reset_form(edge, token, language, errors=errors, status_code=422)
    try:
        refused = await edge.identity.reset_password(token, new_password)
    except (httpx.HTTPError, RuntimeError):
        return _reset_form(
            edge, token, language, message=texts["service_unavailable"], status_code=503
        )
    if refused is None:
        return _page(
            edge, "reset_done.html", language=language, title="reset_done_title", path=None
        )
    if refused.status == 422:
        code = refused.fields.get("new_password", "invalid_value")
        return _reset_form(
            edge,
            token,
            language,
            errors={"new_password": pages.field_message(language, code)},
            status_code=422,
        )
    return _invalid_link(edge, language, refused)
