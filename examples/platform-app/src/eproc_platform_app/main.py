"""A platform application (e-Notification, e-Tendering, e-Awarding or e-Catalogue)
as a relying party of the edge: authorization code + PKCE with authlib's client,
"You are logged in as", the active organisation and roles from its token, the top
bar from the edge, "Change organisation", an anonymous home page, a consumer of
membership events (who holds its roles) and dossier-link reporting.

Run: ``EPROC_APP_CLIENT_ID=e-tendering EPROC_APP_CLIENT_SECRET=... eproc-platform-app``.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eproc_platform_app import members
from eproc_runtime.auth import InvalidToken, TokenVerifier
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.messaging import Messaging
from eproc_runtime.outbox import Outbox
from eproc_runtime.settings import ServiceSettings

COOKIE = "platform_app_session"


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPROC_APP_", extra="ignore")

    client_id: str = "e-tendering"
    client_secret: str = "dev-secret-e-tendering"  # noqa: S105 - dev default
    name: str = "e-Tendering"
    base_url: str = "http://localhost:8102"
    edge_url: str = "http://localhost:8000/sso"
    port: int = 8102
    # Its own small database and the bus (membership events in, dossier links out).
    database_url: str = "sqlite+aiosqlite:///data/platform-app.db"
    bus: Literal["kafka", "inprocess"] = "kafka"
    kafka_bootstrap: str = "localhost:9092"
    bus_database_url: str = "sqlite+aiosqlite:///data/bus.db"
    topic_prefix: str = ""
    consumer_group: str | None = Field(default=None, description="Defaults to the client id")

    def service_settings(self) -> ServiceSettings:
        """The runtime's settings for this application's relay and consumer."""
        return ServiceSettings(
            service_name=self.consumer_group or self.client_id,
            database_url=self.database_url,
            bus=self.bus,
            kafka_bootstrap=self.kafka_bootstrap,
            bus_database_url=self.bus_database_url,
            topic_prefix=self.topic_prefix,
        )


@dataclass
class Login:
    """One browser's state at the application (kept in memory: it is an example)."""

    state: str = ""
    nonce: str = ""
    verifier: str = ""
    token: dict[str, Any] = field(default_factory=dict)


