"""The SSO pages as a person sees them, in Debian's Chromium (issue 19, points 1-2;
R-I18N-1, R-LOGIN-2): the language the user chose in the portal, the password
form only where password login is on, a refused password that does not dead-end,
the logout pages — and axe-core finds no serious or critical violation."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.async_api import Browser, Page, Route, async_playwright, expect

from .conftest import EdgeServer

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
AXE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")  # `make screenshots`: save what is looked at
RETURN_TO = "/authorize?client_id=e-tendering&response_type=code&ui_locales=nl"


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def person(browser: Browser, edge_server: EdgeServer, locale: str) -> Page:
    """A fresh browser whose visits to the portal (elsewhere) are answered by a stand-in."""
    context = await browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": locale}
    )
    context.set_default_timeout(15_000)
    portal = urlsplit(edge_server.settings.portal_url)

    async def the_portal(route: Route) -> None:
        await route.fulfill(body=f"portal: {urlsplit(route.request.url).path}")

    await context.route(f"{portal.scheme}://{portal.netloc}/**", the_portal)
    return await context.new_page()


async def assert_accessible(page: Page, name: str) -> None:
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS) / str(await page.get_attribute("html", "lang"))
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / f"sso-{name}.png"), full_page=True)
    await page.evaluate(AXE)
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']})"
        for v in result["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]
    assert bad == [], f"{page.url}: {bad}"


async def test_a_french_speaker_finds_the_password_form_and_after_a_refusal_the_eid_login(
    chromium: Browser, edge_server: EdgeServer
) -> None:
    """Point 1: after a wrong password the eID link still works (it was relative and
    led to a raw 404). Point 2: French, as chosen in the portal, over ui_locales=nl;
    local login off for everyone, so the password form waits behind its link."""
    edge_server.identity.local_login_for_everyone = False
    try:
        user = await edge_server.create_user()
        page = await person(chromium, edge_server, "nl-BE")
        host = urlsplit(edge_server.base_url).hostname
        await page.context.add_cookies(
            [{"name": "eproc_lang", "value": "fr", "domain": str(host), "path": "/"}]
        )
        statuses: list[tuple[int, str]] = []
        page.on("response", lambda response: statuses.append((response.status, response.url)))
        await page.goto(f"{edge_server.base_url}/login?return_to={quote(RETURN_TO)}")

        assert await page.get_attribute("html", "lang") == "fr"
        await expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
        await expect(page.get_by_label("Mot de passe", exact=True)).to_have_count(0)
        await assert_accessible(page, "login")
        # The helpdesk is one click away, in the portal (SPEC §4).
        helpdesk = page.get_by_role("contentinfo").get_by_role("link", name="Helpdesk et contact")
        await expect(helpdesk).to_have_attribute(
            "href", edge_server.settings.portal_url.rstrip("/") + "/contact"
        )
        await page.get_by_role(
            "link", name="Pas d'eID ? Se connecter avec nom d'utilisateur et mot de passe"
        ).click()
        await page.get_by_text("Uniquement si le helpdesk a activé").wait_for()
        await page.get_by_label("Nom d'utilisateur", exact=True).fill(user.username)
        await page.get_by_label("Mot de passe", exact=True).fill("not the password")
        await page.get_by_role("button", name="Se connecter", exact=True).click()
        await expect(page.get_by_role("alert")).to_have_text(
            "Nom d'utilisateur ou mot de passe incorrect."
        )
        assert urlsplit(page.url).path == "/login/local"
        assert await page.get_attribute("html", "lang") == "fr"
        await assert_accessible(page, "login-refused")

        # From the refusal page, the eID login: to the eID service, in French.
        edge_server.upstream.state.subject = "a card without an account"
        await page.get_by_role("link", name="Se connecter avec l'eID").click()
        await page.wait_for_url(edge_server.settings.registration_url)
        upstream = [url for _, url in statuses if "/authorize?" in url and "nonce=" in url]
        assert upstream and "ui_locales=fr" in upstream[0]
        assert [s for s in statuses if s[0] == 404] == []
        assert not any("/login/login/" in url for _, url in statuses)
        await page.context.close()
    finally:
        edge_server.identity.local_login_for_everyone = True


async def test_a_dutch_speaker_logs_in_with_a_password_and_out_again(
    chromium: Browser, edge_server: EdgeServer
) -> None:
    """Local login on for everyone: the form is on the login page; logging out asks
    first and says it is done, all in Dutch (the browser's language)."""
    user = await edge_server.create_user()
    page = await person(chromium, edge_server, "nl-BE")
    await page.goto(f"{edge_server.base_url}/login?return_to={quote('/authorize?x=1')}")
    assert await page.get_attribute("html", "lang") == "nl"
    await page.get_by_role("link", name="Aanmelden met eID").wait_for()
    await assert_accessible(page, "login-with-password")
    await page.get_by_label("Gebruikersnaam", exact=True).fill(user.username)
    await page.get_by_label("Wachtwoord", exact=True).fill(user.password)
    await page.get_by_role("button", name="Aanmelden", exact=True).click()
    await page.wait_for_url(edge_server.settings.first_login_url)  # no organisation yet

    await page.goto(f"{edge_server.base_url}/logout")
    await page.get_by_text(
        "Wilt u zich afmelden bij alle toepassingen van e-Procurement?"
    ).wait_for()
    await assert_accessible(page, "logout")
    await page.get_by_role("button", name="Afmelden").click()
    await expect(page.get_by_role("status")).to_have_text("U bent afgemeld bij alle toepassingen.")
    assert await page.get_attribute("html", "lang") == "nl"
    await assert_accessible(page, "logged-out")
    await page.get_by_role("contentinfo").get_by_role("link", name="Helpdesk en contact").click()
    await expect(page.locator("body")).to_have_text("portal: /contact")

    # The page's own language switch: German.
    await page.goto(f"{edge_server.base_url}/login")
    await page.get_by_role("link", name="Deutsch").click()
    assert await page.get_attribute("html", "lang") == "de"
    await page.get_by_role("link", name="Mit eID anmelden").wait_for()
    await assert_accessible(page, "login-de")
    await page.context.close()
