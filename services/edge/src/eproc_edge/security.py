"""Security headers of the edge's answers (issue 11).

Every answer gets ``nosniff`` and ``Referrer-Policy: no-referrer`` (URLs at the
edge carry authorization codes and states). HTML pages (login, logout) also get
a Content-Security-Policy that forbids framing (clickjacking of the login form),
scripts and every other origin; ``form-action`` stays open to http(s) because a
login form's redirect chain ends at the application's redirect URI (browsers
apply ``form-action`` to redirects). HSTS is sent when the edge is served over
https (its issuer URL).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "img-src 'self'",
        "style-src 'self'",
        "form-action 'self' http: https:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HSTS = "max-age=31536000"

ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
HTML = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"}


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the headers to every HTTP answer (CSP on HTML only)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                extra = dict(ALWAYS)
                if headers.get("content-type", "").startswith("text/html"):
                    extra.update(HTML)
                if self.hsts:
                    extra["Strict-Transport-Security"] = HSTS
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
