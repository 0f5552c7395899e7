"""The embedded default mode (DESIGN.md, "Running it"): every service in one
process, SQLite files under a data folder, the durable in-process bus.

Like ``kc.sh start-dev``: for trying and developing, not for production.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from eproc_runtime.messaging import close_log_brokers

SERVICES = ("identity", "organisations", "requests", "notifier", "edge")


def create_embedded_app(data_dir: Path) -> FastAPI:
    """One app mounting each service's API under ``/api/<service>``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    bus_url = f"sqlite+aiosqlite:///{data_dir / 'bus.db'}"
    services: dict[str, FastAPI] = {}
    for name in SERVICES:
        package = f"eproc_{name}"
        settings_cls = importlib.import_module(f"{package}.settings").Settings
        settings = settings_cls(
            database_url=f"sqlite+aiosqlite:///{data_dir / (name + '.db')}",
            bus="inprocess",
            bus_database_url=bus_url,
            log_json=False,
        )
        create_app = importlib.import_module(f"{package}.main").create_app
        services[name] = create_app(settings, migrate_on_start=True)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Mounted apps' lifespans do not run by themselves: enter each one.
        async with AsyncExitStack() as stack:
            stack.push_async_callback(close_log_brokers)
            for app in services.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield

    root = FastAPI(title="e-Procurement user management (embedded)", lifespan=lifespan)

    @root.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        links = "".join(
            f'<li><a href="/api/{n}/docs">{n}</a> — <a href="/api/{n}/healthz">health</a></li>'
            for n in services
        )
        return (
            "<!doctype html><html lang=en><title>e-Procurement user management</title>"
            f"<h1>e-Procurement user management</h1><p>Embedded mode. Services:</p><ul>{links}</ul>"
        )

    @root.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for name, app in services.items():
        root.mount(f"/api/{name}", app)
    return root
