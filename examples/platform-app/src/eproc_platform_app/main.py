"""A platform application (e-Notification, e-Tendering, e-Awarding or e-Catalogue)
built on ``eproc-platform-sdk``: login with any OIDC client (authlib here), the
caller from the SDK's verifier, the top bar and "change organisation" from the
SDK's edge client, membership events through the SDK's consumer, and dossier
links through the SDK's outbox and relay.

Run: ``EPROC_APP_CLIENT_ID=e-tendering EPROC_APP_CLIENT_SECRET=... eproc-platform-app``.
"""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import PackageLoader
from markupsafe import Markup
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from eproc_contracts import events as ev
from eproc_page_shell import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    STATIC_DIR,
    STYLESHEET,
    choose_language,
    contact_url,
    environment,
)
from eproc_platform_app import members
from eproc_platform_app.catalogue import RoleNames
from eproc_platform_app.directory import ScimDirectory
from eproc_platform_app.texts import texts
from eproc_platform_sdk import (
    Caller,
    DossierLinkReporter,
    EdgeClient,
    EventConsumer,
    ExpiredToken,
    OutboxRelay,
    RevocationFeed,
    RevocationList,
    TokenVerifier,
    sasl_options,
)
from eproc_platform_sdk.fastapi import CallerDependency

COOKIE = "platform_app_session"


class AppSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPROC_APP_", extra="ignore")

    client_id: str = "e-tendering"
    client_secret: str = "dev-secret-e-tendering"  # noqa: S105 - dev default
    name: str = "e-Tendering"
    base_url: str = "http://localhost:8102"
    edge_url: str = "http://localhost:8000/sso"
    port: int = 8102
    # Its own small database and Kafka (membership events in, dossier links out).
    database_url: str = "sqlite+aiosqlite:///data/platform-app.db"
    kafka_bootstrap: str = "localhost:9092"
    # The application's own Kafka principal (SASL/SCRAM; `eproc kafka provision`):
    # it may read the membership topic and write dossier-link reports, nothing else.
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    # "inprocess": the hub's embedded mode (no Kafka; needs eproc-runtime).
    bus: Literal["kafka", "inprocess"] = "kafka"
    bus_database_url: str = "sqlite+aiosqlite:///data/bus.db"
    topic_prefix: str = ""
    consumer_group: str | None = Field(default=None, description="Defaults to the client id")
    # The hub around the application: the portal (the public page's links, the
    # footer's helpdesk) and the role catalogue (role names in the reader's language).
    portal_url: str = "http://localhost:8000/"
    roles_url: str | None = Field(
        default=None, description="The organisations service's GET /roles; None: role ids in words"
    )
    # The hub's SCIM endpoint (``<origin>/scim/v2``): the names of members who never
    # opened the application. None: they show as "not seen yet".
    scim_url: str | None = None


@dataclass
class Login:
    """One browser's state at the application (kept in memory: it is an example)."""

    state: str = ""
    nonce: str = ""
    verifier: str = ""
    token: dict[str, Any] = field(default_factory=dict)
    # Every form of the application carries it (R-SEC-5): a page elsewhere on the
    # platform's site cannot post in this browser's name.
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    notices: list[str] = field(default_factory=list)


