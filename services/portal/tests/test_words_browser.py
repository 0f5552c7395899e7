"""Issue 19, points 9 and 10 in Chromium, by what a person reads (nl and fr, and one
journey in German): the start page's links from the manual, the helpdesk page from
every footer, a Superuser editing a member's profile, the mobile number's own
example, role descriptions as SPEC §4's capability lists, times in Belgian local
time, the header's organisation in the page's language, and Dutch that says "u".
axe-core checks each page (no serious or critical violation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, Locator, Page, expect

from eproc_portal.times import local_date

from .browser_kit import assert_accessible, new_page
from .browser_names import RESERVED


def belgian_today(language: str) -> set[str]:
    """Today in Belgium as the page writes it (either side of a midnight)."""
    now = datetime.now(UTC)
    return {local_date(now - timedelta(minutes=2), language), local_date(now, language)}


# Each language's Superuser has a city of her own (Kortrijk is Courtrai in French).
CITIES = {"nl": RESERVED["Knokke-Heist"], "fr": RESERVED["Kortrijk"], "de": RESERVED["Malmedy"]}


async def superuser(browser: Browser, portal_url: str, locale: str) -> Page:
    """Els Maes, Superuser of one organisation with a member (Lotte Claes) and a
    join request waiting (Tom Wouters), on her start page."""
    page = await new_page(browser, locale)
    # Seeding three people and waiting for the bus takes a while on a loaded machine.
    await page.goto(
        portal_url
        + f"/_test/login?city={CITIES[locale[:2]].nl}&organisations=1&members=1&pending=1"
        + "&next=/home",
        timeout=90_000,
    )
    await page.locator("h1").wait_for()
    return page


async def reload_until(page: Page, locator: Locator) -> None:
    """What the services learn from the bus shows after a moment: ask the page again."""
    for _ in range(100):
        if await locator.count():
            return
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(locator.first).to_be_visible()


async def waiting_request(page: Page, inbox: str) -> Locator:
    """The inbox's row of Tom Wouters's join request."""
    await page.get_by_role("link", name=inbox, exact=True).click()
    row = page.get_by_role("row").filter(has_text="Tom Wouters")
    await reload_until(page, row)
    return row


async def open_member_profile(page: Page, members: str, edit: str, heading: str) -> None:
    """Members → "Edit profile" of Lotte Claes (identity learns the membership from
    the bus and refuses until then)."""
    await page.get_by_role("link", name=members, exact=True).click()
    await page.get_by_role("link", name=edit).click()
    await reload_until(page, page.get_by_role("heading", level=1, name=heading))


async def test_a_dutch_superuser_finds_the_manuals_links_and_edits_a_members_profile(
    browser: Browser, portal_url: str
) -> None:
    page = await superuser(browser, portal_url, "nl-BE")
    assert await page.get_attribute("html", "lang") == "nl"
    # Dutch says "u" (the manual's "Je bent aangemeld als" in the portal's register).
    await expect(page.get_by_role("banner")).to_contain_text("U bent aangemeld als Els Maes")
    await expect(page.get_by_role("banner")).to_contain_text("Stad Knokke-Heist")
    start = page.get_by_role("navigation", name="Wat wilt u doen?")
    for label in ("Mijn Aanvragen", "Mijn Organisaties", "Een nieuwe organisatie registreren"):
        await expect(start.get_by_role("link", name=label, exact=True)).to_be_visible()
    await assert_accessible(page, "home-links")
    await start.get_by_role("link", name="Een nieuwe organisatie registreren").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Een nieuwe organisatie registreren"
    )

    # The request waiting: its date in Belgian time, written the Dutch way.
    row = await waiting_request(page, "Te beslissen aanvragen")
    shown = await row.get_by_role("cell").nth(3).inner_text()
    assert shown in belgian_today("nl"), shown
    await row.get_by_role("link").click()
    submitted = page.locator("dt", has_text="Ingediend op").locator(
        "xpath=following-sibling::dd[1]"
    )
    assert re.fullmatch(r"\d{1,2} [a-z]+ 20\d\d, \d\d:\d\d", await submitted.inner_text())
    assert "T" not in await submitted.inner_text()

    await open_member_profile(
        page, "Leden", "Profiel bewerken: Lotte Claes", "Profiel bewerken: Lotte Claes"
    )
    await assert_accessible(page, "member-profile")
    await expect(page.get_by_text("Voorbeeld: 0470 12 34 56")).to_be_visible()
    await page.get_by_label("Gsm").fill("02 511 11 11")  # a landline
    await page.get_by_role("button", name="Opslaan").click()
    await expect(page.locator("#mobile-error")).to_have_text(
        "Geef een gsm-nummer op, bijvoorbeeld 0470 12 34 56."
    )
    await assert_accessible(page, "member-profile-error")
    await page.get_by_label("Gsm").fill("0470 12 34 56")
    await page.get_by_label("Functie").fill("Aankoper catalogus")
    await page.get_by_role("button", name="Opslaan").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Het profiel van Lotte Claes werd opgeslagen."
    )
    await page.get_by_role("link", name="Profiel bewerken: Lotte Claes").click()
    await expect(page.get_by_label("Functie")).to_have_value("Aankoper catalogus")
    await expect(page.get_by_label("Gsm")).to_have_value("+32470123456")
    await page.context.close()


async def test_a_french_superuser_reads_the_roles_capabilities_and_edits_a_profile(
    browser: Browser, portal_url: str
) -> None:
    page = await superuser(browser, portal_url, "fr-BE")
    assert await page.get_attribute("html", "lang") == "fr"
    # The French page names the organisation in French, although the profile is Dutch.
    await expect(page.get_by_role("banner")).to_contain_text("Ville de Courtrai")
    await expect(page.get_by_role("banner")).not_to_contain_text("Kortrijk")
    start = page.get_by_role("navigation", name="Que voulez-vous faire ?")
    for label in ("Mes demandes", "Mes organisations", "Enregistrer une nouvelle organisation"):
        await expect(start.get_by_role("link", name=label, exact=True)).to_be_visible()
    await start.get_by_role("link", name="Mes organisations").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mes organisations")

    row = await waiting_request(page, "Demandes à traiter")
    assert await row.get_by_role("cell").nth(3).inner_text() in belgian_today("fr")

    await open_member_profile(
        page, "Membres", "Modifier le profil : Lotte Claes", "Modifier le profil : Lotte Claes"
    )
    await page.get_by_label("GSM").fill("+32 2 511 11 11")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.locator("#mobile-error")).to_have_text(
        "Indiquez un numéro de GSM, par exemple 0470 12 34 56."
    )
    await page.get_by_label("GSM").fill("")  # an optional field can be emptied
    await page.get_by_label("Fonction").fill("Acheteuse")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Le profil de Lotte Claes a été enregistré."
    )

    # Next to each role to give, its capabilities (SPEC §4), in French; "Editor" as
    # the manual names it.
    editor = page.get_by_role("checkbox", name="Editor").first
    await expect(editor).to_be_visible()
    description = page.locator("#role-e-notification-editor-description")
    await expect(description.get_by_role("listitem")).to_have_text(["Préparer les avis de marché"])
    superuser_capabilities = page.locator("#role-user-management-superuser-description li")
    await expect(superuser_capabilities).to_have_count(7)
    await expect(superuser_capabilities.nth(1)).to_have_text("Décider des demandes d'adhésion")
    await assert_accessible(page, "members-roles")
    await page.context.close()


async def test_the_helpdesk_page_is_one_click_from_every_footer(
    browser: Browser, portal_url: str
) -> None:
    dutch = await new_page(browser, "nl-BE")
    await dutch.goto(portal_url + "/")
    await dutch.get_by_role("contentinfo").get_by_role("link", name="Helpdesk en contact").click()
    await expect(dutch.get_by_role("heading", level=1)).to_have_text("Helpdesk en contact")
    await expect(dutch.get_by_role("heading", level=2)).to_have_text(
        "Dienst e-Procurement, FOD Beleid en Ondersteuning"
    )
    await expect(dutch.get_by_role("link", name="e.proc@bosa.fgov.be")).to_have_attribute(
        "href", "mailto:e.proc@bosa.fgov.be"
    )
    await expect(dutch.locator("address")).to_contain_text("Simon Bolivarlaan 30 bus 1")
    await assert_accessible(dutch, "helpdesk")
    await dutch.context.close()

    # Logged in, from another page, in French.
    french = await new_page(browser, "fr-BE")
    await french.goto(portal_url + "/_test/login?next=/profile", timeout=60_000)
    await french.get_by_role("contentinfo").get_by_role("link", name="Helpdesk et contact").click()
    await expect(french.get_by_role("heading", level=1)).to_have_text("Helpdesk et contact")
    await expect(french.locator("address")).to_contain_text("Boulevard Simon Bolivar 30 boîte 1")
    await expect(french.locator("address")).to_contain_text("1000 Bruxelles")
    await assert_accessible(french, "helpdesk")
    await french.context.close()


async def test_a_german_journey_helpdesk_start_page_profile_and_roles(
    browser: Browser, portal_url: str
) -> None:
    page = await new_page(browser, "de-BE")
    await page.goto(portal_url + "/")
    assert await page.get_attribute("html", "lang") == "de"
    await page.get_by_role("contentinfo").get_by_role("link", name="Helpdesk und Kontakt").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Helpdesk und Kontakt")
    await expect(page.locator("address")).to_contain_text("1000 Brüssel")
    await assert_accessible(page, "helpdesk")
    await page.context.close()

    page = await superuser(browser, portal_url, "de-BE")
    start = page.get_by_role("navigation", name="Was möchten Sie tun?")
    for label in ("Meine Anträge", "Meine Organisationen", "Eine neue Organisation registrieren"):
        await expect(start.get_by_role("link", name=label, exact=True)).to_be_visible()
    await assert_accessible(page, "home-links")
    row = await waiting_request(page, "Zu entscheidende Anträge")
    assert await row.get_by_role("cell").nth(3).inner_text() in belgian_today("de")

    await open_member_profile(
        page, "Mitglieder", "Profil bearbeiten: Lotte Claes", "Profil bearbeiten: Lotte Claes"
    )
    await page.get_by_label("Mobiltelefon").fill("02 511 11 11")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.locator("#mobile-error")).to_have_text(
        "Geben Sie eine Handynummer an, zum Beispiel 0470 12 34 56."
    )
    await page.get_by_label("Mobiltelefon").fill("0475 98 76 54")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Das Profil von Lotte Claes wurde gespeichert."
    )
    description = page.locator("#role-e-notification-publisher-description")
    await expect(description).to_have_text(
        "Auftragsbekanntmachungen vorbereiten, genehmigen und veröffentlichen"
    )
    await assert_accessible(page, "members-roles")
    await page.context.close()
