"""The operator console in Chromium (R-OP-1, issue 19 point 8), by visible labels in
nl and fr (and one journey in de): account search by name and by organisation, the
person's memberships and switches, the decisions on top-level registrations with
their confirmation, and the audit view with names and Belgian local times. Then
issue 19 point 9: a sub-organisation registered under a parent picked by search and
tree, decided by the parent's Superuser. axe on every page."""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from playwright.async_api import Browser, Page, expect

from .browser_kit import assert_accessible, new_page
from .browser_names import RESERVED

UUID_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

WORDS = {
    "nl": {
        "console": "Beheerconsole",
        "accounts": "Accounts zoeken",
        "search_for": "Zoeken naar",
        "search": "Zoeken",
        "by_organisation": "Naam organisatie of ondernemingsnummer",
        "required": "Dit veld is verplicht.",
        "local_login": "Lokaal aanmelden",
        "operator": "Platformbeheerder",
        "reason": "Reden",
        "local_on": "Lokaal aanmelden aanzetten",
        "local_changed": "Lokaal aanmelden werd gewijzigd.",
        "make_operator": "Platformbeheerder maken",
        "operator_changed": "De rol van platformbeheerder werd gewijzigd.",
        "now_on": "Nu: aan",
        "now_yes": "Nu: ja",
        "user_management": "Gebruikersbeheer",
        "person_trail": "Audittrail van deze persoon",
        "switched": "Lokaal aanmelden gewijzigd",
        "registrations": "Registraties van hoofdorganisaties",
        "view": "Bekijken",
        "approve": "Goedkeuren",
        "reject": "Afkeuren",
        "reason_required": "Geef de reden van de afkeuring: de aanvrager krijgt ze te zien.",
        "yes_reject": "Ja, afkeuren",
        "yes_approve": "Ja, goedkeuren",
        "rejected": "werd afgekeurd",
        "approved": "werd goedgekeurd",
        "becomes_superuser": "wordt er Superuser van",
        "audit": "Audittrail",
        "organisation": "Organisatie",
        "from": "Van",
        "until": "Tot",
        "not_before": "Deze datum mag niet vóór de eerste liggen.",
        "registered": "Organisatie geregistreerd",
        "name_nl": "Naam in het Nederlands",
        "number": "Ondernemingsnummer",
        "street": "Straat",
        "postcode": "Postcode",
        "municipality": "Gemeente",
        "save": "Opslaan",
        "choose_parent": "De bovenliggende organisatie kiezen",
        "parent_name": "Naam van de bovenliggende organisatie",
        "show_in_tree": "Tonen in de boom",
        "next": "Volgende",
        "sub_of": "Suborganisatie van:",
        "unknown_parent": "Deze bovenliggende organisatie bestaat niet (meer).",
        "parent": "Bovenliggende organisatie",
    },
    "fr": {
        "console": "Console d'administration",
        "accounts": "Rechercher des comptes",
        "search_for": "Rechercher",
        "search": "Rechercher",
        "by_organisation": "Nom de l'organisation ou numéro d'entreprise",
        "required": "Ce champ est obligatoire.",
        "local_login": "Connexion locale",
        "operator": "Opérateur de la plateforme",
        "reason": "Motif",
        "local_on": "Activer la connexion locale",
        "local_changed": "La connexion locale a été modifiée.",
        "make_operator": "Nommer opérateur de la plateforme",
        "operator_changed": "Le rôle d'opérateur de la plateforme a été modifié.",
        "now_on": "Actuellement : activée",
        "now_yes": "Actuellement : oui",
        "user_management": "Gestion des utilisateurs",
        "person_trail": "Journal d'audit de cette personne",
        "switched": "Connexion locale modifiée",
        "registrations": "Enregistrements d'organisations principales",
        "view": "Voir",
        "approve": "Approuver",
        "reject": "Refuser",
        "reason_required": "Indiquez le motif du refus : le demandeur le verra.",
        "yes_reject": "Oui, refuser",
        "yes_approve": "Oui, approuver",
        "rejected": "a été refusé",
        "approved": "a été approuvé",
        "becomes_superuser": "en devient le Superuser",
        "audit": "Piste d'audit",
        "organisation": "Organisation",
        "from": "Du",
        "until": "Au",
        "not_before": "Cette date ne peut pas précéder la première.",
        "registered": "Organisation enregistrée",
        "name_nl": "Nom en néerlandais",
        "number": "Numéro d'entreprise",
        "street": "Rue",
        "postcode": "Code postal",
        "municipality": "Commune",
        "save": "Enregistrer",
        "choose_parent": "Choisir l'organisation parente",
        "parent_name": "Nom de l'organisation parente",
        "show_in_tree": "Afficher dans l'arbre",
        "next": "Suivant",
        "sub_of": "Sous-organisation de :",
        "unknown_parent": "Cette organisation parente n'existe pas (ou plus).",
        "parent": "Organisation parente",
    },
    "de": {
        "console": "Verwaltungskonsole",
        "accounts": "Konten suchen",
        "search_for": "Suchbegriff",
        "search": "Suchen",
        "by_organisation": "Name der Organisation oder Unternehmensnummer",
        "required": "Dieses Feld ist ein Pflichtfeld.",
        "local_login": "Lokale Anmeldung",
        "operator": "Plattformbetreiber",
        "reason": "Grund",
        "local_on": "Lokale Anmeldung einschalten",
        "local_changed": "Die lokale Anmeldung wurde geändert.",
        "make_operator": "Zum Plattformbetreiber machen",
        "operator_changed": "Die Rolle als Plattformbetreiber wurde geändert.",
        "now_on": "Jetzt: ein",
        "now_yes": "Jetzt: ja",
        "user_management": "Benutzerverwaltung",
        "person_trail": "Prüfprotokoll dieser Person",
        "switched": "Lokale Anmeldung geändert",
    },
}


