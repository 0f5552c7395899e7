"""Browser steps of the portal's journeys, shared by the portal's own browser tests
and the launcher's smoke tests (``cli/tests``): Debian's Chromium, driven by
Playwright, on pages in Dutch (``nl-BE``) unless a step says otherwise.

Only for tests: it imports Playwright, a development dependency of the workspace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, Page, async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium (``deploy/local/chromium.sh`` installs it), headless."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, locale: str = "nl-BE", timeout_ms: int = 15_000) -> Page:
    """A page in a fresh browser context (its own cookies: one user)."""
    context = await browser.new_context(
        locale=locale, extra_http_headers={"Accept-Language": locale}
    )
    context.set_default_timeout(timeout_ms)
    return await context.new_page()


async def enter_pin(page: Page, pin: str) -> None:
    """On the eID gateway's page: type the PIN (it goes to the card agent) and go on."""
    await page.fill("#pin", pin)
    await page.get_by_role("button", name="Verdergaan").click()


async def register_with_card(
    page: Page,
    portal: str,
    *,
    eid: str | None = None,
    pin: str,
    email: str,
    phone: str,
    username: str,
    password: str,
) -> str:
    """Register with the eID card in the reader: the portal's eID step, the gateway's
    PIN page (at ``eid``, the gateway's issuer, when given), then the form. Returns
    the given names the card showed on the form."""
    await page.goto(f"{portal}/register")
    await page.get_by_role("button", name="Verdergaan").click()
    await expect(page.locator("h1")).to_have_text("Aanmelden met uw eID")  # the gateway
    if eid is not None:
        assert page.url.startswith(f"{eid}/authorize?"), page.url
    await enter_pin(page, pin)
    await page.wait_for_url(f"{portal}/register/form")
    given_names = await page.get_by_label("Voornamen").input_value()
    await page.locator("#email").fill(email)
    await page.locator("#phone").fill(phone)
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(password)
    await page.get_by_role("button", name="Opslaan").click()
    await page.get_by_text("Uw account werd aangemaakt").wait_for()
    return given_names


# The edge's login page speaks the language the user chose (R-I18N-1): the labels a
# user reads there (written out, as a user sees them, not imported from the edge).
SSO_WORDS = {
    "nl": {
        "eid_button": "Aanmelden met eID",
        "password_link": "Geen eID? Aanmelden met gebruikersnaam en wachtwoord",
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "submit": "Aanmelden",
    },
    "fr": {
        "eid_button": "Se connecter avec l'eID",
        "password_link": "Pas d'eID ? Se connecter avec nom d'utilisateur et mot de passe",
        "username": "Nom d'utilisateur",
        "password": "Mot de passe",
        "submit": "Se connecter",
    },
    "de": {
        "eid_button": "Mit eID anmelden",
        "password_link": "Keine eID? Mit Benutzername und Passwort anmelden",
        "username": "Benutzername",
        "password": "Passwort",
        "submit": "Anmelden",
    },
    "en": {
        "eid_button": "Log in with eID",
        "password_link": "No eID? Log in with username and password",
        "username": "Username",
        "password": "Password",
        "submit": "Log in",
    },
}


async def login_with_card_after_registration(page: Page, portal: str, *, pin: str) -> None:
    """From the page that confirms the registration: log in with the card (edge →
    eID gateway → card agent) and land on the first-login page."""
    await page.get_by_role("link", name="Aanmelden").click()
    await page.locator("html[lang]").wait_for()
    words = SSO_WORDS[str(await page.get_attribute("html", "lang"))]
    await page.get_by_role("link", name=words["eid_button"]).click()
    await enter_pin(page, pin)
    await page.wait_for_url(f"{portal}/welcome")


async def login_with_password(page: Page, portal: str, *, username: str, password: str) -> None:
    """The portal's login, through the edge's local-login form, to the home page."""
    await page.goto(f"{portal}/auth/login")
    words = SSO_WORDS[str(await page.get_attribute("html", "lang"))]
    # Local login off for everyone: the form is behind its link (R-LOGIN-2).
    await page.get_by_role("link", name=words["password_link"]).click()
    await page.get_by_label(words["username"], exact=True).fill(username)
    await page.get_by_label(words["password"], exact=True).fill(password)
    await page.get_by_role("button", name=words["submit"], exact=True).click()
    await page.wait_for_url(f"{portal}/home")


async def choose_to_join(page: Page, portal: str) -> None:
    """On the first-login page: "join an organisation", to the join page."""
    await page.locator("#choice-join").check()
    await page.get_by_role("button", name="Volgende").click()
    await page.wait_for_url(f"{portal}/join")


async def set_basket_roles(page: Page, organisation_id: str, roles: tuple[str, ...]) -> None:
    """On the join page: give a basket entry its roles (``<application>-<role>``)."""
    await page.locator(f"#basket-{organisation_id}").check()
    await page.locator("button[value=edit_roles]").click()
    await page.locator(".role-description").first.wait_for()
    for role in roles:
        await page.locator(f"#role-{role}").check()
    await page.locator("form[action='/join/roles'] button[type=submit]").click()
    await page.locator("#basket").wait_for()


async def submit_basket(page: Page, organisation_ids: list[str]) -> None:
    """On the join page: tick basket entries and submit them as join requests."""
    for organisation_id in organisation_ids:
        await page.locator(f"#basket-{organisation_id}").check()
    await page.locator("button[value=submit]").click()


async def open_pending_request(
    page: Page, portal: str, organisation_id: str, attempts: int = 100
) -> None:
    """A Superuser opens the first request waiting in an organisation's inbox (the
    requests service learns of its Superusers and requests from the bus: retried)."""
    link = page.locator("a[href^='/superuser/requests/']")
    for _ in range(attempts):
        await page.goto(f"{portal}/superuser/requests?organisation={organisation_id}")
        if await link.count():
            break
        await page.wait_for_timeout(100)
    await link.first.click()


async def decide_request(page: Page, decision: str, reason: str | None = None) -> None:
    """On an open request: approve, or reject with a reason (and confirm the rejection
    on the page that spells out its consequence)."""
    if reason is not None:
        await page.locator("textarea#reason").fill(reason)
    await page.locator(f"button[value={decision}]").click()
    if decision == "reject":
        await page.locator("button[name=confirmed]").click()
    await page.locator(".notice").wait_for()
