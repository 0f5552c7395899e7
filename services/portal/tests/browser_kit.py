"""The browser tests' kit: Debian's Chromium driven by Playwright, the portal served
by a real uvicorn process (``browser_app``), and axe-core on every checked page (no
serious or critical violation). The fixtures are shared through ``conftest``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from eproc_portal_testkit import CHROMIUM, CHROMIUM_ARGS
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.infra import free_port
from eproc_runtime.testing.plugin import CreateDatabase

HERE = Path(__file__).parent
AXE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed by the project's script when missing."""
    subprocess.run(["bash", str(HERE.parent / "scripts" / "ensure-chromium.sh")], check=True)
    return CHROMIUM


@pytest.fixture(scope="session")
async def portal_url(
    create_database: CreateDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    databases = {}
    for package, variable in (
        ("eproc_identity", "PORTAL_TEST_IDENTITY_DB"),
        ("eproc_organisations", "PORTAL_TEST_ORGANISATIONS_DB"),
        ("eproc_requests", "PORTAL_TEST_REQUESTS_DB"),
    ):
        url = await create_database(f"browser_{package.split('_')[1][:6]}")
        await upgrade_async(package, url)
        databases[variable] = url
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bus = tmp_path_factory.mktemp("browser-bus") / "bus.db"
    env = {
        **os.environ,
        **databases,
        "PORTAL_TEST_BUS_URL": f"sqlite+aiosqlite:///{bus}",
        "PORTAL_TEST_URL": url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "browser_app:create",
            "--factory",
            "--app-dir",
            str(HERE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, "the portal process stopped"
                assert time.monotonic() < deadline, "the portal did not start"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="session")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def new_page(browser: Browser, locale: str) -> Page:
    context = await browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": locale}
    )
    context.set_default_timeout(10_000)
    return await context.new_page()


SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")
"""When set (``make screenshots``), every checked page is also saved as a PNG there."""


async def assert_accessible(page: Page, name: str | None = None) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    if SCREENSHOTS and name:
        language = await page.get_attribute("html", "lang")
        folder = Path(SCREENSHOTS) / str(language)
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    await page.evaluate(AXE)
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]
    assert bad == [], f"{page.url}: {bad}"