# Realistic names, one set per language (each test runs once per language and
# session, on the browser tests' fresh databases).
PEOPLE = {"nl": ("Griet", "Vandamme"), "fr": ("Géraldine", "Dubois"), "de": ("Gerda", "Schmitz")}
REGISTRATIONS = {
    "nl": ("Intercommunale Leiedal", "Politiezone Schelde-Leie"),
    "fr": ("Intercommunale de Mons-Borinage", "Zone de police Mons-Quévy"),
}
CHILDREN = {"nl": "Dienst Burgerzaken", "fr": "Service Population"}
# The organisations these tests search for, by name: their own cities.
ACCOUNT_CITIES = {"nl": RESERVED["Gent"], "fr": RESERVED["Luik"], "de": RESERVED["Eupen"]}
PARENT_CITIES = {"nl": RESERVED["Turnhout"], "fr": RESERVED["Doornik"]}


def words(language: str) -> dict[str, str]:
    return WORDS[language]


def enterprise_number() -> str:
    """A valid, random enterprise number (mod 97, starting with 0)."""
    body = random.randrange(2_000_000, 9_999_999)
    return f"0{body:07d}{97 - body % 97:02d}"


def brussels_day(language: str) -> str:
    """Today as the audit view writes it (Belgian local time, the page's language)."""
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    return format_date(today, "long", locale=f"{language}_BE")


async def main_text(page: Page) -> str:
    return await page.locator("main").inner_text()


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE", "de-BE"])
async def test_account_search_memberships_and_switches(
    browser: Browser, portal_url: str, locale: str
) -> None:
    language = locale[:2]
    w = words(language)
    city = ACCOUNT_CITIES[language]
    given, family = PEOPLE[language]
    person = await new_page(browser, locale)
    await person.goto(
        f"{portal_url}/_test/login?organisations=1&city={city.nl}&given_name={given}"
        f"&family_name={family}&next=/profile"
    )
    await person.locator("h1").wait_for()
    await person.context.close()
    # The organisation's name as the page's language shows it.
    organisation = city.city()[language]

    page = await new_page(browser, locale)
    # An operator without organisations starts at the console.
    await page.goto(f"{portal_url}/_test/login?operator=1&next=/home")
    await expect(page.get_by_role("heading", level=1)).to_have_text(w["console"])
    await assert_accessible(page, "operator-console")

    await page.get_by_role("main").get_by_role("link", name=w["accounts"]).click()
    await page.get_by_label(w["search_for"]).fill(family.lower())
    await page.get_by_role("button", name=w["search"]).click()
    result = page.get_by_role("link", name=f"{given} {family}")
    await expect(result).to_be_visible()
    await assert_accessible(page, "operator-accounts")
    # By organisation: the same person, with the organisation beside.
    await page.get_by_label(w["by_organisation"]).check()
    # By its Dutch name, whatever the page's language.
    await page.get_by_label(w["search_for"]).fill(city.city()["nl"])
    await page.get_by_role("button", name=w["search"]).click()
    row = page.get_by_role("row").filter(has_text=f"{given} {family}")
    await expect(row).to_contain_text(organisation)
    await assert_accessible(page, "operator-accounts-by-organisation")

    await row.get_by_role("link", name=f"{given} {family}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{given} {family}")
    # The roles by name in the page's language, never as codes.
    membership = page.get_by_role("row").filter(has_text=organisation)
    await expect(membership).to_contain_text(w["user_management"])
    assert "user-management" not in await membership.inner_text()
    assert UUID_SHAPE.search(await main_text(page)) is None
    await assert_accessible(page, "operator-account")

    local = page.get_by_role("region", name=w["local_login"])
    await local.get_by_role("button", name=w["local_on"]).click()
    await expect(local.get_by_text(w["required"])).to_be_visible()
    await expect(local.get_by_label(w["reason"])).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, "operator-account-reason-required")
    await local.get_by_label(w["reason"]).fill("Geen eID-lezer / pas de lecteur eID")
    await local.get_by_role("button", name=w["local_on"]).click()
    await expect(page.get_by_role("status")).to_have_text(w["local_changed"])
    await expect(page.get_by_role("region", name=w["local_login"])).to_contain_text(w["now_on"])

    operator = page.get_by_role("region", name=w["operator"])
    await operator.get_by_label(w["reason"]).fill("Nieuwe helpdeskmedewerker")
    await operator.get_by_role("button", name=w["make_operator"]).click()
    await expect(page.get_by_role("status")).to_have_text(w["operator_changed"])
    await expect(page.get_by_role("region", name=w["operator"])).to_contain_text(w["now_yes"])

    # The person's trail: the switch, by name, in Belgian local time.
    await page.get_by_role("link", name=w["person_trail"]).click()
    switched = page.get_by_role("row").filter(has_text=w["switched"])
    await expect(switched).to_contain_text(f"{given} {family}")
    await expect(switched).to_contain_text(brussels_day(language))
    await expect(switched).to_contain_text("Els Maes")
    assert UUID_SHAPE.search(await main_text(page)) is None
    await assert_accessible(page, "operator-audit-person")
    await page.context.close()


