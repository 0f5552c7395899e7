"""Security headers on a service's HTTP answers (the edge's and the portal's pages).

Each service names its own policy (which headers on every answer, which on HTML
pages only); this middleware only applies it. Headers a route set itself win.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"
"""One year; only when the service is served over https (a browser ignores it over
plain HTTP, and a development setup on http://localhost must stay usable)."""


class SecurityHeaders:
    """Pure ASGI middleware.

    * ``always``: on every HTTP answer;
    * ``html``: on ``text/html`` answers only (e.g. a CSP that forbids framing);
    * ``hsts``: ``Strict-Transport-Security`` on every answer;
    * ``no_store``: ``Cache-Control: no-store`` (pages with personal data), except
      under ``static_prefix``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        always: Mapping[str, str],
        html: Mapping[str, str] | None = None,
        hsts: bool = False,
        no_store: bool = False,
        static_prefix: str | None = None,
    ) -> None:
        self.app = app
        self.always = dict(always)
        self.html = dict(html or {})
        if hsts:
            self.always["Strict-Transport-Security"] = HSTS
        self.no_store = no_store
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        no_store = self.no_store and not (
            self.static_prefix is not None and path.startswith(self.static_prefix)
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                extra = dict(self.always)
                if headers.get("content-type", "").startswith("text/html"):
                    extra.update(self.html)
                if no_store:
                    extra["Cache-Control"] = "no-store"
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
