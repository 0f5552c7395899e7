"""Change my password (R-PWD-1) in the portal, against the real identity service:
offered only to a user who may log in with a password; the policy's and the
form's problems at their fields in the user's language; afterwards only the new
password logs in."""

from __future__ import annotations

import html
from typing import Any
from uuid import UUID

from eproc_identity.service.local_login import set_local_login
from eproc_runtime.db import unit_of_work

from .conftest import CSRF, Portal

PASSWORD = "a long pass phrase 2026"


async def _with_password_login(portal: Portal) -> dict[str, Any]:
    user = await portal.stack.register(password=PASSWORD)
    async with unit_of_work(portal.stack.identity.state.service.sessions) as session:
        await set_local_login(session, UUID(user["id"]), True, caller=None, reason="portal test")
    return user


async def _logs_in(portal: Portal, user: dict[str, Any], password: str) -> bool:
    async with portal.stack.services().identity.http as http:
        response = await http.post(
            "/internal/local-login",
            json={"username": user["username"], "password": password, "source_ip": "192.0.2.9"},
            headers={"Authorization": f"Bearer {portal.stack.issuer.client_token('edge')}"},
        )
    return response.status_code == 200


def _form(current: str, new: str, repeat: str | None = None) -> dict[str, str]:
    return {
        "csrf_token": CSRF,
        "current_password": current,
        "new_password": new,
        "new_password_repeat": new if repeat is None else repeat,
    }


async def test_only_a_password_user_is_offered_the_change(portal: Portal) -> None:
    eid_only = await portal.stack.register()
    async with portal.client("nl") as client:
        portal.login(client, eid_only)
        profile = html.unescape((await client.get("/profile")).text)
        assert "Mijn wachtwoord wijzigen" not in profile
        page = html.unescape((await client.get("/profile/password")).text)
        assert "u meldt zich aan met uw eID-kaart, dus er is geen wachtwoord om te wijzigen" in page
        assert 'name="current_password"' not in page


async def test_a_french_speaker_changes_the_password(portal: Portal) -> None:
    user = await _with_password_login(portal)
    async with portal.client("fr") as client:
        portal.login(client, user, language="fr")
        profile = html.unescape((await client.get("/profile")).text)
        assert 'href="/profile/password">Modifier mon mot de passe' in profile
        form = html.unescape((await client.get("/profile/password")).text)
        assert "Mot de passe actuel" in form and "Répétez le nouveau mot de passe" in form

        for data, message in (
            (_form(PASSWORD, "court"), "Le mot de passe doit comporter au moins 12 caractères."),
            (
                _form("pas le bon mot de passe", "une toute nouvelle phrase"),
                "Le mot de passe actuel n'est pas correct.",
            ),
            (
                _form(PASSWORD, "une toute nouvelle phrase", "une autre phrase"),
                "Les deux nouveaux mots de passe ne sont pas identiques.",
            ),
            (_form("", "une toute nouvelle phrase"), "Ce champ est obligatoire."),
        ):
            refused = await client.post("/profile/password", data=data)
            assert refused.status_code == 422, (data, refused.text)
            assert message in html.unescape(refused.text)
        assert await _logs_in(portal, user, PASSWORD)

        changed = await client.post(
            "/profile/password", data=_form(PASSWORD, "une toute nouvelle phrase")
        )
        assert changed.status_code == 303 and changed.headers["location"] == "/profile"
        after = html.unescape((await client.get("/profile")).text)
        assert "Votre mot de passe a été modifié." in after
    assert await _logs_in(portal, user, "une toute nouvelle phrase")
    assert not await _logs_in(portal, user, PASSWORD)
