"""Login (SPEC §2): eID brokered to the upstream OpenID Provider (R-LOGIN-1), local
login as identity decides (R-LOGIN-2, R-LOGIN-3), the first-login hand-over (R-LOGIN-4)."""

from __future__ import annotations

import uuid
from urllib.parse import unquote

import httpx

from eproc_contracts import assurance

from .conftest import Browser, EdgeServer


async def test_eid_login_through_the_upstream_provider(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("FOD Financiën")
    user_id, _, _ = await edge_server.create_user({org: [("e-notification", "editor")]})
    subject = uuid.uuid4().hex  # the gateway's keyed hash of the national number
    edge_server.identity.eid_subjects[subject] = user_id
    edge_server.upstream.state.subject = subject
    first = await browser.authorize("e-notification")
    assert first["status"] == 303 and first["location"].startswith("login?")
    return_to = first["location"].split("return_to=", 1)[1]
    response = await browser.http.get(
        f"{edge_server.base_url}/login/eid", params={"return_to": unquote(return_to)}
    )
    for _ in range(3):  # edge -> upstream authorize -> edge callback -> authorize
        assert response.status_code in (302, 303), response.text
        response = await browser.http.get(response.headers["location"])
    assert response.status_code == 302
    assert response.headers["location"].startswith("http://rp.test/e-notification/callback?code=")
    tokens = await browser.tokens("e-notification")
    claims = edge_server.edge.server.verify_access_token(tokens["access_token"])
    assert claims is not None
    assert claims["sub"] == str(user_id) and claims["acr"] == assurance.EID
    assert claims["roles"] == ["editor"]


async def test_unknown_card_holder_is_sent_to_registration(
    edge_server: EdgeServer, browser: Browser
) -> None:
    edge_server.upstream.state.subject = "not-registered-" + uuid.uuid4().hex
    response = await browser.http.get(f"{edge_server.base_url}/login/eid")
    for _ in range(2):
        response = await browser.http.get(response.headers["location"])
    assert response.status_code == 303
    assert response.headers["location"] == edge_server.settings.registration_url


async def test_local_login_refusal_is_shown_and_the_source_ip_passed(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, _ = await edge_server.create_user()
    response = await browser.login_form(username, "wrong")
    assert response.status_code == 401
    assert "Verkeerde gebruikersnaam of wachtwoord." in response.text  # Dutch by default
    assert edge_server.identity.seen_ips[-1] == "127.0.0.1"


async def test_a_password_login_marks_the_browser_for_identitys_throttling(
    edge_server: EdgeServer, browser: Browser
) -> None:
    """R-SEC-4: identity hands a browser that logged in a device cookie; the edge
    keeps it (HttpOnly, a long life) and shows it at every later password login,
    so that an attacker's failures elsewhere do not slow the owner's browser."""
    user = await edge_server.create_user()
    first = await browser.login_form(user.username, user.password)
    assert first.status_code == 303
    cookie = first.headers["set-cookie"]
    assert "eproc_device=device-" in cookie and "HttpOnly" in cookie and "Max-Age=" in cookie
    await browser.logout()
    again = await browser.login_form(user.username, user.password)
    assert again.status_code == 303
    assert edge_server.identity.seen_devices[-2:] == [None, f"device-{user.username}"]


async def test_first_login_without_organisation_goes_to_the_portal_choice(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    response = await browser.login_form(
        username, password, "/authorize?client_id=e-tendering&response_type=code"
    )
    assert response.status_code == 303
    assert response.headers["location"] == edge_server.settings.first_login_url
    tokens = await browser.tokens("portal")
    claims = edge_server.edge.server.verify_access_token(tokens["access_token"])
    assert claims is not None and claims["organisation_choice_required"] is True


async def test_a_login_form_from_elsewhere_is_refused(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    response = await browser.http.post(
        f"{edge_server.base_url}/login/local",
        data={"username": username, "password": password, "return_to": "/authorize?x=1"},
    )
    assert response.status_code == 400
    assert edge_server.settings.session_cookie_name not in response.cookies


async def test_an_upstream_token_with_a_foreign_nonce_is_refused(
    edge_server: EdgeServer, browser: Browser
) -> None:
    user_id, _, _ = await edge_server.create_user()
    subject = uuid.uuid4().hex
    edge_server.identity.eid_subjects[subject] = user_id
    edge_server.upstream.state.subject = subject
    edge_server.upstream.state.forge_nonce = True
    try:
        response = await browser.http.get(f"{edge_server.base_url}/login/eid")
        for _ in range(2):
            response = await browser.http.get(response.headers["location"])
    finally:
        edge_server.upstream.state.forge_nonce = False
    assert response.status_code == 400
    assert "kon niet worden gecontroleerd" in response.text
    assert edge_server.settings.session_cookie_name not in response.cookies


async def test_an_eid_callback_started_in_another_browser_logs_nobody_in(
    edge_server: EdgeServer, browser: Browser
) -> None:
    """Login CSRF through the eID callback (a GET): an attacker starts an eID login,
    completes it with their own card, and sends the callback URL to a victim. The
    attempt is bound to the browser that started it: the victim stays logged out."""
    attacker_id, _, _ = await edge_server.create_user()
    subject = uuid.uuid4().hex
    edge_server.identity.eid_subjects[subject] = attacker_id
    edge_server.upstream.state.subject = subject
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as attacker:
        started = await attacker.get(f"{edge_server.base_url}/login/eid")
        at_upstream = await attacker.get(started.headers["location"])
        callback = at_upstream.headers["location"]
        assert "/login/eid/callback?code=" in callback
    victim = await browser.http.get(callback)
    assert victim.status_code == 400
    assert "werd niet voltooid" in victim.text  # Dutch by default: "try again"
    assert edge_server.settings.session_cookie_name not in victim.cookies