async def register_top_level(browser: Browser, portal_url: str, locale: str, name: str) -> None:
    w = words(locale[:2])
    page = await new_page(browser, locale)
    await page.goto(
        f"{portal_url}/_test/login?given_name=Wim&family_name=Claes&next=/organisations/register"
    )
    await page.get_by_label(w["name_nl"]).fill(name)
    await page.get_by_label(w["number"]).fill(enterprise_number())
    await page.get_by_label(w["street"]).fill("Kerkstraat")
    await page.get_by_label(re.compile("^" + w["postcode"])).fill("9000")
    await page.get_by_label(w["municipality"]).fill("Gent")
    await page.get_by_role("button", name=w["save"]).click()
    await expect(page).to_have_url(re.compile(r"/my-requests$"))
    await page.context.close()


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_operators_decide_top_level_registrations(
    browser: Browser, portal_url: str, locale: str
) -> None:
    w = words(locale[:2])
    refused, accepted = REGISTRATIONS[locale[:2]]
    await register_top_level(browser, portal_url, locale, refused)
    await register_top_level(browser, portal_url, locale, accepted)

    page = await new_page(browser, locale)
    await page.goto(f"{portal_url}/_test/login?operator=1&next=/operator")
    await page.get_by_role("main").get_by_role("link", name=w["registrations"]).click()
    await expect(page.get_by_role("row").filter(has_text=refused)).to_contain_text("Wim Claes")
    await assert_accessible(page, "operator-registrations")

    # Reject: a reason is required, then a confirmation says what happens.
    await page.get_by_role("link", name=f"{w['view']} {refused}").click()
    await assert_accessible(page, "operator-registration")
    await page.get_by_role("button", name=w["reject"]).click()
    await expect(page.locator("#reason-error")).to_have_text(w["reason_required"])
    await assert_accessible(page, "operator-registration-reason-required")
    await page.locator("textarea#reason").fill("Geen openbare organisatie / pas un pouvoir public")
    await page.get_by_role("button", name=w["reject"]).click()
    await expect(page.get_by_role("alert")).to_contain_text("Wim Claes")
    await expect(page.get_by_role("alert")).to_contain_text("pas un pouvoir public")
    await assert_accessible(page, "operator-registration-confirm-reject")
    await page.get_by_role("button", name=w["yes_reject"]).click()
    await expect(page.get_by_role("status")).to_contain_text(w["rejected"])
    await expect(page.get_by_role("row").filter(has_text=refused)).to_have_count(0)

    # Approve: the confirmation spells out who becomes Superuser of what.
    await page.get_by_role("link", name=f"{w['view']} {accepted}").click()
    await page.get_by_role("button", name=w["approve"]).click()
    await expect(page.get_by_role("alert")).to_contain_text(w["becomes_superuser"])
    await assert_accessible(page, "operator-registration-confirm-approve")
    await page.get_by_role("button", name=w["yes_approve"]).click()
    await expect(page.get_by_role("status")).to_contain_text(w["approved"])

    # The audit view, filtered by the organisation's name: registered, by name.
    await page.goto(f"{portal_url}/operator/audit")
    await page.get_by_label(w["from"]).fill("2026-12-31")
    await page.get_by_label(w["until"]).fill("2026-01-01")
    await page.get_by_role("button", name=w["search"]).click()
    await expect(page.locator("#until-error")).to_have_text(w["not_before"])
    await assert_accessible(page, "operator-audit-errors")
    await page.get_by_label(w["from"]).fill("")
    await page.get_by_label(w["until"]).fill("")
    await page.get_by_label(w["organisation"], exact=True).fill(accepted)
    for _ in range(50):  # the organisations service applies the approval from the bus
        await page.get_by_role("button", name=w["search"]).click()
        if await page.get_by_role("row").filter(has_text=w["registered"]).count():
            break
        await page.wait_for_timeout(200)
    registered = page.get_by_role("row").filter(has_text=w["registered"])
    await expect(registered).to_contain_text(accepted)
    await expect(registered).to_contain_text("Wim Claes")
    assert UUID_SHAPE.search(await main_text(page)) is None
    await assert_accessible(page, "operator-audit")
    await page.context.close()


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_a_sub_organisation_under_a_picked_parent_is_decided_by_its_superuser(
    browser: Browser, portal_url: str, locale: str
) -> None:
    w = words(locale[:2])
    city = PARENT_CITIES[locale[:2]]
    superuser = await new_page(browser, locale)
    await superuser.goto(
        f"{portal_url}/_test/login?organisations=1&city={city.nl}&given_name=Sofie"
        f"&family_name=Desmet&next=/my-organisations"
    )
    await superuser.locator("h1").wait_for()
    parent = city.city()[locale[:2]]

    page = await new_page(browser, locale)
    await page.goto(f"{portal_url}/_test/login?given_name=Pieter&family_name=Wuyts&next=/home")
    # An unknown parent is refused beside the place, not dropped silently.
    await page.goto(f"{portal_url}/organisations/register?parent={uuid.uuid4()}")
    await expect(page.locator("#parent_id")).to_contain_text(w["unknown_parent"])
    await assert_accessible(page, "register-organisation-unknown-parent")

    await page.get_by_role("link", name=w["choose_parent"]).click()
    await page.get_by_label(w["parent_name"]).fill(parent)
    await page.get_by_role("button", name=w["search"]).click()
    await assert_accessible(page, "register-organisation-parent-search")
    # From the hit to the tree, where the parent is picked.
    await page.get_by_role("link", name=f"{w['show_in_tree']} {parent}").click()
    in_tree = page.locator(".tree .node.highlight input[type=radio]")
    await expect(in_tree).to_be_checked()
    await assert_accessible(page, "register-organisation-parent-tree")
    await page.get_by_role("button", name=w["next"]).click()
    await expect(page.get_by_text(w["sub_of"])).to_be_visible()
    await expect(page.locator(".place strong")).to_have_text(parent)
    child = CHILDREN[locale[:2]]
    await page.get_by_label(w["name_nl"]).fill(child)
    await page.get_by_label(w["number"]).fill(enterprise_number())
    await page.get_by_label(w["street"]).fill("Botermarkt")
    await page.get_by_label(re.compile("^" + w["postcode"])).fill("9000")
    await page.get_by_label(w["municipality"]).fill("Gent")
    await page.get_by_role("button", name=w["save"]).click()
    await expect(page).to_have_url(re.compile(r"/my-requests$"))

    # The parent's Superuser decides it (the requests service learns who that is
    # from the bus: the inbox fills shortly).
    row = superuser.get_by_role("row").filter(has_text=child)
    link = row.locator("a[href^='/superuser/requests/']")
    for _ in range(50):
        await superuser.goto(portal_url + "/superuser/requests")
        if await link.count():
            break
        await superuser.wait_for_timeout(200)
    await link.first.click()
    await expect(superuser.locator("dl.facts")).to_contain_text(parent)
    await superuser.get_by_role("button", name=w["approve"]).click()
    await superuser.locator(".notice").wait_for()

    # Approved: the requester is the new sub-organisation's Superuser.
    for _ in range(50):
        await page.goto(portal_url + "/my-organisations")
        if await page.get_by_text(child).count():
            break
        await page.wait_for_timeout(200)
    await expect(page.get_by_text(child).first).to_be_visible()
    await page.context.close()
    await superuser.context.close()
