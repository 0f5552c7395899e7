"""The eID login end to end over real pcscd: virtual card → card agent → gateway →
authorization code → ID token, and every way it must refuse."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog.testing
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update

from eproc_eid_gateway.models import login_challenge, metadata
from eproc_eid_gateway.presentation import subject_for
from eproc_eid_gateway.settings import EID_ACR
from eproc_eid_testkit.pki import DEMO_PERSONS
from eproc_runtime.db import create_engine

from .conftest import EDGE_REDIRECT, ISSUER, SUBJECT_KEY, EidLogin

pytestmark = pytest.mark.integration

CardFactory = Callable[..., Path]


async def verified_id_token(eid: EidLogin, token: str, nonce: str) -> dict[str, Any]:
    """Check the ID token as a relying party does: discovery → JWKS → signature, claims."""
    discovery = (await eid.gateway.get("/eid/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == ISSUER
    jwks = (await eid.gateway.get(discovery["jwks_uri"].removeprefix(ISSUER[:-4]))).json()
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": "edge"},
        exp={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(decoded.claims)
    assert decoded.header["alg"] == "ES256"
    return dict(decoded.claims)


@pytest.mark.parametrize(("person", "applet"), [("alice", "1.8"), ("bob", "1.7")])
async def test_a_card_logs_in_and_the_id_token_verifies(
    eid: EidLogin, slot, card_factory: CardFactory, person: str, applet: str
) -> None:
    expected, _ = DEMO_PERSONS[person]
    slot.insert(card_factory(person))

    status = (await eid.agent.get("/status")).json()
    assert status["card"] is True
    assert status["applet"] == applet
    assert status["pin_tries_left"] == 3
    assert status["authentication_key"] is True

    authorization, tokens = await eid.login()
    claims = await verified_id_token(eid, tokens["id_token"], authorization.nonce)
    assert claims["sub"] == subject_for(expected.national_number, SUBJECT_KEY)
    assert claims["given_name"] == expected.given_names
    assert claims["family_name"] == expected.surname
    assert claims["acr"] == EID_ACR

    userinfo = await eid.gateway.get(
        "/eid/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 200
    assert userinfo.json() == {
        "sub": claims["sub"],
        "acr": EID_ACR,
        "given_name": expected.given_names,
        "family_name": expected.surname,
    }
    forged = await eid.gateway.get(
        "/eid/userinfo", headers={"Authorization": f"Bearer {tokens['id_token']}"}
    )
    assert forged.status_code == 401


@pytest.mark.parametrize("gateway_settings", ["sqlite"], indirect=True)
async def test_the_embedded_mode_logs_in_on_sqlite(
    eid: EidLogin, slot, card_factory: CardFactory
) -> None:
    slot.insert(card_factory("alice"))
    authorization, tokens = await eid.login()
    await verified_id_token(eid, tokens["id_token"], authorization.nonce)
    replayed = await eid.complete(
        authorization.challenge_id, (await eid.card(authorization.challenge)).json()
    )
    assert replayed.json()["detail"]["code"] == "challenge_used"


async def test_a_code_is_redeemed_once(eid: EidLogin, slot, card_factory: CardFactory) -> None:
    slot.insert(card_factory("alice"))
    authorization = await eid.start()
    card = await eid.card(authorization.challenge)
    redirect = (await eid.complete(authorization.challenge_id, card.json())).json()["redirect"]
    assert redirect.startswith(EDGE_REDIRECT)
    first = await eid.redeem(authorization, redirect)
    assert first.status_code == 200
    second = await eid.redeem(authorization, redirect)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


async def test_wrong_pins_count_down_then_the_blocked_card_cannot_log_in(
    eid: EidLogin, slot, card_factory: CardFactory
) -> None:
    virtual, _ = slot.insert(card_factory("alice"))
    authorization = await eid.start()
    for tries_left in (2, 1):
        answer = await eid.card(authorization.challenge, pin="9999")
        assert answer.status_code == 401
        assert answer.json()["detail"]["code"] == "wrong_pin"
        assert answer.json()["detail"]["tries_left"] == tries_left
        expected = {2: "2 tries left", 1: "1 try left"}[tries_left]
        assert expected in answer.json()["detail"]["message"]
        assert (await eid.agent.get("/status")).json()["pin_tries_left"] == tries_left
        if tries_left == 2:
            slot.reinsert(virtual)  # the counter lives on the card
    blocked = await eid.card(authorization.challenge, pin="9999")
    assert blocked.status_code == 423
    assert blocked.json()["detail"]["code"] == "card_blocked"
    right_pin = await eid.card(authorization.challenge, pin="1234")
    assert right_pin.status_code == 423
    assert right_pin.json()["detail"]["code"] == "card_blocked"
    status = (await eid.agent.get("/status")).json()
    assert status["pin_tries_left"] == 0
    assert status["error"] == "card_blocked"
    # The page never gets a signature to post, so no code is issued; the page shows:
    assert "geblokkeerd" in authorization.page


@pytest.mark.parametrize(
    ("defects", "code"),
    [
        ({"tamper_identity": True}, "identity_signature_invalid"),
        ({"untrusted_chain": True}, "untrusted_chain"),
        ({"expired_certificates": True}, "certificate_expired"),
        ({"certificate_national_number": "71042615205"}, "national_number_mismatch"),
        ({"mismatched_authentication_key": True}, "challenge_signature_invalid"),
        ({"tamper_address": True}, "address_signature_invalid"),
        ({"expired_card": True}, "card_expired"),
        ({"without_key_usage": True}, "certificate_not_for_authentication"),
        ({"sha1_certificates": True}, "weak_signature_algorithm"),
        ({"sha1_file_signatures": True, "applet": "1.7"}, "identity_signature_invalid"),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else value,
)
async def test_bad_cards_are_refused_each_with_its_own_code(
    eid: EidLogin, slot, card_factory: CardFactory, defects: dict[str, object], code: str
) -> None:
    slot.insert(card_factory("alice", **defects))
    authorization = await eid.start()
    card = await eid.card(authorization.challenge)
    assert card.status_code == 200, card.text  # the agent trusts nothing and checks nothing
    refused = await eid.complete(authorization.challenge_id, card.json())
    assert refused.status_code == 400
    assert refused.json()["detail"]["code"] == code


async def test_a_challenge_signature_is_used_once(
    eid: EidLogin, slot, card_factory: CardFactory
) -> None:
    slot.insert(card_factory("bob"))
    authorization = await eid.start()
    presentation = (await eid.card(authorization.challenge)).json()
    assert (await eid.complete(authorization.challenge_id, presentation)).status_code == 200

    replayed = await eid.complete(authorization.challenge_id, presentation)
    assert replayed.status_code == 400
    assert replayed.json()["detail"]["code"] == "challenge_used"

    # The same signature under a fresh challenge: the card signed something else.
    fresh = await eid.start()
    moved = await eid.complete(fresh.challenge_id, presentation)
    assert moved.json()["detail"]["code"] == "challenge_mismatch"
    fresh = await eid.start()
    relabelled = await eid.complete(
        fresh.challenge_id, {**presentation, "challenge": fresh.challenge}
    )
    assert relabelled.json()["detail"]["code"] == "challenge_signature_invalid"
    # A refused attempt uses its challenge up too.
    again = await eid.complete(fresh.challenge_id, presentation)
    assert again.json()["detail"]["code"] == "challenge_used"


async def test_an_expired_or_unknown_challenge_is_refused(
    eid: EidLogin, slot, card_factory: CardFactory, gateway_settings
) -> None:
    slot.insert(card_factory("alice"))
    authorization = await eid.start()
    presentation = (await eid.card(authorization.challenge)).json()
    engine = create_engine(gateway_settings.database_url)
    async with engine.begin() as connection:
        await connection.execute(
            update(login_challenge)
            .where(login_challenge.c.id == authorization.challenge_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await engine.dispose()
    expired = await eid.complete(authorization.challenge_id, presentation)
    assert expired.json()["detail"]["code"] == "challenge_expired"
    unknown = await eid.complete("x" * 43, presentation)
    assert unknown.json()["detail"]["code"] == "challenge_unknown"


async def test_the_agent_reports_what_is_wrong_with_the_card(
    eid: EidLogin, slot, card_factory: CardFactory
) -> None:
    status = (await eid.agent.get("/status")).json()
    assert status == {**status, "reader": True, "card": False, "error": "no_card"}
    no_card = await eid.card("AAAAAAAA")
    assert (no_card.status_code, no_card.json()["detail"]["code"]) == (409, "no_card")

    slot.insert(card_factory("lotte"))
    status = (await eid.agent.get("/status")).json()
    assert status["card"] is True
    assert status["authentication_key"] is False
    kids = await eid.card("AAAAAAAA")
    assert (kids.status_code, kids.json()["detail"]["code"]) == (422, "no_authentication_key")

    bad_pin = await eid.card("AAAAAAAA", pin="12ab")
    assert bad_pin.status_code == 422
    assert bad_pin.json()["detail"][0]["loc"] == ["body", "pin"]


async def test_the_agent_answers_only_the_gateway_page_on_loopback(eid: EidLogin) -> None:
    foreign = await eid.agent.post(
        "/authenticate",
        json={"challenge": "AAAA", "pin": "1234"},
        headers={"Origin": "https://evil.example"},
    )
    assert (foreign.status_code, foreign.json()["detail"]["code"]) == (403, "origin_not_allowed")
    no_origin = await eid.agent.post(
        "/authenticate", json={"challenge": "AAAA", "pin": "1234"}, headers={"Origin": ""}
    )
    assert no_origin.status_code == 403
    rebound = await eid.agent.get("/status", headers={"Host": "attacker.example:35970"})
    assert (rebound.status_code, rebound.json()["detail"]["code"]) == (403, "not_local")
    preflight = await eid.agent.options(
        "/authenticate",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:8000"
    assert preflight.headers["access-control-allow-private-network"] == "true"


async def test_the_agent_without_its_reader(pcscd: str) -> None:
    import httpx

    from eproc_eid_agent.agent import AgentSettings, create_agent_app

    app = create_agent_app(
        AgentSettings(gateway_origin="http://localhost:8000", reader="No Such Reader 00 00")
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 1)),
        base_url="http://127.0.0.1:35970",
        headers={"Origin": "http://localhost:8000"},
    ) as agent:
        status = (await agent.get("/status")).json()
        assert status["error"] == "no_reader"
        answer = await agent.post("/authenticate", json={"challenge": "AAAA", "pin": "1234"})
        assert (answer.status_code, answer.json()["detail"]["code"]) == (503, "no_reader")


async def test_authorize_validates_the_request(eid: EidLogin) -> None:
    page = await eid.start(ui_locales="fr")
    assert "Continuer" in page.page and 'lang="fr"' in page.page
    assert "Verdergaan" in (await eid.start()).page
    assert "Weiter" in (await eid.start(ui_locales="de")).page
    # The language the user chose in the portal (its shared cookie) wins over
    # ui_locales; the page's own switch (``lang``) wins over both (R-I18N-1).
    eid.gateway.cookies.set("eproc_lang", "fr")
    try:
        chosen = (await eid.start(ui_locales="nl")).page
        assert 'lang="fr"' in chosen and "Continuer" in chosen
        switched = (await eid.start(ui_locales="nl", lang="de")).page
        assert 'lang="de"' in switched and "Weiter" in switched
    finally:
        eid.gateway.cookies.delete("eproc_lang")
    # The platform's one look: its stylesheet, served by the gateway itself.
    assert f'href="{ISSUER}/static/eproc.css"' in chosen
    style = await eid.gateway.get("/eid/static/eproc.css")
    assert style.status_code == 200 and ".topbar" in style.text

    unknown_redirect = await eid.gateway.get(
        "/eid/authorize",
        params={"response_type": "code", "client_id": "edge", "redirect_uri": "https://evil/cb"},
        headers={"Accept-Language": "fr-BE"},
    )
    assert unknown_redirect.status_code == 400
    assert 'lang="fr"' in unknown_redirect.text
    assert "L'application a envoyé une demande de connexion invalide." in (
        unknown_redirect.text.replace("&#39;", "'")
    )
    no_pkce = await eid.gateway.get(
        "/eid/authorize",
        params={
            "response_type": "code",
            "client_id": "edge",
            "redirect_uri": EDGE_REDIRECT,
            "scope": "openid",
            "state": "s",
        },
    )
    assert no_pkce.status_code == 302
    assert "error=invalid_request" in no_pkce.headers["location"]
    assert "state=s" in no_pkce.headers["location"]
    discovery = (await eid.gateway.get("/eid/.well-known/openid-configuration")).json()
    assert discovery["scopes_supported"] == ["openid", "profile", "egovnrn"]
    assert discovery["authorization_endpoint"] == f"{ISSUER}/authorize"


async def test_authorize_honours_the_requested_authentication_level(eid: EidLogin) -> None:
    """Issue 20: the card login is the federal eID level, which meets any level the
    edge asks for (a step-up); an essential acr nothing here meets is refused."""
    discovery = (await eid.gateway.get("/eid/.well-known/openid-configuration")).json()
    assert discovery["acr_values_supported"] == [EID_ACR]
    stepped = await eid.start(acr_values=EID_ACR, prompt="login")
    assert "Verdergaan" in stepped.page  # the card login page, as always
    essential = {"id_token": {"acr": {"essential": True, "values": [EID_ACR]}}}
    assert "Verdergaan" in (await eid.start(claims=json.dumps(essential))).page
    essential["id_token"]["acr"]["values"] = ["urn:example:loa:4"]
    refused = await eid.gateway.get(
        "/eid/authorize",
        params={
            "response_type": "code",
            "client_id": "edge",
            "redirect_uri": EDGE_REDIRECT,
            "scope": "openid",
            "state": "s",
            "code_challenge": create_s256_code_challenge("v" * 48),
            "code_challenge_method": "S256",
            "claims": json.dumps(essential),
        },
    )
    assert refused.status_code == 302
    location = refused.headers["location"]
    assert location.startswith(EDGE_REDIRECT + "?")
    assert "error=unmet_authentication_requirements" in location and "state=s" in location


async def test_the_national_number_is_nowhere_in_the_database_or_the_logs(
    eid: EidLogin, slot, card_factory: CardFactory, gateway_settings, caplog
) -> None:
    expected, _ = DEMO_PERSONS["alice"]
    number = expected.national_number
    slot.insert(card_factory("alice"))
    caplog.set_level(logging.DEBUG)  # authlib and the libraries log through logging
    # structlog's events as the gateway emits them, before the log setup's mask:
    # the number must not even reach the logger.
    with structlog.testing.capture_logs() as events:
        authorization, tokens = await eid.login()
        # A refused attempt logs too.
        fresh = await eid.start()
        await eid.complete(fresh.challenge_id, (await eid.card(authorization.challenge)).json())

    engine = create_engine(gateway_settings.database_url)
    dumped: list[str] = []
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            dumped.extend(json.dumps([str(v) for v in row]) for row in rows)
    await engine.dispose()
    assert any("authorization_code" in t.name for t in metadata.sorted_tables)
    assert len(dumped) >= 3  # challenges and the signing key at least
    claims = jwt.decode(
        tokens["id_token"],
        KeySet.import_key_set((await eid.gateway.get("/eid/jwks")).json()),
    ).claims
    logs = json.dumps(events, default=str) + caplog.text
    assert "eid_login_succeeded" in logs and "eid_login_refused" in logs
    for haystack in ("\n".join(dumped), logs, json.dumps(claims), json.dumps(tokens)):
        assert number not in haystack
        assert f"{number[:6]}-{number[6:9]}.{number[9:]}" not in haystack
