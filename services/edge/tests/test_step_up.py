"""Authentication levels and step-up (issue 20; R-LOGIN-1/2): ``acr`` is a federal
level (password < eID), an application may require eID, ``acr_values``, essential
``acr`` claims and ``max_age`` are honoured, and a step-up keeps the SSO session."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from eproc_contracts import assurance

from .conftest import Browser, EdgeServer, resolve


async def _id_token(server: EdgeServer, tokens: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        keys = KeySet.import_key_set((await http.get(f"{server.base_url}/jwks")).json())
    return dict(jwt.decode(tokens["id_token"], keys).claims)


async def _exchange(browser: Browser, client_id: str, result: dict[str, Any]) -> dict[str, Any]:
    assert "code" in result, result
    response = await browser.http.post(
        f"{browser.server.base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": result["redirect_uri"],
            "code_verifier": result["verifier"],
        },
        auth=(client_id, f"secret-{client_id}"),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _eid_user(server: EdgeServer, org: uuid.UUID) -> Any:
    """A user with roles in e-Notification and the opening of tenders, known by a card."""
    user = await server.create_user(
        {org: [("e-notification", "editor"), ("tender-opening", "opener")]}
    )
    subject = uuid.uuid4().hex
    server.identity.eid_subjects[subject] = user.id
    server.upstream.state.subject = subject
    server.upstream.state.acr = assurance.EID
    return user


async def test_discovery_advertises_the_levels(edge_server: EdgeServer) -> None:
    async with httpx.AsyncClient() as http:
        metadata = (
            await http.get(f"{edge_server.base_url}/.well-known/openid-configuration")
        ).json()
    assert metadata["acr_values_supported"] == [
        "urn:be:fedict:iam:fas:Level100",
        "urn:be:fedict:iam:fas:Level500",
    ]
    assert metadata["claims_parameter_supported"] is True
    assert {"acr", "auth_time"} <= set(metadata["claims_supported"])


async def test_an_application_that_requires_eid_steps_a_password_session_up(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("Stad Gent")
    user = await _eid_user(edge_server, org)
    await browser.login(user.username, user.password)
    seen = edge_server.identity.seen_ips.count("127.0.0.1")
    notification = await browser.tokens("e-notification")
    first = await _id_token(edge_server, notification)
    assert first["acr"] == assurance.PASSWORD and first["sub"] == str(user.id)

    # The application switch (R-SSO-3) to the opening of tenders: same organisation.
    # (the top bar's form: a POST with the session's switch token, R-SEC-5)
    bar = await browser.http.get(
        f"{edge_server.base_url}/session/topbar",
        headers={"Authorization": f"Bearer {notification['access_token']}"},
    )
    switched = await browser.http.post(
        f"{edge_server.base_url}/switch",
        params={"from": "e-notification", "to": "tender-opening"},
        data={"csrf": bar.json()["switch_token"]},
        headers={"Accept": "application/json"},
    )
    assert switched.json()["outcome"] == "same_organisation", switched.text

    # Its authorization request sends the password session to the eID login ...
    asked = await browser.authorize("tender-opening")
    assert asked["status"] == 303 and asked["location"].startswith("login?"), asked
    page = await browser.http.get(resolve(edge_server.base_url, asked["location"]))
    assert page.status_code == 200
    assert "Deze toepassing vraagt een aanmelding met uw eID-kaart" in page.text
    assert "name='password'" not in page.text  # no password form: it would not do
    return_to = unquote(asked["location"].split("return_to=", 1)[1])
    # A password form posted anyway (from an ordinary login page) is refused.
    plain = await browser.http.get(f"{edge_server.base_url}/login")
    csrf = re.search(r"name='csrf' value='([^']+)'", plain.text)
    assert csrf is not None
    refused = await browser.http.post(
        f"{edge_server.base_url}/login/local",
        data={
            "username": user.username,
            "password": user.password,
            "return_to": return_to,
            "csrf": csrf.group(1),
        },
    )
    assert refused.status_code == 403 and "eID-kaart" in refused.text
    assert edge_server.identity.seen_ips.count("127.0.0.1") == seen  # not even checked

    # ... which asks the upstream for the eID level, afresh, and comes back.
    response = await browser.http.get(
        f"{edge_server.base_url}/login/eid", params={"return_to": return_to}
    )
    upstream_request = parse_qs(urlsplit(response.headers["location"]).query)
    assert upstream_request["acr_values"] == [assurance.EID]
    assert upstream_request["prompt"] == ["login"]
    for _ in range(3):  # edge -> upstream authorize -> edge callback -> authorize
        assert response.status_code in (302, 303), response.text
        response = await browser.http.get(
            resolve(edge_server.base_url, response.headers["location"])
        )
    callback = response.headers["location"]
    assert callback.startswith("http://rp.test/tender-opening/callback?code="), callback
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    tokens = await _exchange(
        browser,
        "tender-opening",
        {**query, "verifier": asked["verifier"], "redirect_uri": asked["redirect_uri"]},
    )
    stepped = await _id_token(edge_server, tokens)
    assert stepped["acr"] == assurance.EID
    assert stepped["sid"] == first["sid"]  # the SSO session was kept
    assert stepped["auth_time"] >= first["auth_time"]
    access = edge_server.edge.server.verify_access_token(tokens["access_token"])
    assert access is not None
    assert access["acr"] == assurance.EID and access["org_id"] == str(org)
    assert access["roles"] == ["opener"]

    # The other application's refresh token lives on in the same session, and its
    # next login is at the eID level without asking again.
    refreshed = await browser.http.post(
        f"{edge_server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": notification["refresh_token"]},
        auth=("e-notification", "secret-e-notification"),
    )
    assert refreshed.status_code == 200, refreshed.text
    again = await browser.authorize("e-notification")
    assert "code" in again, again


async def test_acr_values_ask_for_eid_and_prompt_none_cannot_step_up(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("Gemeente Asse")
    user = await _eid_user(edge_server, org)
    await browser.login(user.username, user.password)
    silent = await browser.authorize("e-notification", acr_values=assurance.EID, prompt="none")
    assert silent["error"] == "login_required" and "state" in silent
    asked = await browser.authorize("e-notification", acr_values=assurance.EID)
    assert asked["status"] == 303 and asked["location"].startswith("login?")
    # A value off the ladder is only a wish: ignored, the password session will do.
    wish = await browser.authorize("e-notification", acr_values="urn:example:loa:gold")
    assert "code" in wish, wish
    # Asking for password or better: the password session will do.
    weakest = await browser.authorize(
        "e-notification", acr_values=f"{assurance.PASSWORD} {assurance.EID}"
    )
    assert "code" in weakest, weakest


async def test_an_unmeetable_essential_acr_gets_the_standard_error(
    edge_server: EdgeServer, browser: Browser
) -> None:
    claims = {"id_token": {"acr": {"essential": True, "values": ["urn:example:loa:4"]}}}
    result = await browser.authorize("e-notification", claims=json.dumps(claims))
    assert result["status"] == 302
    assert result["location"].startswith("http://rp.test/e-notification/callback?")
    assert result["error"] == "unmet_authentication_requirements"
    assert "state" in result and "code" not in result
    # An essential request the eID login meets is a step-up, not an error.
    claims["id_token"]["acr"]["values"] = [assurance.EID]
    stepped = await browser.authorize("e-notification", claims=json.dumps(claims))
    assert stepped["status"] == 303 and stepped["location"].startswith("login?")
    bad = await browser.authorize("e-notification", claims="{not json")
    assert bad["error"] == "invalid_request"
    age = await browser.authorize("e-notification", max_age="-1")
    assert age["error"] == "invalid_request"


async def test_max_age_zero_gets_a_fresh_login_in_the_same_session(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("VDAB")
    user = await edge_server.create_user({org: [("e-awarding", "publisher")]})
    await browser.login(user.username, user.password)
    first = await _id_token(edge_server, await browser.tokens("e-awarding"))
    recent = await browser.authorize("e-awarding", max_age="3600")
    assert "code" in recent, recent  # a login within the hour will do
    await asyncio.sleep(1.1)  # auth_time counts seconds
    asked = await browser.authorize("e-awarding", max_age="0")
    assert asked["status"] == 303 and asked["location"].startswith("login?"), asked
    return_to = unquote(asked["location"].split("return_to=", 1)[1])
    assert "max_age" not in return_to  # the login about to happen satisfies it
    logged_in = await browser.login_form(user.username, user.password, return_to=return_to)
    assert logged_in.status_code == 303, logged_in.text
    response = await browser.http.get(logged_in.headers["location"])
    callback = response.headers["location"]
    assert callback.startswith("http://rp.test/e-awarding/callback?code="), callback
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    tokens = await _exchange(
        browser,
        "e-awarding",
        {**query, "verifier": asked["verifier"], "redirect_uri": asked["redirect_uri"]},
    )
    fresh = await _id_token(edge_server, tokens)
    assert fresh["auth_time"] > first["auth_time"]
    assert fresh["auth_time"] >= int(time.time()) - 30
    assert fresh["sid"] == first["sid"] and fresh["acr"] == assurance.PASSWORD


async def test_an_upstream_login_below_the_level_needed_is_refused(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("Stad Mechelen")
    user = await _eid_user(edge_server, org)
    edge_server.upstream.state.acr = "urn:be:fedict:iam:fas:Level400"  # not the card
    try:
        asked = await browser.authorize("tender-opening")
        return_to = unquote(asked["location"].split("return_to=", 1)[1])
        response = await browser.http.get(
            f"{edge_server.base_url}/login/eid", params={"return_to": return_to}
        )
        for _ in range(2):
            response = await browser.http.get(
                resolve(edge_server.base_url, response.headers["location"])
            )
        assert response.status_code == 403
        assert "de gebruikte aanmeldmethode volstaat niet" in response.text
        assert browser.http.cookies.get(edge_server.settings.session_cookie_name) is None
        # The same level is fine for an application that needs no more than a password.
        response = await browser.http.get(f"{edge_server.base_url}/login/eid")
        for _ in range(2):
            response = await browser.http.get(
                resolve(edge_server.base_url, response.headers["location"])
            )
        assert response.status_code == 303
        tokens = await browser.tokens("e-notification")
        claims = await _id_token(edge_server, tokens)
        assert claims["sub"] == str(user.id)
        assert claims["acr"] == "urn:be:fedict:iam:fas:Level400"  # passed on as stated
    finally:
        edge_server.upstream.state.acr = assurance.EID
