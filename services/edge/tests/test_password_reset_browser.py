"""The password reset pages as a person sees them, in Debian's Chromium (R-PWD-1,
R-I18N-1): "Forgot password?" next to the password form, the request, the
"check your mailbox" answer, the link's page with the policy's messages at the
field, the done page, and a used link's page, in French and in Dutch; axe-core
finds no serious or critical violation on any of them."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, expect

from .conftest import EdgeServer
from .test_login_pages_browser import RETURN_TO, assert_accessible, chromium, person

pytestmark = pytest.mark.integration

__all__ = ["chromium"]  # the module's browser fixture, shared

WORDS = {
    "fr": {
        "login": "Se connecter",
        "forgot": "Mot de passe oublié ?",
        "field": "Nom d'utilisateur ou adresse e-mail",
        "send": "Envoyer le lien",
        "sent": "Consultez votre boîte mail",
        "new": "Nouveau mot de passe",
        "repeat": "Répétez le nouveau mot de passe",
        "save": "Enregistrer le mot de passe",
        "too_short": "Le mot de passe doit comporter au moins 12 caractères.",
        "done": "Mot de passe modifié",
        "used": "Ce lien a déjà été utilisé",
        "again": "Demander un nouveau lien",
    },
    "nl": {
        "login": "Aanmelden",
        "forgot": "Wachtwoord vergeten?",
        "field": "Gebruikersnaam of e-mailadres",
        "send": "Link versturen",
        "sent": "Kijk in uw mailbox",
        "new": "Nieuw wachtwoord",
        "repeat": "Nieuw wachtwoord herhalen",
        "save": "Wachtwoord opslaan",
        "too_short": "Het wachtwoord moet minstens 12 tekens lang zijn.",
        "done": "Wachtwoord gewijzigd",
        "used": "Deze link werd al gebruikt",
        "again": "Een nieuwe link aanvragen",
    },
}


@pytest.mark.parametrize("language", ["fr", "nl"])
async def test_a_person_resets_a_forgotten_password_with_the_mailed_link(
    chromium: Browser, edge_server: EdgeServer, language: str
) -> None:
    w = WORDS[language]
    user = await edge_server.create_user()
    page = await person(chromium, edge_server, f"{language}-BE")
    await page.goto(
        f"{edge_server.base_url}/login/password?return_to={quote(RETURN_TO)}&lang={language}"
    )
    await page.get_by_role("link", name=w["forgot"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(w["forgot"].rstrip(" ?"))
    assert await page.get_attribute("html", "lang") == language
    await assert_accessible(page, "forgot")
    await page.get_by_role("button", name=w["send"]).click()
    await expect(page.get_by_role("alert")).to_contain_text(w["field"])
    await page.get_by_label(w["field"]).fill(f"{user.username}@example.be")
    await page.get_by_role("button", name=w["send"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(w["sent"])
    await assert_accessible(page, "forgot-sent")
    assert edge_server.identity.reset_requests[-1][0] == f"{user.username}@example.be"

    # The mail's link (identity made it; here its stand-in knows it).
    token = uuid.uuid4().hex
    edge_server.identity.reset_links[token] = (user.username, language)
    link = f"{edge_server.base_url}/login/reset?lang={language}&token={token}"
    await page.goto(link)
    await page.get_by_label(w["new"], exact=True).fill("short")
    await page.get_by_label(w["repeat"]).fill("short")
    await page.get_by_role("button", name=w["save"]).click()
    new_password = page.get_by_label(w["new"], exact=True)
    await expect(new_password).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#new_password-error")).to_have_text(w["too_short"])
    await assert_accessible(page, "reset-refused")
    await new_password.fill("a brand new phrase 42")
    await page.get_by_label(w["repeat"]).fill("a brand new phrase 42")
    await page.get_by_role("button", name=w["save"]).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(w["done"])
    await expect(page.get_by_role("link", name=w["login"])).to_be_visible()
    await assert_accessible(page, "reset-done")
    assert edge_server.identity.users[user.username][0] == "a brand new phrase 42"

    # The same link again: a page that says so, and the way to a new one.
    await page.goto(link)
    await expect(page.get_by_role("alert")).to_contain_text(w["used"])
    await assert_accessible(page, "reset-used")
    await page.get_by_role("link", name=w["again"]).click()
    await expect(page.get_by_label(w["field"])).to_be_visible()
    await page.context.close()
