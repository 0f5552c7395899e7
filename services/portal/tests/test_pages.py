"""The start page, languages, security headers, CSRF and error pages."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from .conftest import CSRF, Portal


@pytest.mark.parametrize(
    ("accept", "lang", "register", "login"),
    [
        ("nl-BE,nl;q=0.9", "nl", "Registreren als Openbare Aankoper", "Aanmelden"),
        ("fr-BE,fr;q=0.9,en;q=0.5", "fr", "S'enregistrer comme acheteur public", "Se connecter"),
        ("de-DE", "de", "Als öffentlicher Auftraggeber registrieren", "Anmelden"),
        ("en-GB,en;q=0.8", "en", "Register as public buyer", "Log in"),
        ("es-ES", "nl", "Registreren als Openbare Aankoper", "Aanmelden"),
    ],
)
async def test_start_page_speaks_the_browsers_language(
    portal: Portal, accept: str, lang: str, register: str, login: str
) -> None:
    async with portal.client(accept) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in response.text
    assert register in html.unescape(response.text)
    assert login in response.text
    assert 'href="/register"' in response.text
    assert 'href="/auth/login"' in response.text


async def test_language_switcher_sets_a_cookie_and_returns_to_the_page(portal: Portal) -> None:
    async with portal.client("nl") as client:
        page = await client.get("/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        switched = await client.post(
            "/language", data={"csrf_token": token.group(1), "language": "fr", "next": "/"}
        )
        assert switched.status_code == 303
        assert switched.headers["location"] == "/"
        cookie = switched.headers["set-cookie"]
        assert "eproc_lang=fr" in cookie
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        again = await client.get("/")
    assert '<html lang="fr">' in again.text
    assert "Se connecter" in again.text


async def test_language_switch_never_redirects_to_another_site(portal: Portal) -> None:
    async with portal.client("nl") as client:
        portal.seed(client, {})
        response = await client.post(
            "/language",
            data={"csrf_token": CSRF, "language": "en", "next": "https://evil.example/"},
        )
    assert response.headers["location"] == "/"


async def test_every_page_has_the_security_headers(portal: Portal) -> None:
    async with portal.client() as client:
        response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text and "style=" not in response.text


async def test_session_cookie_is_httponly_samesite_and_opaque(portal: Portal) -> None:
    async with portal.client() as client:
        response = await client.get("/")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("eproc_portal=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    # Served over http in this test: no Secure flag; the next test checks https.
    assert "Secure" not in cookie


async def test_cookies_are_secure_when_the_portal_is_served_over_https(portal: Portal) -> None:
    from eproc_portal.main import create_app
    from eproc_portal.settings import Settings

    app = create_app(
        Settings(public_url="https://portal.example", log_json=True),
        services=portal.stack.services(),
    )
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://portal.example"
    ) as client:
        response = await client.get("/")
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("nl", "Dit formulier is verlopen"),
        ("fr", "Ce formulaire a expiré"),
        ("de", "Dieses Formular ist abgelaufen"),
        ("en", "This form has expired"),
    ],
)
async def test_a_form_without_its_csrf_token_is_refused_in_the_users_language(
    portal: Portal, lang: str, message: str
) -> None:
    async with portal.client(lang) as client:
        portal.seed(client, {})
        missing = await client.post("/language", data={"language": "fr", "next": "/"})
        wrong = await client.post(
            "/language", data={"csrf_token": "forged", "language": "fr", "next": "/"}
        )
    for response in (missing, wrong):
        assert response.status_code == 403
        assert message in response.text
        assert "set-cookie" not in response.headers or "eproc_lang" not in response.headers.get(
            "set-cookie", ""
        )


async def test_unknown_page_is_a_translated_404(portal: Portal) -> None:
    async with portal.client("fr") as client:
        response = await client.get("/nowhere")
    assert response.status_code == 404
    assert "Cette page n'existe pas." in html.unescape(response.text)


async def test_a_malformed_address_is_a_page_in_the_users_language_never_json(
    portal: Portal,
) -> None:
    user = {"id": str(uuid.uuid4()), "given_name": "Anna", "family_name": "Weber"}
    async with portal.client("de") as client:
        portal.login(client, user, language="de")
        bad_id = await client.get("/my-requests/not-a-uuid")
        bad_form = await client.post("/my-requests/not-a-uuid/withdraw", data={"csrf_token": CSRF})
    for response in (bad_id, bad_form):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Diese Seite existiert nicht." in html.unescape(response.text)


@pytest.mark.parametrize(
    "path", ["/home", "/profile", "/join", "/my-requests", "/my-organisations", "/welcome"]
)
async def test_pages_for_users_send_visitors_to_the_login(portal: Portal, path: str) -> None:
    async with portal.client() as client:
        response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/auth/login?next={path}"


async def test_login_while_the_edge_is_unreachable_says_so_in_the_users_language(
    portal: Portal,
) -> None:
    async with portal.client("fr") as client:
        response = await client.get("/auth/login")
    assert response.status_code == 502
    assert "Le service n'est pas disponible pour le moment." in html.unescape(response.text)
