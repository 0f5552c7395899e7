"""The login page's own script, in Chromium: PIN to the agent, the card's answer to the
gateway, then the browser lands on the relying party with a code (real servers)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.async_api import Page, async_playwright, expect
from starlette.applications import Starlette
from starlette.routing import Mount

from eproc_eid_agent.agent import AgentSettings, create_agent_app
from eproc_eid_gateway.main import create_app
from eproc_eid_gateway.settings import ClientConfig, Settings
from eproc_eid_testkit.pki import DevPki, issue_demo_card
from eproc_runtime.testing.infra import free_port
from eproc_runtime.testing.servers import serving_in_thread

from .conftest import EDGE_SECRET

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
AXE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")  # `make screenshots`: save what is looked at
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


async def assert_accessible(page: Page, name: str) -> None:
    """The platform's one look, checked by axe-core: no serious or critical violation."""
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS) / str(await page.get_attribute("html", "lang"))
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    await page.evaluate(AXE)
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [v["id"] for v in result["violations"] if v.get("impact") in {"serious", "critical"}]
    assert bad == [], f"{page.url}: {bad}"


async def test_the_login_page_drives_agent_and_gateway(
    gateway_settings: Settings, pcscd: str, slot, card_factory: Callable[..., Path]
) -> None:
    port, agent_port = free_port(), free_port()
    origin = f"http://localhost:{port}"
    callback = f"{origin}/callback"
    settings = gateway_settings.model_copy(
        update={
            "issuer": f"{origin}/eid",
            "agent_url": f"http://127.0.0.1:{agent_port}",
            "clients": [
                ClientConfig(client_id="edge", client_secret=EDGE_SECRET, redirect_uris=[callback])
            ],
        }
    )
    gateway = create_app(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with gateway.router.lifespan_context(gateway):
            yield

    site = Starlette(routes=[Mount("/eid", app=gateway)], lifespan=lifespan)
    agent = create_agent_app(AgentSettings(gateway_origin=origin, reader=pcscd))
    slot.insert(card_factory("alice"))
    verifier = "v" * 50
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "edge",
            "redirect_uri": callback,
            "scope": "openid profile egovnrn",
            "state": "st4te",
            "nonce": "n0nce",
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    with serving_in_thread(site, port), serving_in_thread(agent, agent_port):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(locale="nl-BE")  # Accept-Language: nl-BE
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.route(f"{callback}*", lambda route: route.fulfill(body="relying party"))
            await page.goto(f"{origin}/eid/authorize?{query}")
            assert await page.locator("h1").inner_text() == "Aanmelden met uw eID"
            await assert_accessible(page, "eid-login")
            # The page's own switch, then back: French, then Dutch again.
            await page.get_by_role("link", name="Français").click()
            assert await page.get_attribute("html", "lang") == "fr"
            await page.get_by_role("button", name="Continuer").wait_for()
            await assert_accessible(page, "eid-login")
            # The footer's helpdesk link leads to the portal's contact page (SPEC §4).
            helpdesk = page.get_by_role("contentinfo").get_by_role(
                "link", name="Helpdesk et contact"
            )
            await expect(helpdesk).to_have_attribute(
                "href", settings.portal_url.rstrip("/") + "/contact"
            )
            await page.get_by_role("link", name="Nederlands").click()
            assert await page.get_attribute("html", "lang") == "nl"

            await page.fill("#pin", "9999")
            await page.get_by_role("button", name="Verdergaan").click()
            status = page.locator("#eid-status")
            await status.filter(has_text="Verkeerde pincode").wait_for(timeout=10_000)
            assert await status.inner_text() == "Verkeerde pincode: nog 2 pogingen."

            await page.fill("#pin", "1234")
            await page.get_by_role("button", name="Verdergaan").click()
            await page.wait_for_url(f"{callback}?*", timeout=10_000)
            landed = parse_qs(urlsplit(page.url).query)
            await browser.close()
            assert errors == []

        assert landed["state"] == ["st4te"]
        async with httpx.AsyncClient(base_url=origin) as client:
            tokens = await client.post(
                "/eid/token",
                data={
                    "grant_type": "authorization_code",
                    "code": landed["code"][0],
                    "redirect_uri": callback,
                    "code_verifier": verifier,
                },
                auth=("edge", EDGE_SECRET),
            )
        assert tokens.status_code == 200, tokens.text
        assert "id_token" in tokens.json()


async def test_a_revoked_card_is_refused_with_a_message_in_the_users_language(
    gateway_settings: Settings, pcscd: str, slot, pki: DevPki, tmp_path: Path
) -> None:
    """Issue 18, item 6: the card's certificate is revoked at the PKI's OCSP responder;
    the page, in German, says so in German (the user can do nothing but get a new card)."""
    port, agent_port = free_port(), free_port()
    origin = f"http://localhost:{port}"
    callback = f"{origin}/callback"
    settings = gateway_settings.model_copy(
        update={
            "issuer": f"{origin}/eid",
            "agent_url": f"http://127.0.0.1:{agent_port}",
            "clients": [
                ClientConfig(client_id="edge", client_secret=EDGE_SECRET, redirect_uris=[callback])
            ],
        }
    )
    gateway = create_app(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with gateway.router.lifespan_context(gateway):
            yield

    site = Starlette(routes=[Mount("/eid", app=gateway)], lifespan=lifespan)
    agent = create_agent_app(AgentSettings(gateway_origin=origin, reader=pcscd))
    card = issue_demo_card(pki, "chloe")  # her own certificates: revoking touches no other test
    card.save(tmp_path / "card-chloe")
    pki.revoke(card.authentication_certificate)
    slot.insert(tmp_path / "card-chloe")
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "edge",
            "redirect_uri": callback,
            "scope": "openid profile",
            "state": "st4te",
            "code_challenge": create_s256_code_challenge("v" * 50),
            "code_challenge_method": "S256",
        }
    )
    with serving_in_thread(site, port), serving_in_thread(agent, agent_port):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = await browser.new_page(locale="de-BE")
            await page.goto(f"{origin}/eid/authorize?{query}")
            await page.fill("#pin", "1234")
            await page.get_by_role("button", name="Weiter").click()
            status = page.locator("#eid-status")
            await status.filter(has_text="widerrufen").wait_for(timeout=15_000)
            text = await status.inner_text()
            await browser.close()
    assert text == (
        "Das Zertifikat Ihrer Karte wurde widerrufen. "
        "Beantragen Sie bei Ihrer Gemeinde eine neue Karte."
    )
