"""SSO sessions: logout ends everything issued in the session and tells the
applications over the back channel; prompt=login asks again."""

from __future__ import annotations

import asyncio
import uuid

from joserfc import jwt

from eproc_contracts import assurance
from eproc_contracts import events as ev
from eproc_contracts.topics import decode
from eproc_runtime.bus.kafka import KafkaSubscription

from .conftest import Browser, EdgeServer


async def test_logout_ends_tokens_and_notifies_applications(
    edge_server: EdgeServer, browser: Browser
) -> None:
    user_id, username, password = await edge_server.create_user()
    await browser.login(username, password)
    catalogue = await browser.tokens("e-catalogue")
    tendering = await browser.tokens("e-tendering")
    sid = edge_server.edge.server.verify_access_token(catalogue["access_token"])["sid"]  # type: ignore[index]
    already = len(edge_server.logout_tokens)
    response = await browser.logout()
    assert response.status_code == 200 and "afgemeld bij alle toepassingen" in response.text
    # Refresh tokens and userinfo die with the session.
    refused = await browser.http.post(
        f"{edge_server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tendering["refresh_token"]},
        auth=("e-tendering", "secret-e-tendering"),
    )
    assert refused.status_code == 400
    userinfo = await browser.http.get(
        f"{edge_server.base_url}/userinfo",
        headers={"Authorization": f"Bearer {catalogue['access_token']}"},
    )
    assert userinfo.status_code == 401
    introspection = await browser.http.post(
        f"{edge_server.base_url}/introspect",
        data={"token": catalogue["access_token"]},
        auth=("e-catalogue", "secret-e-catalogue"),
    )
    assert introspection.json() == {"active": False}
    # Only e-Catalogue registered a back-channel logout URI.
    for _ in range(200):
        if len(edge_server.logout_tokens) > already:
            break
        await asyncio.sleep(0.05)
    token = edge_server.logout_tokens[-1]
    claims = jwt.decode(token, edge_server.edge.keyring.material.published).claims
    assert claims["aud"] == "e-catalogue" and claims["sid"] == sid
    assert claims["sub"] == str(user_id)
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert "nonce" not in claims


async def test_a_logout_without_id_token_hint_or_confirmation_ends_nothing(
    edge_server: EdgeServer, browser: Browser
) -> None:
    """RP-initiated logout §6: a link or form on any page must not log the user out."""
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    tokens = await browser.tokens("e-tendering")
    base = edge_server.base_url
    asked = await browser.http.get(f"{base}/logout", params={"client_id": "e-tendering"})
    assert asked.status_code == 200 and "alle toepassingen" in asked.text
    assert "name='client_id' value='e-tendering'" in asked.text
    forged = await browser.http.post(f"{base}/logout", data={"csrf": "guessed"})
    assert forged.status_code == 200 and "alle toepassingen" in forged.text
    # The session lives on: the application's refresh still works.
    refreshed = await browser.http.post(
        f"{base}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("e-tendering", "secret-e-tendering"),
    )
    assert refreshed.status_code == 200, refreshed.text
    # Confirmed: ended.
    assert "afgemeld bij alle toepassingen" in (await browser.logout()).text
    refused = await browser.http.post(
        f"{base}/token",
        data={"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]},
        auth=("e-tendering", "secret-e-tendering"),
    )
    assert refused.status_code == 400


async def test_prompt_login_asks_for_the_login_again(
    edge_server: EdgeServer, browser: Browser
) -> None:
    _, username, password = await edge_server.create_user()
    await browser.login(username, password)
    result = await browser.authorize("e-tendering", prompt="login")
    assert result["status"] == 303 and result["location"].startswith("login?")
    assert "prompt" not in result["location"]


async def test_login_and_logout_are_published(edge_server: EdgeServer, browser: Browser) -> None:
    reader = KafkaSubscription(
        edge_server.settings.kafka_bootstrap,
        f"reader-{uuid.uuid4().hex}",
        [edge_server.settings.topic_prefix + "sso.session.v1"],
    )
    await reader.start()
    try:
        user_id, username, password = await edge_server.create_user()
        await browser.login(username, password)
        await browser.logout()
        seen: list[ev.SessionStarted | ev.SessionEnded] = []
        for _ in range(100):
            for message in await reader.poll(50, 0.2):
                data = decode(message.value).data
                if data.user_id == user_id:
                    seen.append(data)
            if len(seen) >= 2:
                break
    finally:
        await reader.stop()
    assert [type(e) for e in seen] == [ev.SessionStarted, ev.SessionEnded]
    assert seen[0].acr == assurance.PASSWORD and seen[0].session_id == seen[1].session_id
