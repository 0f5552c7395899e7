"""My profile and the first-login choice, against the real identity and
organisations services."""

from __future__ import annotations

import html
from uuid import UUID

from .conftest import CSRF, Portal
from .test_registration import error_of


async def test_my_profile_shows_my_data_and_the_top_bar(portal: Portal) -> None:
    user = await portal.stack.register(given_name="Els", family_name="Maes", job_title="Aankoper")
    async with portal.client("nl") as client:
        portal.login(client, user)
        page = await client.get("/profile")
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert "<h1>Mijn Profiel</h1>" in text
    assert "U bent aangemeld als <strong>Els Maes</strong>" in text
    assert user["username"] in text
    assert f'value="{user["email"]}"' in text
    assert "Afmelden" in text


async def test_saving_my_profile_changes_it(portal: Portal) -> None:
    user = await portal.stack.register()
    async with portal.client("nl") as client:
        portal.login(client, user)
        saved = await client.post(
            "/profile",
            data={
                "csrf_token": CSRF,
                "email": "new.address@example.be",
                "language": "fr",
                "phone": "+32 9 210 10 10",
                "mobile": "",
                "job_title": "Hoofdaankoper",
            },
        )
        assert saved.status_code == 303
        page = await client.get("/profile")
    text = html.unescape(page.text)
    assert 'value="new.address@example.be"' in text
    # The profile's new language is the page's language from now on.
    assert '<html lang="fr">' in text
    assert "Votre profil a été enregistré." in text


async def test_a_bad_phone_is_a_field_error_and_changes_nothing(portal: Portal) -> None:
    user = await portal.stack.register()
    async with portal.client("fr") as client:
        portal.login(client, user, language="fr")
        response = await client.post(
            "/profile",
            data={
                "csrf_token": CSRF,
                "email": "changed@example.be",
                "language": "nl",
                "phone": "123",
                "mobile": "",
                "job_title": "",
            },
        )
        assert response.status_code == 422
        assert error_of(response.text, "phone") == (
            "Saisissez un numéro de téléphone belge ou international, par exemple +32 2 511 11 11."
        )
        assert error_of(response.text, "email") is None
        profile = await portal.stack.services().identity.my_profile(
            portal.stack.issuer.user_token(UUID(user["id"]))
        )
    assert profile.email == user["email"]
    assert profile.phone == user["phone"]


async def test_a_blank_email_is_required(portal: Portal) -> None:
    user = await portal.stack.register()
    async with portal.client("en") as client:
        portal.login(client, user)
        response = await client.post(
            "/profile",
            data={"csrf_token": CSRF, "email": " ", "language": "en", "phone": "02 511 11 11"},
        )
    assert response.status_code == 422
    assert error_of(response.text, "email") == "This field is required."


async def test_a_user_without_organisation_gets_the_first_login_choice(portal: Portal) -> None:
    user = await portal.stack.register()
    async with portal.client("nl") as client:
        portal.login(client, user)
        home = await client.get("/home")
        assert home.status_code == 303 and home.headers["location"] == "/welcome"
        welcome = await client.get("/welcome")
        text = html.unescape(welcome.text)
        assert "Ik wil een nieuwe organisatie registreren" in text
        assert "Ik wil toetreden tot een organisatie" in text
        assert "Naar de startpagina" in text
        assert "Volgende" in text
        nothing = await client.post("/welcome", data={"csrf_token": CSRF})
        join = await client.post("/welcome", data={"csrf_token": CSRF, "choice": "join"})
    assert nothing.status_code == 422
    assert "Kies een van de mogelijkheden." in html.unescape(nothing.text)
    assert join.status_code == 303 and join.headers["location"] == "/join"


async def test_address_book_add_search_remove_and_field_errors(portal: Portal) -> None:
    user = await portal.stack.register()
    async with portal.client("de") as client:
        portal.login(client, user)
        empty = html.unescape((await client.get("/address-book")).text)
        assert "<h1>Adressbuch</h1>" in empty and "Kein Kontakt gefunden." in empty
        bad = await client.post(
            "/address-book",
            data={"csrf_token": CSRF, "name": "Anne Dupré", "email": "nope", "phone": "1"},
        )
        assert bad.status_code == 422
        assert error_of(bad.text, "email") == (
            "Geben Sie eine E-Mail-Adresse ein, zum Beispiel jan.peeters@example.be."
        )
        assert error_of(bad.text, "phone") is not None
        assert "Kein Kontakt gefunden." in html.unescape(bad.text)
        nameless = await client.post("/address-book", data={"csrf_token": CSRF, "name": " "})
        assert error_of(nameless.text, "name") == "Dieses Feld ist ein Pflichtfeld."
        added = await client.post(
            "/address-book",
            data={
                "csrf_token": CSRF,
                "name": "Anne Dupré",
                "organisation": "Ville de Liège",
                "email": "anne.dupre@example.be",
                "phone": "04 221 00 00",
            },
        )
        assert added.status_code == 303
        found = html.unescape((await client.get("/address-book?q=dupre")).text)
        assert "Ville de Liège" in found
        missed = html.unescape((await client.get("/address-book?q=zzzz")).text)
        assert "Kein Kontakt gefunden." in missed
        import re

        remove = re.search(r'action="(/address-book/[0-9a-f-]+/delete)"', found)
        assert remove is not None
        removed = await client.post(remove.group(1), data={"csrf_token": CSRF})
        assert removed.status_code == 303
        after = html.unescape((await client.get("/address-book")).text)
    assert "Kein Kontakt gefunden." in after
