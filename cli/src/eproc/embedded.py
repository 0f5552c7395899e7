"""The embedded default mode (DESIGN.md, "Running it"): every service in one
process, SQLite files under a data folder, the durable in-process bus, a local
SMTP sink with a page listing the mails, the eID gateway with a development
PKI, demo organisations and the four demo platform applications.

One origin (``base_url``): ``/`` the portal, ``/dev`` a developer's page,
``/sso`` the edge, ``/eid`` the eID gateway, ``/api/<service>`` the APIs,
``/scim/v2`` the edge's SCIM service provider, ``/apps/<client>`` the platform
applications, ``/mail`` the received mails.

Like ``kc.sh start-dev``: for trying and developing, not for production.
"""

from __future__ import annotations

import asyncio
import html
import importlib
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from eproc.demo import (
    DEMO_DATASET_SIZE,
    DEMO_PASSWORD,
    load_demo_organisations,
    seed_demo_superusers,
)
from eproc.mailsink import MailSink
from eproc_runtime.messaging import close_log_brokers

log = structlog.get_logger("eproc.embedded")

SERVICES = ("identity", "organisations", "requests", "notifier", "edge")
PLATFORM_APPS = {
    "e-notification": "e-Notification",
    "e-tendering": "e-Tendering",
    "e-awarding": "e-Awarding",
    "e-catalogue": "e-Catalogue",
}


@dataclass
class EmbeddedOptions:
    """What ``eproc run`` can change."""

    data_dir: Path
    base_url: str = "http://127.0.0.1:8000"
    smtp_port: int = 0  # 0: a free port
    demo_organisations: int = DEMO_DATASET_SIZE
    platform_apps: bool = True
    demo_superusers: bool = True
    eid_home: Path | None = None
    # The card agent the eID gateway's page calls (loopback, on the user's machine).
    # None: the agent's (and the gateway's) default port.
    agent_port: int | None = None
    status: dict[str, Any] = field(default_factory=dict)


def service_urls(base_url: str) -> dict[str, str]:
    """Every public URL of the single origin, so that settings agree with the mounts."""
    base = base_url.rstrip("/")
    return {
        "base": base,
        "sso": f"{base}/sso",
        "jwks": f"{base}/sso/jwks",
        "eid": f"{base}/eid",
        **{f"api_{s}": f"{base}/api/{s}" for s in SERVICES},
    }


def demo_clients(base_url: str) -> list[tuple[Any, str]]:
    """The portal and the demo platform applications at their mounted URLs, with
    their development secrets: seeded into the edge's client registry (data, not
    configuration) where it does not hold them yet. Each platform application
    declares its roles with its registration (SPEC §4's catalogue, as this version
    ships it), so operators see and change them on the Applications screen."""
    from eproc_contracts.roles import packaged_catalogue
    from eproc_edge.registration import ClientRegistration

    base = base_url.rstrip("/")
    portal = ClientRegistration(
        client_id="portal",
        names={"nl": "Gebruikersbeheer", "fr": "Gestion des utilisateurs",
               "de": "Benutzerverwaltung", "en": "User management"},
        application="user-management",
        redirect_uris=[f"{base}/auth/callback"],
        post_logout_redirect_uris=[f"{base}/"],
        home_url=f"{base}/",
        login_url=f"{base}/auth/login",
        resource_servers=["eproc"],  # the portal calls the user-management services
    )  # fmt: skip
    seeds: list[tuple[Any, str]] = [(portal, "dev-secret-portal")]
    for client_id, name in PLATFORM_APPS.items():
        app_base = f"{base}/apps/{client_id}"
        built_in = packaged_catalogue().application(client_id)
        roles = [role.model_dump() for role in (built_in.roles if built_in else ())]
        application = ClientRegistration(
            client_id=client_id,
            names=dict.fromkeys(("nl", "fr", "de", "en"), name),
            roles=roles,
            redirect_uris=[f"{app_base}/callback"],
            post_logout_redirect_uris=[f"{app_base}/"],
            home_url=f"{app_base}/",
            login_url=f"{app_base}/login",
            backchannel_logout_uri=f"{app_base}/backchannel-logout",
        )
        seeds.append((application, f"dev-secret-{client_id}"))
    return seeds


def eid_clients(base_url: str) -> list[dict[str, Any]]:
    """The eID gateway's relying parties: the edge (login) and the portal (registration)."""
    base = base_url.rstrip("/")
    return [
        {
            "client_id": "edge",
            "client_secret": "dev-secret-edge",
            "redirect_uris": [f"{base}/sso/login/eid/callback"],
        },
        {
            "client_id": "portal",
            "client_secret": "dev-secret-portal-eid",
            "redirect_uris": [f"{base}/register/eid-callback"],
        },
    ]


