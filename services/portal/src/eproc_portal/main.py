"""App factory of the portal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

import httpx
from authlib.integrations.starlette_client import OAuth
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from eproc_page_shell import frame as page_shell
from eproc_portal import i18n
from eproc_portal.auth import LoginRequired, create_oauth
from eproc_portal.auth import router as auth_router
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.edge import EdgeClient
from eproc_portal.clients.identity import IdentityClient
from eproc_portal.clients.organisations import OrganisationsClient
from eproc_portal.clients.requests import RequestsClient
from eproc_portal.messages import general_message, retry_after
from eproc_portal.security import SECURITY_HEADERS, CsrfRejected, check_csrf
from eproc_portal.sessions import MemorySessionStore, SessionMiddleware, SessionStore
from eproc_portal.settings import Settings
from eproc_portal.views import ROUTERS
from eproc_portal.web import Services, create_templates, redirect, render
from eproc_runtime.forwarded import trust_proxies
from eproc_runtime.limits import RequestLimits
from eproc_runtime.logging import configure_logging
from eproc_runtime.security import SecurityHeaders
from eproc_runtime.tracing import TracingMiddleware, configure_tracing


class LanguageMiddleware:
    """Chooses the request's language: the switcher's cookie, else the profile's
    language, else the browser's Accept-Language, else the default."""

    def __init__(self, app: ASGIApp, *, cookie_name: str, default: str) -> None:
        self.app = app
        self.cookie_name = cookie_name
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        chosen = request.cookies.get(self.cookie_name)
        user = scope.get("session", {}).get("user") or {}
        language = (
            (chosen if chosen in i18n.LANGUAGES else None)
            or (user.get("language") if user.get("language") in i18n.LANGUAGES else None)
            or i18n.negotiate(request.headers.get("accept-language"))
            or self.default
        )
        reset = i18n.current_language.set(language)
        try:
            await self.app(scope, receive, send)
        finally:
            i18n.current_language.reset(reset)


def create_services(settings: Settings) -> Services:
    """The clients of the real services, over HTTP."""

    def http(base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, timeout=settings.api_timeout)

    return Services(
        identity=IdentityClient(http(settings.identity_url)),
        organisations=OrganisationsClient(http(settings.organisations_url)),
        requests=RequestsClient(http(settings.requests_url)),
        edge=EdgeClient(http(settings.oidc_issuer)),
    )


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    session_store: SessionStore | None = None,
    oauth: OAuth | None = None,
) -> FastAPI:
    """The portal; tests pass clients bound to in-process services."""
    settings = settings or Settings()
    services = services or create_services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
        configure_tracing(settings.service_name)
        yield
        for client in (services.identity, services.organisations, services.requests, services.edge):
            if client is not None:
                await client.http.aclose()

    app = FastAPI(
        title="e-Procurement portal",
        lifespan=lifespan,
        dependencies=[Depends(check_csrf)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.templates = create_templates()
    app.state.oauth = oauth or create_oauth(settings)
    app.state.session_store = session_store or MemorySessionStore()

    # The one stylesheet of every page a person sees (portal, SSO, eID, applications).
    app.mount("/static", StaticFiles(directory=page_shell.STATIC_DIR), name="static")
    app.include_router(auth_router)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        message = i18n.gettext(
            "This form has expired or did not come from this site. Nothing was changed. "
            "Please go back, reload the page and try again."
        )
        return render(request, "error.html", {"message": message}, status=403)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path if request.method == "GET" else "/home"
        return redirect(f"/auth/login?next={quote(target)}")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 401:
            request.session.clear()
            return redirect(f"/auth/login?next={quote(request.url.path)}")
        if exc.status == 429:  # a service's rate limit: say so, and when to try again
            response = render(request, "error.html", {"message": general_message(exc)}, status=429)
            response.headers["Retry-After"] = str(retry_after(exc))
            return response
        status = exc.status if exc.status in {403, 404} else 502 if exc.status >= 500 else 400
        return render(request, "error.html", {"message": general_message(exc)}, status=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            message = i18n.gettext("This page does not exist.")
        elif exc.status_code == 405:
            message = i18n.gettext("This page cannot be used this way.")
        else:
            message = i18n.gettext("Something went wrong. Nothing was changed.")
        return render(request, "error.html", {"message": message}, status=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # A malformed id in the address is a page that does not exist; anything else
        # (a tampered query or form) is refused as a page, never as JSON.
        if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
            message = i18n.gettext("This page does not exist.")
            return render(request, "error.html", {"message": message}, status=404)
        message = i18n.gettext("Something went wrong. Nothing was changed.")
        return render(request, "error.html", {"message": message}, status=400)

    # Outermost first: headers on every answer, then the session, then the language.
    app.add_middleware(
        LanguageMiddleware,
        cookie_name=settings.language_cookie_name,
        default=settings.default_language,
    )
    app.add_middleware(
        SessionMiddleware,
        store=app.state.session_store,
        cookie_name=settings.session_cookie_name,
        lifetime=settings.session_lifetime,
        secure=settings.secure_cookies,
    )
    # Oversized bodies (413) and NUL characters (400) never reach a form.
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_request_body_bytes)
    # Pages carry personal data: no-store, except the static assets.
    app.add_middleware(
        SecurityHeaders,
        always=SECURITY_HEADERS,
        hsts=settings.public_url.startswith("https://"),
        no_store=True,
        static_prefix="/static/",
    )
    # Outermost: a server span per page, which the calls to the services continue.
    app.add_middleware(TracingMiddleware, service=settings.service_name)
    trust_proxies(app, settings)
    return app
