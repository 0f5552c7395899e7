"""The operator's applications screen (issue 20, R-APP-1) in Chromium, in Dutch and
French, by its visible labels, over the real edge (PostgreSQL, Kafka): the
operator logs in through the edge, registers an application with two roles in the
same step (a bad address and a role without its German capability are refused
field by field first), reads its secret once; a relying party then logs a user in
through it without any restart; a role is renamed; rotating shows a new secret
while the old one keeps working until it is retired; disabling refuses the
client."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from eproc_edge.main import create_app as create_edge
from eproc_edge.settings import ClientConfig
from eproc_edge.settings import Settings as EdgeSettings
from eproc_edge_testkit import EdgeWorld, FakeIdentity, LocalUser
from eproc_portal.clients.edge import EdgeClient
from eproc_portal.clients.identity import IdentityClient
from eproc_portal.clients.organisations import OrganisationsClient
from eproc_portal.clients.requests import RequestsClient
from eproc_portal.main import create_app as create_portal
from eproc_portal.sessions import MemorySessionStore
from eproc_portal.settings import Settings as PortalSettings
from eproc_portal.web import Services
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.infra import free_port
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.servers import serving

from .browser_kit import assert_accessible, new_page

PORTAL_SECRET = "portal-secret-for-the-registry-screen"

LABELS = {
    "nl": {
        "language": "Nederlands",
        "login_username": "Gebruikersnaam",
        "login_password": "Wachtwoord",
        "login_submit": "Aanmelden",
        "heading": "Toepassingen",
        "register": "Een toepassing registreren",
        "client_id": "Client-id",
        "names": ["Naam in het Nederlands", "Naam in het Frans", "Naam in het Duits",
                  "Naam in het Engels"],
        "redirects": "Terugkeeradressen",
        "home": "Startpagina",
        "login": "Aanmeldadres",
        "submit": "Registreren",
        "https_error": "Geef een https-adres",
        "secret": "Clientgeheim",
        "back": "Terug naar de toepassing",
        "rotate": "Het geheim vernieuwen",
        "retire": "Het oude geheim intrekken",
        "retired": "Het oude geheim werkt niet meer.",
        "disable": "De toepassing uitschakelen",
        "disabled": "Uitgeschakeld",
        "new_role": "Nieuwe rol",
        "role_id": "Rol-id",
        "role_names": ["Nederlandse naam van de rol", "Franse naam van de rol",
                       "Duitse naam van de rol", "Engelse naam van de rol"],
        "role_does": ["Wat de rol mag, in het Nederlands", "Wat de rol mag, in het Frans",
                      "Wat de rol mag, in het Duits", "Wat de rol mag, in het Engels"],
        "required": "Dit veld is verplicht.",
        "role": "Rol",
        "save": "Opslaan",
        "changed": "De toepassing is gewijzigd.",
    },
    "fr": {
        "language": "Français",
        "login_username": "Nom d'utilisateur",
        "login_password": "Mot de passe",
        "login_submit": "Se connecter",
        "heading": "Applications",
        "register": "Enregistrer une application",
        "client_id": "Identifiant client",
        "names": ["Nom en néerlandais", "Nom en français", "Nom en allemand", "Nom en anglais"],
        "redirects": "Adresses de retour",
        "home": "Page d'accueil",
        "login": "Adresse de connexion",
        "submit": "Enregistrer",
        "https_error": "Indiquez une adresse https",
        "secret": "Secret client",
        "back": "Retour à l'application",
        "rotate": "Renouveler le secret",
        "retire": "Retirer l'ancien secret",
        "retired": "L'ancien secret ne fonctionne plus.",
        "disable": "Désactiver l'application",
        "disabled": "Désactivée",
        "new_role": "Nouveau rôle",
        "role_id": "Identifiant du rôle",
        "role_names": ["Nom néerlandais du rôle", "Nom français du rôle", "Nom allemand du rôle",
                       "Nom anglais du rôle"],
        "role_does": ["Ce que le rôle permet, en néerlandais", "Ce que le rôle permet, en français",
                      "Ce que le rôle permet, en allemand", "Ce que le rôle permet, en anglais"],
        "required": "Ce champ est obligatoire.",
        "role": "Rôle",
        "save": "Enregistrer",
        "changed": "L'application a été modifiée.",
    },
}  # fmt: skip


# name and capability per language (nl, fr, de, en)
ROLES = {
    "inspector": [("Keurder", "Leveringen keuren"), ("Inspecteur", "Réceptionner les livraisons"),
                  ("Prüfer", "Lieferungen prüfen"), ("Inspector", "Inspect deliveries")],
    "approver": [("Goedkeurder", "Bestellingen goedkeuren"),
                 ("Approbateur", "Approuver les commandes"),
                 ("Genehmiger", "Bestellungen genehmigen"), ("Approver", "Approve orders")],
}  # fmt: skip


@dataclass
class Platform:
    edge_url: str
    portal_url: str
    world: EdgeWorld
    operator: LocalUser


@pytest.fixture(scope="module")
async def platform(
    create_database: CreateDatabase, kafka_bootstrap: str
) -> AsyncIterator[Platform]:
    url = await create_database("portal_registry")
    await upgrade_async("eproc_edge", url)
    edge_port, portal_port = free_port(), free_port()
    # Two host names: the edge's and the portal's cookies stay apart, as on two sites.
    edge_url = f"http://127.0.0.1:{edge_port}"
    portal_url = f"http://localhost:{portal_port}"
    settings = EdgeSettings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        token_issuer=edge_url,
        session_cookie_secure=False,
        clients=[
            ClientConfig(
                client_id="portal",
                client_secret=PORTAL_SECRET,
                name="User management",
                application="user-management",
                redirect_uris=[f"{portal_url}/auth/callback"],
                post_logout_redirect_uris=[f"{portal_url}/"],
                home_url=f"{portal_url}/",
                login_url=f"{portal_url}/auth/login",
                resource_servers=["eproc"],
            )
        ],
        log_json=False,
        log_level="WARNING",
    )
    identity = FakeIdentity()
    edge = create_edge(settings, identity=identity)
    portal_settings = PortalSettings(
        public_url=portal_url,
        oidc_issuer=edge_url,
        oidc_client_id="portal",
        oidc_client_secret=PORTAL_SECRET,
        oidc_redirect_uri=f"{portal_url}/auth/callback",
        log_json=False,
    )
    nowhere = "http://127.0.0.1:9"  # the screen calls only the edge
    services = Services(
        identity=IdentityClient(httpx.AsyncClient(base_url=nowhere)),
        organisations=OrganisationsClient(httpx.AsyncClient(base_url=nowhere)),
        requests=RequestsClient(httpx.AsyncClient(base_url=nowhere)),
        edge=EdgeClient(httpx.AsyncClient(base_url=edge_url, timeout=10)),
    )
    portal = create_portal(portal_settings, services=services, session_store=MemorySessionStore())
    async with serving(edge, edge_port), serving(portal, portal_port):
        world = EdgeWorld(edge_url, edge, identity, settings)
        operator = await world.create_user()
        identity.operators.add(operator.id)
        yield Platform(edge_url, portal_url, world, operator)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _relying_party_login(platform: Platform, client_id: str, secret: str) -> int:
    """A user logs in at the edge, then through the new client (code + PKCE); the
    status of the relying party's code exchange."""
    user = await platform.world.create_user()
    redirect_uri = f"https://{client_id}.apps.test/callback"
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(f"{platform.edge_url}/login")
        csrf = re.search(r"name='csrf' value='([^']+)'", page.text)
        assert csrf is not None
        logged_in = await http.post(
            f"{platform.edge_url}/login/local",
            data={
                "username": user.username,
                "password": user.password,
                "return_to": "/authorize?x=1",
                "csrf": csrf.group(1),
            },
        )
        assert logged_in.status_code == 303, logged_in.text
        verifier, challenge = _pkce()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        answer = await http.get(f"{platform.edge_url}/authorize?{urlencode(query)}")
        assert answer.status_code == 302, answer.text
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        exchanged = await http.post(
            f"{platform.edge_url}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
        return exchanged.status_code


async def _client_token(platform: Platform, client_id: str, secret: str) -> int:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{platform.edge_url}/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
    return response.status_code


async def _shown_secret(page: Page, label: str) -> str:
    field = page.get_by_label(label, exact=True)
    await expect(field).to_be_visible(timeout=45_000)
    value = await field.input_value()
    assert len(value) >= 40
    return value


@pytest.mark.parametrize("locale", ["nl-BE", "fr-BE"])
async def test_an_operator_registers_and_manages_an_application(
    browser: Browser,
    platform: Platform,
    locale: str,
) -> None:
    text = LABELS[locale[:2]]
    client_id = f"app-{locale[:2]}-{secrets.token_hex(3)}"
    site = f"https://{client_id}.apps.test"
    page = await new_page(browser, locale)
    # Each step crosses the portal and the edge (and Kafka): room for a loaded machine.
    page.set_default_timeout(45_000)
    page.set_default_navigation_timeout(60_000)

    # The operator logs in through the edge and lands on the screen.
    await page.goto(f"{platform.portal_url}/auth/login?next=/operator/applications")
    await page.get_by_role("textbox", name=text["login_username"]).fill(platform.operator.username)
    await page.get_by_label(text["login_password"], exact=True).fill(platform.operator.password)
    await page.get_by_role("button", name=text["login_submit"], exact=True).click()
    await page.wait_for_url(f"{platform.portal_url}/**", timeout=60_000)
    # The operator's profile says Dutch; the language switch makes it the page's.
    await page.get_by_role("button", name=text["language"], exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(text["heading"], timeout=45_000)
    await assert_accessible(page, "operator-applications")

    # Register: a plain-http address is refused on its field, nothing is registered.
    await page.get_by_role("link", name=text["register"]).click()
    await page.get_by_label(text["client_id"]).fill(client_id)
    for label, name in zip(
        text["names"], ["Proefapp", "App d'essai", "Testapp", "Test app"], strict=True
    ):
        await page.get_by_label(label).fill(name)
    await page.get_by_label(text["redirects"]).fill("http://plain.example.be/callback")
    await page.get_by_label(text["home"]).fill(f"{site}/")
    await page.get_by_label(text["login"]).fill(f"{site}/login")
    # Its two roles, declared in the same step (SPEC §4): the second lacks German.
    for index, (role_id, names) in enumerate(ROLES.items()):
        block = page.get_by_role("group", name=text["new_role"]).nth(index)
        await block.get_by_label(text["role_id"]).fill(role_id)
        for label, does, (name, capability) in zip(
            text["role_names"], text["role_does"], names, strict=True
        ):
            await block.get_by_label(label).fill(name)
            if not (index == 1 and label == text["role_names"][2]):
                await block.get_by_label(does).fill(capability)
    await page.get_by_role("button", name=text["submit"], exact=True).click()
    # The portal finds the missing capability itself; the edge then refuses the address.
    await expect(page.locator("#role_does_de_1-error")).to_have_text(
        text["required"], timeout=45_000
    )
    second_role = page.get_by_role("group", name=text["new_role"]).nth(1)
    await second_role.get_by_label(text["role_does"][2]).fill(ROLES["approver"][2][1])
    await page.get_by_role("button", name=text["submit"], exact=True).click()
    await expect(page.locator("#redirect_uris-error")).to_contain_text(
        text["https_error"], timeout=45_000
    )
    await assert_accessible(page, "operator-application-errors")
    await page.get_by_label(text["redirects"]).fill(f"{site}/callback")
    await page.get_by_role("button", name=text["submit"], exact=True).click()
    first = await _shown_secret(page, text["secret"])
    await assert_accessible(page, "operator-application-secret")

    # A relying party logs users in through it: no restart of anything.
    assert await _relying_party_login(platform, client_id, first) == 200

    # The application's page shows both roles by name; renaming one keeps its id.
    await page.get_by_role("link", name=text["back"]).click()
    language = locale[:2]
    position = ["nl", "fr", "de", "en"].index(language)
    first_role = page.get_by_role(
        "group", name=f"{text['role']} 1: {ROLES['inspector'][position][0]}"
    )
    await expect(first_role).to_contain_text("inspector")
    renamed = f"{ROLES['inspector'][position][0]} (hoofd)"
    await first_role.get_by_label(text["role_names"][position]).fill(renamed)
    await page.get_by_role("button", name=text["save"], exact=True).click()
    await expect(page.get_by_role("status").first).to_have_text(text["changed"], timeout=45_000)
    shown = page.get_by_role("group", name=f"{text['role']} 1: {renamed}")
    await expect(shown.get_by_label(text["role_names"][position])).to_have_value(renamed)
    second_shown = page.get_by_role(
        "group", name=f"{text['role']} 2: {ROLES['approver'][position][0]}"
    )
    await expect(second_shown.get_by_label(text["role_does"][2])).to_have_value(
        ROLES["approver"][2][1]
    )

    # Rotate: the new secret is shown once; both work until the old one is retired.
    await page.get_by_role("button", name=text["rotate"]).click()
    second = await _shown_secret(page, text["secret"])
    assert second != first
    assert await _client_token(platform, client_id, first) == 200
    assert await _client_token(platform, client_id, second) == 200
    await page.get_by_role("link", name=text["back"]).click()
    await page.get_by_role("button", name=text["retire"]).click()
    await expect(page.get_by_role("status").first).to_have_text(text["retired"], timeout=45_000)
    assert await _client_token(platform, client_id, first) == 401
    assert await _client_token(platform, client_id, second) == 200

    # Disable: the client is refused from now on.
    await page.get_by_role("button", name=text["disable"]).click()
    await expect(page.locator(".facts-line")).to_contain_text(text["disabled"], timeout=45_000)
    assert await _client_token(platform, client_id, second) == 401
    await assert_accessible(page, "operator-application")
    await page.context.close()