def _settings(name: str, options: EmbeddedOptions, smtp_port: int, trust: list[Path]) -> Any:
    urls = service_urls(options.base_url)
    data = options.data_dir
    common: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{data / (name + '.db')}",
        "bus": "inprocess",
        "bus_database_url": f"sqlite+aiosqlite:///{data / 'bus.db'}",
        "log_json": False,
        "token_issuer": urls["sso"],
        "jwks_url": urls["jwks"],
    }
    extra: dict[str, Any] = {
        "identity": {"eid_issuer": urls["eid"], "eid_jwks_url": f"{urls['eid']}/jwks"},
        "requests": {"organisations_url": urls["api_organisations"]},
        "notifier": {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_starttls": False,
            "portal_url": urls["base"] + "/",
        },
        "edge": {
            "identity_url": urls["api_identity"],
            "upstream_issuer": urls["eid"],
            "portal_url": urls["base"] + "/",
            "first_login_url": urls["base"] + "/welcome",
            "registration_url": urls["base"] + "/register",
        },
        "eid_gateway": {
            "issuer": urls["eid"],
            "portal_url": urls["base"] + "/",
            **(
                {"agent_url": f"http://127.0.0.1:{options.agent_port}"}
                if options.agent_port is not None
                else {}
            ),
            "trust_anchors": trust,
            "clients": eid_clients(options.base_url),
        },
        "portal": {
            "public_url": urls["base"],
            "oidc_issuer": urls["sso"],
            "oidc_redirect_uri": f"{urls['base']}/auth/callback",
            "eid_issuer": urls["eid"],
            "eid_redirect_uri": f"{urls['base']}/register/eid-callback",
            "identity_url": urls["api_identity"],
            "organisations_url": urls["api_organisations"],
            "requests_url": urls["api_requests"],
        },
    }
    settings_cls = importlib.import_module(f"eproc_{name}.settings").Settings
    return settings_cls(**common, **extra.get(name, {}))


class _PrefixDispatch:
    """Sends ``/apps/<client>/…`` to that platform application unchanged (the
    application routes its own prefix), and ``/scim/…`` to the edge, which serves
    it under that name; everything else (and the lifespan) to ``default``."""

    def __init__(self, default: ASGIApp, apps: Mapping[str, ASGIApp]) -> None:
        self.default = default
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope.get("path", "")
            for prefix, app in self.apps.items():
                if path == prefix or path.startswith(prefix + "/"):
                    await app(scope, receive, send)
                    return
        await self.default(scope, receive, send)