def create_app(settings: AppSettings | None = None) -> FastAPI:
    settings = settings or AppSettings()
    prefix = urlsplit(settings.base_url).path.rstrip("/")
    edge = settings.edge_url.rstrip("/")
    application = settings.client_id
    outbox = Outbox(members.messaging_tables, producer=application)
    verifier = TokenVerifier(issuer=edge, audience="eproc", jwks_url=f"{edge}/jwks")
    logins: dict[str, Login] = {}
    router = APIRouter(prefix=prefix)

    def rp(token: dict[str, Any] | None = None) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scope="openid profile email offline_access",
            redirect_uri=f"{settings.base_url}/callback",
            code_challenge_method="S256",
            token=token,
        )

    def current(request: Request) -> Login | None:
        return logins.get(request.cookies.get(COOKIE, ""))

    def page(body: str, top_bar: str = "") -> HTMLResponse:
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{settings.name}</title>"
            f"</head><body><nav id='top-bar'>{top_bar}</nav><h1>{settings.name}</h1>{body}"
            "</body></html>"
        )

    @router.get("/")
    async def home() -> HTMLResponse:
        """The anonymous home page (R-SSO-3 case 3)."""
        return page(f"<p>Welcome.</p><a id='login' href='{settings.base_url}/login'>Log in</a>")

    @router.get("/login")
    async def login() -> Response:
        login = Login(
            state=secrets.token_urlsafe(16),
            nonce=secrets.token_urlsafe(16),
            verifier=secrets.token_urlsafe(48),
        )
        async with rp() as client:
            url, _ = client.create_authorization_url(
                f"{edge}/authorize",
                state=login.state,
                nonce=login.nonce,
                code_verifier=login.verifier,
            )
        key = secrets.token_urlsafe(24)
        logins[key] = login
        response = RedirectResponse(url, status_code=302)
        response.set_cookie(COOKIE, key, httponly=True, samesite="lax", path=prefix or "/")
        return response

    @router.get("/callback")
    async def callback(request: Request) -> Response:
        login = current(request)
        if login is None or request.query_params.get("state") != login.state:
            return RedirectResponse(f"{settings.base_url}/", status_code=303)
        if "error" in request.query_params:  # e.g. login_required: stay anonymous
            return RedirectResponse(f"{settings.base_url}/", status_code=303)
        async with rp() as client:
            login.token = dict(
                await client.fetch_token(
                    f"{edge}/token",
                    authorization_response=str(request.url),
                    code_verifier=login.verifier,
                )
            )
        return RedirectResponse(f"{settings.base_url}/app", status_code=303)

    @router.get("/app")
    async def application_page(request: Request) -> Response:
        login = current(request)
        if login is None or not login.token:
            return RedirectResponse(f"{settings.base_url}/", status_code=303)
        try:
            caller = await verifier.verify(login.token["access_token"])
        except InvalidToken:
            async with rp(login.token) as client:
                login.token = dict(await client.refresh_token(f"{edge}/token"))
            caller = await verifier.verify(login.token["access_token"])
        async with httpx.AsyncClient() as http:
            bar = (
                await http.get(
                    f"{edge}/session/topbar",
                    headers={"Authorization": f"Bearer {login.token['access_token']}"},
                )
            ).json()
        claims = caller.claims
        colleagues: list[tuple[Any, list[str]]] = []
        if caller.active_organisation is not None:
            async with request.app.state.sessions() as session:
                colleagues = await members.members_of(session, caller.active_organisation)
        members_html = "".join(
            f"<li>{user_id}: {html.escape(', '.join(roles))}</li>" for user_id, roles in colleagues
        )
        links = " | ".join(
            f"<a href='{html.escape(a['switch_url'])}'>{html.escape(a['name'])}</a>"
            for a in bar["applications"]
        )
        options = "".join(
            f"<option value='{o['id']}'>{html.escape(o['name'] or o['id'])}</option>"
            for o in bar["organisations"]
        )
        body = (
            "<p id='logged-in-as'>Je bent aangemeld als / You are logged in as "
            f"<b>{html.escape(str(claims.get('name')))}</b>"
            f" ({html.escape(str(claims.get('preferred_username')))})</p>"
            f"<p id='organisation'>{html.escape(str(claims.get('org_name')))}</p>"
            f"<p id='roles'>{html.escape(', '.join(caller.roles))}</p>"
            f"<form method='post' action='{settings.base_url}/organisation'>"
            f"<select name='organisation_id'>{options}</select>"
            "<button>Organisatie wijzigen / Change organisation</button></form>"
            f"<h2>Members with a role here</h2><ul id='members'>{members_html}</ul>"
            f"<form method='post' action='{settings.base_url}/dossiers'>"
            "<input name='dossier_id'><button>Link me to this dossier</button></form>"
            f"<a href='{settings.base_url}/logout'>Afmelden / Log out</a>"
        )
        return page(body, links)

    @router.post("/organisation")
    async def change_organisation(
        request: Request, organisation_id: Annotated[str, Form()]
    ) -> Response:
        login = current(request)
        if login is None or not login.token:
            return RedirectResponse(f"{settings.base_url}/", status_code=303)
        async with httpx.AsyncClient() as http:
            await http.post(
                f"{edge}/session/organisation",
                json={"organisation_id": organisation_id},
                headers={"Authorization": f"Bearer {login.token['access_token']}"},
            )
        async with rp(login.token) as client:  # the next token carries the new organisation
            login.token = dict(await client.refresh_token(f"{edge}/token"))
        return RedirectResponse(f"{settings.base_url}/app", status_code=303)

    @router.get("/logout")
    async def logout(request: Request) -> Response:
        login = logins.pop(request.cookies.get(COOKIE, ""), None)
        hint = login.token.get("id_token", "") if login else ""
        response = RedirectResponse(
            f"{edge}/logout?client_id={settings.client_id}&id_token_hint={hint}"
            f"&post_logout_redirect_uri={settings.base_url}/",
            status_code=302,
        )
        response.delete_cookie(COOKIE, path=prefix or "/")
        return response

    @router.post("/dossiers")
    async def report_dossier(request: Request, dossier_id: Annotated[str, Form()]) -> Response:
        """Link the logged-in user to a dossier of the active organisation (reported
        to user management as ``DossierLinked``)."""
        login = current(request)
        if login is None or not login.token:
            return RedirectResponse(f"{settings.base_url}/", status_code=303)
        caller = await verifier.verify(login.token["access_token"])
        if caller.user_id is None or caller.active_organisation is None:
            return RedirectResponse(f"{settings.base_url}/app", status_code=303)
        messaging: Messaging = request.app.state.messaging
        async with unit_of_work(request.app.state.sessions) as session:
            await members.link_dossier(
                session,
                outbox,
                application=application,
                dossier_id=dossier_id,
                user_id=caller.user_id,
                organisation_id=caller.active_organisation,
            )
        if messaging.relay is not None:
            messaging.relay.nudge()
        return RedirectResponse(f"{settings.base_url}/app", status_code=303)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        async with engine.begin() as conn:  # an example: no migration history
            await conn.run_sync(members.metadata.create_all)
        sessions = create_session_factory(engine)
        messaging = Messaging(
            settings.service_settings(),
            sessions,
            members.messaging_tables,
            handlers=members.make_handlers(application),
        )
        await messaging.start()
        app.state.sessions, app.state.messaging = sessions, messaging
        try:
            yield
        finally:
            await messaging.stop()
            await engine.dispose()

    app = FastAPI(title=settings.name, lifespan=lifespan)
    app.include_router(router)
    return app


def main() -> None:
    import uvicorn

    settings = AppSettings()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port)
