"""Register a new organisation (R-ORG-3): field-level errors in the user's
language that change nothing, and the request that reaches My requests."""

from __future__ import annotations

import html
import random
from uuid import UUID

import pytest

from eproc_portal.views.organisation_registration import enterprise_number

from .conftest import CSRF, Portal
from .test_registration import error_of


def new_number() -> str:
    body = f"0{random.randrange(1000000, 9999999)}"
    return f"{body[:4]}.{body[4:7]}.{body[7:]}{97 - int(body) % 97:02d}"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0123.456.749", "0123456749"),
        ("0123 456 749", "0123456749"),
        ("0123456749", "0123456749"),
        ("0123.456.748", None),
        ("2123456749", None),
        ("123456749", None),
    ],
)
def test_enterprise_number_check(typed: str, expected: str | None) -> None:
    assert enterprise_number(typed) == expected


async def test_errors_are_field_level_in_french_and_nothing_is_requested(portal: Portal) -> None:
    user = await portal.stack.register()
    token = portal.stack.issuer.user_token(UUID(user["id"]))
    async with portal.client("fr") as client:
        portal.login(client, user)
        page = await client.get("/organisations/register")
        assert page.status_code == 200
        assert "Enregistrer une nouvelle organisation" in html.unescape(page.text)
        assert "Exemple : 0123.456.749" in html.unescape(page.text)
        response = await client.post(
            "/organisations/register",
            data={
                "csrf_token": CSRF,
                "enterprise_number": "0123.456.748",
                "street": "Rue Haute",
                "postcode": "",
                "municipality": "Liège",
            },
        )
    assert response.status_code == 422
    assert error_of(response.text, "name_nl") == (
        "Donnez le nom de l'organisation dans au moins une langue."
    )
    assert error_of(response.text, "enterprise_number") == (
        "Un numéro d'entreprise comporte 10 chiffres avec un nombre de contrôle valide, "
        "par exemple 0123.456.749."
    )
    assert error_of(response.text, "postcode") == "Ce champ est obligatoire."
    assert error_of(response.text, "street") is None
    assert 'value="Rue Haute"' in response.text
    mine = await portal.stack.services().requests.my_requests(token)
    assert mine.in_progress == []


async def test_a_sub_organisation_request_reaches_my_requests(portal: Portal) -> None:
    user = await portal.stack.register()
    parent = await portal.stack.organisation(f"Provincie Antwerpen {random.randrange(10**6)}")
    async with portal.client("nl") as client:
        portal.login(client, user)
        page = await client.get(f"/organisations/register?parent={parent['id']}")
        assert parent["name"] in html.unescape(page.text)
        response = await client.post(
            "/organisations/register",
            data={
                "csrf_token": CSRF,
                "parent_id": parent["id"],
                "name_nl": "Dienst Wegen",
                "enterprise_number": new_number(),
                "street": "Koningin Elisabethlei",
                "number": "22",
                "postcode": "2018",
                "municipality": "Antwerpen",
            },
        )
        assert response.status_code == 303, response.text
        mine = html.unescape((await client.get("/my-requests")).text)
    in_progress = mine.split('id="in-progress"')[1].split('id="finished"')[0]
    assert "Een nieuwe organisatie registreren" in in_progress
    assert "Dienst Wegen" in in_progress