def create_embedded_app(data_dir: Path, *, options: EmbeddedOptions | None = None) -> ASGIApp:
    """One app serving every service under the single origin (see the module docstring)."""
    options = options or EmbeddedOptions(data_dir=data_dir)
    data_dir = options.data_dir = data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    sink = MailSink(data_dir / "mail", port=options.smtp_port)
    sink.start()
    options.status["smtp_port"] = sink.port

    # The development PKI of the virtual cards; its TEST root is the gateway's trust anchor.
    from eproc_eid_testkit.pki import DevPki

    eid_home = options.eid_home or data_dir / "eid"
    DevPki.load_or_create(eid_home / "pki")
    trust = [eid_home / "pki" / "root.crt.pem"]
    options.status["eid_home"] = eid_home

    services: dict[str, FastAPI] = {}
    for name in SERVICES:
        create_app = importlib.import_module(f"eproc_{name}.main").create_app
        services[name] = create_app(
            _settings(name, options, sink.port, trust), migrate_on_start=True
        )
    gateway_main = importlib.import_module("eproc_eid_gateway.main")
    eid_app: FastAPI = gateway_main.create_app(
        _settings("eid_gateway", options, sink.port, trust), migrate_on_start=True
    )

    # The portal at "/" (its own start page, login, registration, every screen).
    portal_app: FastAPI = importlib.import_module("eproc_portal.main").create_app(
        _settings("portal", options, sink.port, trust)
    )

    platform_apps: dict[str, FastAPI] = {}
    if options.platform_apps:
        from eproc_platform_app.main import AppSettings
        from eproc_platform_app.main import create_app as create_platform_app

        for client_id, app_name in PLATFORM_APPS.items():
            platform_apps[f"/apps/{client_id}"] = create_platform_app(
                AppSettings(
                    client_id=client_id,
                    client_secret=f"dev-secret-{client_id}",
                    name=app_name,
                    base_url=f"{options.base_url.rstrip('/')}/apps/{client_id}",
                    edge_url=service_urls(options.base_url)["sso"],
                    portal_url=service_urls(options.base_url)["base"] + "/",
                    roles_url=service_urls(options.base_url)["api_organisations"] + "/roles",
                    scim_url=service_urls(options.base_url)["base"] + "/scim/v2",
                    database_url=f"sqlite+aiosqlite:///{data_dir / (client_id + '.db')}",
                    bus="inprocess",
                    bus_database_url=f"sqlite+aiosqlite:///{data_dir / 'bus.db'}",
                )
            )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Mounted apps' lifespans do not run by themselves: enter each one.
        async with AsyncExitStack() as stack:
            stack.callback(sink.stop)
            stack.push_async_callback(close_log_brokers)
            for app in [*services.values(), eid_app, portal_app, *platform_apps.values()]:
                await stack.enter_async_context(app.router.lifespan_context(app))
            await _seed_clients()
            org_db = data_dir / "organisations.db"
            options.status["organisations_loaded"] = await load_demo_organisations(
                f"sqlite+aiosqlite:///{org_db}", options.demo_organisations
            )
            seeding: asyncio.Task[None] | None = None
            if options.demo_superusers:
                seeding = asyncio.create_task(_seed_when_listening())
            yield
            if seeding is not None and not seeding.done():
                seeding.cancel()
                await asyncio.gather(seeding, return_exceptions=True)

    async def _seed_clients() -> None:
        # The demo applications are data of the edge's registry, seeded once.
        from eproc_edge.registry import seed
        from eproc_runtime.db import unit_of_work

        edge = services["edge"]
        async with unit_of_work(edge.state.service.sessions) as db:
            await seed(db, edge.state.edge.directory, demo_clients(options.base_url))

    async def _seed_when_listening() -> None:
        # Registration goes through identity's API, which fetches the eID gateway's
        # keys over HTTP: wait until this very server answers.
        base = options.base_url.rstrip("/")
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(600):
                try:
                    if (await http.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        try:
            gateway = eid_app.state.gateway
            options.status["demo_superusers"] = await seed_demo_superusers(
                options.base_url,
                signing_key=gateway.server.signing_key,
                subject_key=gateway.settings.subject_key.get_secret_value(),
                identity_sessions=services["identity"].state.service.sessions,
                organisations_sessions=services["organisations"].state.service.sessions,
                state_file=data_dir / "demo-superusers.json",
            )
        except Exception as exc:  # the demo data is a convenience: say why, keep running
            log.warning("demo superusers not created", error=repr(exc))
            options.status["demo_superusers_error"] = repr(exc)

    root = FastAPI(title="e-Procurement user management (embedded)", lifespan=lifespan)

    @root.get("/dev", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        return start_page(options)

    @root.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @root.get("/mail", response_class=HTMLResponse, include_in_schema=False)
    async def mail() -> str:
        return sink.page()

    @root.get("/demo.json", include_in_schema=False)
    async def demo_json() -> dict[str, Any]:
        return {
            "superusers": options.status.get("demo_superusers", {}),
            "password": DEMO_PASSWORD,
            "error": options.status.get("demo_superusers_error"),
        }

    @root.get("/mail.json", include_in_schema=False)
    async def mail_json() -> list[dict[str, str]]:
        return sink.messages()

    root.mount("/sso", services["edge"])
    root.mount("/eid", eid_app)
    for name, app in services.items():
        root.mount(f"/api/{name}", app)
    root.mount("/", portal_app)  # last: everything the routes above do not take
    return _PrefixDispatch(root, {**platform_apps, "/scim": services["edge"]})


def start_page(options: EmbeddedOptions) -> str:
    """The developer's page (``/dev``): links, demo persons, mails."""
    from eproc_eid_testkit.pki import DEMO_PERSONS

    base = options.base_url.rstrip("/")
    links = "".join(
        f'<li><a href="{base}/api/{n}/docs">{n}</a> (<a href="{base}/api/{n}/healthz">health</a>)'
        "</li>"
        for n in SERVICES
    )
    apps = "".join(
        f'<li><a href="{base}/apps/{c}/">{html.escape(n)}</a></li>'
        for c, n in PLATFORM_APPS.items()
    )
    persons = "".join(
        f"<li>{html.escape(p.given_names)} {html.escape(p.surname)} ({k}): PIN 1234</li>"
        for k, (p, _) in DEMO_PERSONS.items()
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<title>e-Procurement user management</title>"
        "<h1>e-Procurement user management</h1>"
        f"<p>Embedded mode. Log in at <a href='{base}/sso/login'>/sso/login</a>.</p>"
        f"<h2>APIs</h2><ul>{links}</ul>"
        f"<h2>Platform applications</h2><ul>{apps}</ul>"
        f"<h2>eID</h2><p>Gateway: <a href='{base}/eid/.well-known/openid-configuration'>/eid</a>."
        f" Demo cards:</p><ul>{persons}</ul>"
        f"<h2>Mail</h2><p><a href='{base}/mail'>Received mails</a></p>"
    )
