"""Security headers and CSRF protection of every form.

CSRF: a secret bound to the server-side session; every form carries it in a
hidden ``csrf_token`` field, and every unsafe request without the right one is
refused with 403 before any route runs (so nothing changes).
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request

CSRF_FIELD = "csrf_token"
_SESSION_KEY = "csrf"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self' http: https:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
"""No inline scripts or styles anywhere. ``form-action`` lets the login and
logout redirects continue to the edge's origin."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class CsrfRejected(Exception):
    """An unsafe request without the session's CSRF token."""


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


async def check_csrf(request: Request) -> None:
    """App-wide dependency: refuses an unsafe request whose form lacks the token."""
    if request.method not in _UNSAFE:
        return
    expected = request.session.get(_SESSION_KEY)
    submitted: Any = request.headers.get("x-csrf-token")
    if submitted is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            submitted = form.get(CSRF_FIELD)
    if (
        not isinstance(expected, str)
        or not isinstance(submitted, str)
        or not secrets.compare_digest(expected, submitted)
    ):
        raise CsrfRejected