def create_app(settings: AppSettings | None = None) -> FastAPI:
    settings = settings or AppSettings()
    prefix = urlsplit(settings.base_url).path.rstrip("/")
    edge = EdgeClient(settings.edge_url, settings.client_id)
    links = edge.links
    # Revocations and claims changes from the edge (sso.revocation.v1): a revoked
    # token is refused, one whose claims changed (a membership, a role) is
    # refreshed at once rather than at its expiry (issue 19 point 7).
    revocations = RevocationList()
    verifier = TokenVerifier(
        issuer=settings.edge_url, client_id=settings.client_id, revocations=revocations
    )
    current_caller = CallerDependency(verifier)
    reporter = DossierLinkReporter(settings.client_id, members.outbox)
    logins: dict[str, Login] = {}
    router = APIRouter(prefix=prefix)
    pages = environment(PackageLoader("eproc_platform_app", "templates"))
    role_names = RoleNames(settings.roles_url, settings.client_id)
    directory = ScimDirectory(
        settings.scim_url, links.token_url, settings.client_id, settings.client_secret
    )

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

    def posted_by_us(login: Login | None, csrf: str) -> bool:
        return login is not None and secrets.compare_digest(login.csrf, csrf)

    async def refresh(login: Login) -> None:
        async with rp(login.token) as client:
            login.token = dict(await client.refresh_token(links.token_url))

    async def caller_of(login: Login) -> Caller:
        """The verified caller of the browser's token, refreshing it once it expired
        or its claims changed (``StaleClaims`` is an ``ExpiredToken``)."""
        try:
            return await verifier.verify(login.token["access_token"])
        except ExpiredToken:
            await refresh(login)
            return await verifier.verify(login.token["access_token"])

    def chosen_language(request: Request, caller: Caller | None = None) -> str | None:
        """This page's own switch (``lang``), else the language chosen in the portal
        (its cookie, on the platform's one site), else the user's profile language."""
        for candidate in (
            request.query_params.get("lang"),
            request.cookies.get(LANGUAGE_COOKIE),
            str(caller.claims.get("locale") or "") if caller else None,
        ):
            if candidate in LANGUAGES:
                return candidate
        return None

    def language_of(request: Request, caller: Caller | None = None) -> str:
        """R-I18N-1: the user's choice, then ``ui_locales``, then Accept-Language."""
        return choose_language(
            chosen=chosen_language(request, caller),
            ui_locales=request.query_params.get("ui_locales"),
            accept_language=request.headers.get("accept-language"),
        )

    def render(
        request: Request, template: str, language: str, title: str, **context: Any
    ) -> HTMLResponse:
        page = request.url.path
        return HTMLResponse(
            pages.get_template(template).render(
                lang=language,
                title=title,
                stylesheet=f"{settings.base_url}/static/{STYLESHEET}",
                home=f"{settings.base_url}/",
                contact_url=contact_url(settings.portal_url),
                language_links={code: f"{page}?lang={code}" for code in LANGUAGES},
                base=settings.base_url,
                portal=settings.portal_url.rstrip("/"),
                **context,
            )
        )

    def public_page(
        request: Request,
        language: str,
        reason: str,
        *,
        logged_in: bool,
        context: dict[str, Any] | None = None,
        **values: str,
    ) -> HTMLResponse:
        """The anonymous page (R-SSO-3 case 3): why the user is here, and how to join;
        for a user logged in here, with the top bar and "change organisation" too."""
        words = texts(language, app=settings.name, **values)
        chosen = request.query_params.get("lang")
        return render(
            request,
            "public.html",
            language,
            words["public_title"],
            **(context or {}),
            t=words,
            reason=words[reason],
            logged_in=logged_in,
            lang_query=f"?lang={chosen}" if chosen in LANGUAGES else "",
        )

    def back_to_app(lang: str = "") -> RedirectResponse:
        query = f"?lang={lang}" if lang in LANGUAGES else ""
        return RedirectResponse(f"{settings.base_url}/app{query}", status_code=303)

    @router.get("/")
    async def home(request: Request) -> Response:
        """The anonymous home page (R-SSO-3 case 3)."""
        # Also where the application switch lands a user without a role here in the
        # active or default organisation (R-SSO-3 case 3), logged in here or not.
        login = current(request)
        reason = "why_switched" if login is not None and login.token else "why_anonymous"
        return public_page(request, language_of(request), reason, logged_in=False)

    @router.get("/login")
    async def login(request: Request) -> Response:
        login = Login(
            state=secrets.token_urlsafe(16),
            nonce=secrets.token_urlsafe(16),
            verifier=secrets.token_urlsafe(48),
        )
        async with rp() as client:
            url, _ = client.create_authorization_url(
                links.authorize_url,
                state=login.state,
                nonce=login.nonce,
                code_verifier=login.verifier,
                # The SSO pages speak the application's language.
                ui_locales=language_of(request),
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
                    links.token_url,
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
        caller = await caller_of(login)
        language = language_of(request, caller)
        bar = await edge.top_bar(login.token["access_token"])
        active = bar.active_organisation
        organisation = (
            active.name_in(language)
            if active is not None
            else (caller.organisation.name if caller.organisation else None)
        ) or ""
        name = caller.name or caller.username or ""
        if caller.organisation is None:
            return public_page(request, language, "why_no_organisation", logged_in=True, name=name)
        portal_label = texts(language, app=settings.name)["user_management"]
        page = {
            "user_name": name,
            "organisation": organisation,
            "organisations": [
                {
                    "id": o.id,
                    "name": o.name_in(language) or "",
                    "active": o.id == caller.organisation.id,
                }
                for o in bar.organisations
            ],
            # The switch changes the session's organisation: forms that post the
            # session's switch token to the edge (R-SEC-5), not links.
            "switch_forms": [
                # The portal by its name in the page's language, as the portal's own bar.
                Markup(bar.switch_form(a, label=portal_label if a.client_id == "portal" else None))  # noqa: S704 - the SDK escapes
                for a in bar.applications
            ],
            "csrf": login.csrf,
            "chosen_lang": request.query_params.get("lang", ""),
        }
        if not caller.roles:
            return public_page(
                request,
                language,
                "why_no_role",
                logged_in=True,
                context={**page, "role_names": []},
                name=name,
                organisation=organisation,
            )
        async with request.app.state.sessions.begin() as session:
            if caller.user_id is not None and caller.name:
                await members.remember_person(session, caller.user_id, caller.name)
            colleagues = await members.members_of(session, caller.organisation.id)
        # Members who never opened the application: their names from the hub (SCIM).
        found = await directory.names(u for u, known, _ in colleagues if known is None)
        if found:
            async with request.app.state.sessions.begin() as session:
                for user_id, found_name in found.items():
                    await members.remember_person(session, user_id, found_name)
                colleagues = await members.members_of(session, caller.organisation.id)
        words = texts(language, app=settings.name, organisation=organisation)
        shown = [
            {
                "name": member_name or words["not_seen_yet"],
                "roles": await role_names.names(roles, language),
            }
            for _, member_name, roles in colleagues
        ]
        notices, login.notices = login.notices, []
        return render(
            request,
            "application.html",
            language,
            settings.name,
            **page,
            t=words,
            role_names=await role_names.names(caller.roles, language),
            members=shown,
            notices=notices,
        )

    def refused(request: Request) -> HTMLResponse:
        words = texts(language_of(request), app=settings.name)
        return HTMLResponse(words["refused"], status_code=403)

    @router.post("/organisation")
    async def change_organisation(
        request: Request,
        organisation_id: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
        lang: Annotated[str, Form()] = "",
    ) -> Response:
        login = current(request)
        if not posted_by_us(login, csrf):
            return refused(request)
        assert login is not None
        if not login.token:
            return RedirectResponse(f"{settings.base_url}/", status_code=303)
        await edge.change_organisation(login.token["access_token"], UUID(organisation_id))
        await refresh(login)  # the next token carries the new organisation
        return back_to_app(lang)

    @router.post("/logout")
    async def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        if not posted_by_us(current(request), csrf):
            return refused(request)
        login = logins.pop(request.cookies.get(COOKIE, ""), None)
        response = RedirectResponse(
            links.logout_url(
                id_token_hint=login.token.get("id_token") if login else None,
                post_logout_redirect_uri=f"{settings.base_url}/",
            ),
            status_code=303,
        )
        response.delete_cookie(COOKIE, path=prefix or "/")
        return response

    @router.post("/dossiers")
    async def report_dossier(
        request: Request,
        dossier_id: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
        lang: Annotated[str, Form()] = "",
    ) -> Response:
        """Link the logged-in user to a dossier of the active organisation (reported
        to user management as ``DossierLinked``)."""
        login = current(request)
        if not posted_by_us(login, csrf):
            return refused(request)
        assert login is not None
        if not login.token:
            return RedirectResponse(f"{settings.base_url}/", status_code=303)
        caller = await caller_of(login)
        dossier_id = dossier_id.strip()
        if caller.user_id is None or caller.organisation is None or not dossier_id:
            return back_to_app(lang)
        async with request.app.state.sessions.begin() as session:
            await members.link_dossier(
                session,
                reporter,
                dossier_id=dossier_id,
                user_id=caller.user_id,
                organisation_id=caller.organisation.id,
            )
        request.app.state.relay.nudge()
        language = lang if lang in LANGUAGES else language_of(request, caller)
        login.notices.append(texts(language, dossier=dossier_id)["dossier_linked"])
        return back_to_app(lang)

    @router.get("/api/me")
    async def api_me(caller: Annotated[Caller, Depends(current_caller)]) -> dict[str, Any]:
        """The JSON API's view of the caller (bearer token; the SDK's dependency)."""
        return {
            "user_id": str(caller.user_id),
            "name": caller.name,
            "organisation": (
                {"id": str(caller.organisation.id), "name": caller.organisation.name}
                if caller.organisation
                else None
            ),
            "roles": sorted(caller.roles),
        }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_async_engine(settings.database_url)
        async with engine.begin() as conn:  # an example: no migration history
            await conn.run_sync(members.metadata.create_all)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        handlers = members.make_handlers(settings.client_id)
        group = settings.consumer_group or settings.client_id
        consumer: Any
        feed: RevocationFeed | None = None
        if settings.bus == "inprocess":
            from eproc_platform_app import embedded

            # One process, one instance: the in-process bus brings the edge's
            # revocation topic to this application's consumer group.
            handlers.add(ev.TokensRevoked, embedded.into(revocations))
            handlers.add(ev.ClaimsChanged, embedded.into(revocations))

            consumer = await embedded.start_inprocess(
                engine,
                sessions,
                handlers,
                group=group,
                bus_database_url=settings.bus_database_url,
                topic_prefix=settings.topic_prefix,
            )
            relay = OutboxRelay(
                sessions=sessions,
                outbox=members.outbox,
                publish=embedded.publisher_of(consumer),
                topic_prefix=settings.topic_prefix,
            )
        else:  # the short path: Kafka, the SDK's consumer and relay
            kafka_options = (
                sasl_options(
                    settings.kafka_username,
                    settings.kafka_password.get_secret_value() if settings.kafka_password else "",
                    mechanism=settings.kafka_sasl_mechanism,
                )
                if settings.kafka_username
                else {}
            )
            consumer = EventConsumer(
                handlers,
                sessions=sessions,
                processed=members.processed,
                bootstrap_servers=settings.kafka_bootstrap,
                group_id=group,
                topic_prefix=settings.topic_prefix,
                kafka_options=kafka_options,
            )
            relay = OutboxRelay(
                sessions=sessions,
                outbox=members.outbox,
                bootstrap_servers=settings.kafka_bootstrap,
                topic_prefix=settings.topic_prefix,
                kafka_options=kafka_options,
            )
            await consumer.start()
            # Every instance reads every revocation and claims change (no group).
            feed = RevocationFeed(
                revocations,
                bootstrap_servers=settings.kafka_bootstrap,
                topic_prefix=settings.topic_prefix,
                kafka_options=kafka_options,
            )
            await feed.start()
        await relay.start()
        app.state.sessions, app.state.consumer, app.state.relay = sessions, consumer, relay
        try:
            yield
        finally:
            await relay.stop()
            if feed is not None:
                await feed.stop()
            await consumer.stop()
            await engine.dispose()

    app = FastAPI(title=settings.name, lifespan=lifespan)
    app.include_router(router)
    # The platform's one look (the page shell's stylesheet), served by the app itself.
    app.mount(f"{prefix}/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def main() -> None:
    import uvicorn

    settings = AppSettings()
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port)
