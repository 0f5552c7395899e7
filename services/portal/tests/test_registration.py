"""Register as public buyer: the form after the eID step, against the real
identity service. Errors are field-level, in the user's language, and change
nothing (R-REG-2, R-REG-3, R-NF-3)."""

from __future__ import annotations

import html
import re
import time
import uuid
from typing import Any

import httpx

from .conftest import CSRF, Portal


def seed_eid(portal: Portal, client: httpx.AsyncClient, **names: str) -> str:
    """The session as the eID step leaves it (the card read, names known)."""
    token = portal.stack.card.id_token(**names)
    portal.seed(
        client,
        {
            "eid": {
                "id_token": token,
                "given_name": names.get("given_name", "Jan"),
                "family_name": names.get("family_name", "Peeters"),
                "read_at": int(time.time()),
            }
        },
    )
    return token


def form(**overrides: str) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    return {
        "csrf_token": CSRF,
        "email": f"an.{suffix}@example.be",
        "language": "fr",
        "phone": "02 511 11 11",
        "mobile": "",
        "job_title": "Acheteuse",
        "username": f"an.{suffix}",
        "password": "a very long pass phrase",
        **overrides,
    }


def error_of(page: str, field: str) -> str | None:
    """The message linked to ``field`` through aria-describedby, if any."""
    text = html.unescape(page)
    field_tag = re.search(rf'<input id="{field}"[^>]*>|<select id="{field}"[^>]*>', text)
    assert field_tag is not None, f"no field {field}"
    described = re.search(r'aria-describedby="([^"]+)"', field_tag.group(0))
    if not described or f"{field}-error" not in described.group(1).split():
        return None
    message = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', text)
    return message.group(1) if message else None


async def count_users(portal: Portal, username: str) -> int:
    from sqlalchemy import text

    sessions = portal.stack.identity.state.service.sessions
    async with sessions() as session:
        result = await session.execute(
            text("SELECT count(*) FROM user_account WHERE username = :u"), {"u": username}
        )
        return int(result.scalar_one())


async def test_the_eid_step_comes_first(portal: Portal) -> None:
    async with portal.client("nl") as client:
        page = await client.get("/register")
        form_page = await client.get("/register/form")
    assert page.status_code == 200
    assert "Verdergaan" in page.text
    assert 'action="/register/eid"' in page.text
    assert form_page.status_code == 303 and form_page.headers["location"] == "/register"


async def test_the_form_shows_the_card_names_read_only_and_marks_required_fields(
    portal: Portal,
) -> None:
    async with portal.client("nl") as client:
        seed_eid(portal, client, given_name="Anne-Marie", family_name="Dupré")
        page = await client.get("/register/form")
    text = html.unescape(page.text)
    assert page.status_code == 200
    assert re.search(
        r'<input id="given_name" name="given_name" type="text" value="Anne-Marie"[^>]*readonly',
        text,
    )
    assert re.search(r'<input id="family_name"[^>]*value="Dupré"[^>]*readonly', text)
    for required in ("email", "phone", "username", "password"):
        label = re.search(rf'<label for="{required}">([^<]*) <span class="required"', text)
        assert label is not None, required
    assert '<label for="mobile">Gsm</label>' in text  # optional: no asterisk
    assert "Voorbeeld: jan.peeters@example.be" in text
    assert "Voorbeeld: +32 2 511 11 11" in text


async def test_blank_required_fields_get_messages_in_french_and_nothing_is_created(
    portal: Portal,
) -> None:
    data = form(email="", phone="", password="")
    async with portal.client("fr") as client:
        seed_eid(portal, client)
        response = await client.post("/register/form", data=data)
    assert response.status_code == 422
    for field in ("email", "phone", "password"):
        assert error_of(response.text, field) == "Ce champ est obligatoire."
    assert error_of(response.text, "username") is None
    # What was typed is kept, except the password.
    assert f'value="{data["username"]}"' in response.text
    assert "a very long pass phrase" not in response.text
    assert await count_users(portal, data["username"]) == 0


async def test_identity_refuses_bad_formats_field_by_field_in_dutch(portal: Portal) -> None:
    data = form(phone="12", email="not-an-address", username="X!", password="short")
    async with portal.client("nl") as client:
        seed_eid(portal, client)
        response = await client.post("/register/form", data=data)
    assert response.status_code == 422, response.text
    assert error_of(response.text, "phone") == (
        "Geef een Belgisch of internationaal telefoonnummer in, bijvoorbeeld +32 2 511 11 11."
    )
    assert error_of(response.text, "email") == (
        "Geef een e-mailadres in, bijvoorbeeld jan.peeters@example.be."
    )
    assert error_of(response.text, "username") is not None
    assert "Verbeter het volgende" in response.text
    assert await count_users(portal, "x!") == 0


async def test_password_with_the_name_is_refused_in_german(portal: Portal) -> None:
    data = form(password="peeters-is-my-password")
    async with portal.client("de") as client:
        seed_eid(portal, client, given_name="Jan", family_name="Peeters")
        response = await client.post("/register/form", data=data)
    assert response.status_code == 422
    assert error_of(response.text, "password") == "Das Passwort darf Ihren Namen nicht enthalten."
    assert await count_users(portal, data["username"]) == 0


async def test_registration_creates_the_account_and_forgets_the_eid_reading(
    portal: Portal,
) -> None:
    data = form()
    async with portal.client("fr") as client:
        seed_eid(portal, client, given_name="Anne", family_name="Lambert")
        response = await client.post("/register/form", data=data)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/"
        start = await client.get("/")
        session: dict[str, Any] | None = portal.session(client)
    assert "Votre compte a été créé" in html.unescape(start.text)
    assert session is not None and "eid" not in session
    assert await count_users(portal, data["username"]) == 1


async def test_the_same_card_twice_says_already_registered_with_a_login_link(
    portal: Portal,
) -> None:
    async with portal.client("en") as client:
        token = seed_eid(portal, client)
        first = await client.post("/register/form", data=form())
        assert first.status_code == 303
        portal.seed(
            client,
            {
                "eid": {
                    "id_token": token,
                    "given_name": "Jan",
                    "family_name": "Peeters",
                    "read_at": int(time.time()),
                }
            },
        )
        second = await client.post("/register/form", data=form())
    assert second.status_code == 409
    assert "This eID card is already registered" in second.text
    assert 'href="/auth/login"' in second.text


async def test_a_taken_username_is_a_field_error(portal: Portal) -> None:
    taken = form()
    async with portal.client("nl") as client:
        seed_eid(portal, client)
        assert (await client.post("/register/form", data=taken)).status_code == 303
        seed_eid(portal, client)
        response = await client.post("/register/form", data=form(username=taken["username"]))
    assert response.status_code == 422
    assert error_of(response.text, "username") == (
        "Deze gebruikersnaam is al in gebruik; kies een andere."
    )


async def test_the_form_needs_its_csrf_token(portal: Portal) -> None:
    data = form()
    data.pop("csrf_token")
    async with portal.client("nl") as client:
        seed_eid(portal, client)
        response = await client.post("/register/form", data=data)
    assert response.status_code == 403
    assert await count_users(portal, data["username"]) == 0
