"""Change my password (R-PWD-1) in Chromium, by visible labels, in Dutch and then
French: the link under "My profile" for a password-login user, the policy's
message at its field, the French messages after a language switch, the page
saying it is done; axe-core finds no serious or critical violation."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from .browser_kit import assert_accessible, new_page

PASSWORD = "a long enough pass phrase"  # browser_app's registration


async def test_a_password_user_changes_it_in_dutch_and_in_french(
    browser: Browser, portal_url: str
) -> None:
    page = await new_page(browser, "nl-BE")
    await page.goto(portal_url + "/_test/login?password_login=1&next=/profile")
    await page.get_by_role("link", name="Mijn wachtwoord wijzigen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mijn wachtwoord wijzigen")
    await assert_accessible(page, "password")

    await page.get_by_label(re.compile(r"^Huidig wachtwoord")).fill(PASSWORD)
    await page.get_by_label(re.compile(r"^Nieuw wachtwoord(?! herhalen)")).fill("te kort")
    await page.get_by_label(re.compile(r"^Nieuw wachtwoord herhalen")).fill("te kort")
    await page.get_by_role("button", name="Mijn wachtwoord wijzigen").click()
    new = page.get_by_label(re.compile(r"^Nieuw wachtwoord(?! herhalen)"))
    await expect(new).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#new_password-error")).to_have_text(
        "Het wachtwoord moet minstens 12 tekens lang zijn."
    )
    await assert_accessible(page, "password-refused")

    await page.get_by_role("button", name="Français").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Modifier mon mot de passe")
    await page.get_by_label(re.compile(r"^Mot de passe actuel")).fill("pas le bon")
    await page.get_by_label(re.compile(r"^Nouveau mot de passe")).fill("une toute nouvelle phrase")
    await page.get_by_label(re.compile(r"^Répétez le nouveau mot de passe")).fill(
        "une toute nouvelle phrase"
    )
    await page.get_by_role("button", name="Modifier mon mot de passe").click()
    await expect(page.locator("#current_password-error")).to_have_text(
        "Le mot de passe actuel n'est pas correct."
    )
    await page.get_by_label(re.compile(r"^Mot de passe actuel")).fill(PASSWORD)
    await page.get_by_label(re.compile(r"^Nouveau mot de passe")).fill("une toute nouvelle phrase")
    await page.get_by_label(re.compile(r"^Répétez le nouveau mot de passe")).fill(
        "une toute nouvelle phrase"
    )
    await page.get_by_role("button", name="Modifier mon mot de passe").click()
    await expect(page.get_by_text("Votre mot de passe a été modifié.")).to_be_visible()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon profil")
    await assert_accessible(page, "password-changed")
    await page.context.close()
