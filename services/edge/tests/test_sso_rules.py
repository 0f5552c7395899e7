"""SSO rules (SPEC §7): the active organisation, application switching (R-SSO-3),
the top bar, and claims fresh from membership events (R-SSO-4)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import encode, topic_of
from eproc_edge.claims import ClaimsCache
from eproc_edge.consumers import HANDLERS
from eproc_runtime.auth import caller_from_claims
from eproc_runtime.bus.base import Record
from eproc_runtime.bus.kafka import KafkaPublisher
from eproc_runtime.db import unit_of_work

from .conftest import Browser, EdgeServer


def _claims(server: EdgeServer, token: str) -> dict[str, Any]:
    claims = server.edge.server.verify_access_token(token)
    assert claims is not None
    return claims


RP_ORIGIN = "http://rp.test"  # where every test application's pages are


async def _switch_token(browser: Browser, source: str) -> str:
    """What the source application's back end reads with its top bar."""
    tokens = await browser.tokens(source)
    bar = await browser.http.get(
        f"{browser.server.base_url}/session/topbar",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert bar.status_code == 200, bar.text
    return str(bar.json()["switch_token"])


async def _switch(browser: Browser, to: str, source: str) -> dict[str, Any]:
    """The source application's top bar form, posted by the browser."""
    response = await browser.http.post(
        f"{browser.server.base_url}/switch",
        params={"to": to, "from": source},
        data={"csrf": await _switch_token(browser, source)},
        headers={"Accept": "application/json", "Origin": RP_ORIGIN, "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _change(browser: Browser, access_token: str, org: UUID) -> None:
    response = await browser.http.post(
        f"{browser.server.base_url}/session/organisation",
        json={"organisation_id": str(org)},
        headers={"Authorization": f"Bearer {access_token}"},
    )
    assert response.status_code == 200, response.text


async def test_switch_keeps_the_active_organisation_when_the_target_has_a_role_there(
    edge_server: EdgeServer, browser: Browser
) -> None:
    a = await edge_server.create_organisation("Gemeente A")
    b = await edge_server.create_organisation("Gemeente B")
    _, username, password = await edge_server.create_user(
        {a: [("e-tendering", "buyer")], b: [("e-tendering", "buyer"), ("e-awarding", "editor")]},
        default=a,
    )
    await browser.login(username, password)
    tendering = await browser.tokens("e-tendering")
    assert _claims(edge_server, tendering["access_token"])["org_id"] == str(a)
    await _change(browser, tendering["access_token"], b)
    # Branch 1: a role in e-Awarding in the active organisation B -> stay in B.
    result = await _switch(browser, "e-awarding", "e-tendering")
    assert result["outcome"] == "same_organisation"
    assert result["location"] == "http://rp.test/e-awarding/login"
    awarding = await browser.tokens("e-awarding")
    claims = _claims(edge_server, awarding["access_token"])
    assert claims["org_id"] == str(b) and claims["roles"] == ["editor"]
    # ... and back: the active organisation survives the switches.
    assert (await _switch(browser, "e-tendering", "e-awarding"))["outcome"] == "same_organisation"
    again = await browser.tokens("e-tendering")
    assert _claims(edge_server, again["access_token"])["org_id"] == str(b)


async def test_switch_falls_back_to_the_default_organisation(
    edge_server: EdgeServer, browser: Browser
) -> None:
    default = await edge_server.create_organisation("OCMW Default")
    other = await edge_server.create_organisation("Provincie Other")
    _, username, password = await edge_server.create_user(
        {default: [("e-catalogue", "buyer")], other: [("e-tendering", "buyer")]},
        default=default,
    )
    await browser.login(username, password)
    tendering = await browser.tokens("e-tendering")
    await _change(browser, tendering["access_token"], other)
    # Branch 2: no e-Catalogue role in "other", one in the default -> default becomes active.
    result = await _switch(browser, "e-catalogue", "e-tendering")
    assert result == {
        "outcome": "default_organisation",
        "organisation_id": str(default),
        "location": "http://rp.test/e-catalogue/login",
    }
    catalogue = await browser.tokens("e-catalogue")
    claims = _claims(edge_server, catalogue["access_token"])
    assert claims["org_id"] == str(default) and claims["roles"] == ["buyer"]


async def test_switch_to_an_application_without_role_goes_to_its_home_page(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("Vlaamse Overheid")
    _, username, password = await edge_server.create_user({org: [("e-tendering", "buyer")]})
    await browser.login(username, password)
    await browser.tokens("e-tendering")
    # Branch 3: no e-Notification role anywhere -> its anonymous home page.
    result = await _switch(browser, "e-notification", "e-tendering")
    assert result["outcome"] == "anonymous"
    assert result["location"] == "http://rp.test/e-notification/"
    plain = await browser.http.post(
        f"{edge_server.base_url}/switch",
        params={"to": "e-notification", "from": "e-tendering"},
        data={"csrf": await _switch_token(browser, "e-tendering")},
    )
    assert plain.status_code == 303
    assert plain.headers["location"] == "http://rp.test/e-notification/"


async def test_two_applications_side_by_side_keep_their_own_organisation(
    edge_server: EdgeServer, browser: Browser
) -> None:
    a = await edge_server.create_organisation("Stad A")
    b = await edge_server.create_organisation("Stad B")
    roles = [("e-tendering", "buyer"), ("e-notification", "editor")]
    _, username, password = await edge_server.create_user({a: roles, b: roles}, default=a)
    await browser.login(username, password)
    tendering = await browser.tokens("e-tendering")
    notification = await browser.tokens("e-notification")
    await _change(browser, tendering["access_token"], b)
    # e-Notification refreshes its token: still organisation A.
    refreshed = await browser.http.post(
        f"{edge_server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": notification["refresh_token"]},
        auth=("e-notification", "secret-e-notification"),
    )
    assert _claims(edge_server, refreshed.json()["access_token"])["org_id"] == str(a)
    tendering_again = await browser.http.post(
        f"{edge_server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tendering["refresh_token"]},
        auth=("e-tendering", "secret-e-tendering"),
    )
    assert _claims(edge_server, tendering_again.json()["access_token"])["org_id"] == str(b)


async def test_change_organisation_refuses_a_foreign_organisation(
    edge_server: EdgeServer, browser: Browser
) -> None:
    mine = await edge_server.create_organisation("Mine")
    foreign = await edge_server.create_organisation("Foreign")
    _, username, password = await edge_server.create_user({mine: [("e-tendering", "buyer")]})
    await browser.login(username, password)
    tokens = await browser.tokens("e-tendering")
    response = await browser.http.post(
        f"{edge_server.base_url}/session/organisation",
        json={"organisation_id": str(foreign)},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "not_a_member"


async def test_top_bar_lists_applications_with_a_role_in_any_organisation(
    edge_server: EdgeServer, browser: Browser
) -> None:
    a = await edge_server.create_organisation("Org A")
    b = await edge_server.create_organisation("Org B")
    _, username, password = await edge_server.create_user(
        {a: [("e-tendering", "buyer")], b: [("e-awarding", "editor")]}, default=a
    )
    await browser.login(username, password)
    tokens = await browser.tokens("e-tendering")
    response = await browser.http.get(
        f"{edge_server.base_url}/session/topbar",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    body = response.json()
    assert sorted(app["application"] for app in body["applications"]) == [
        "e-awarding",
        "e-tendering",
    ]
    active = body["active_organisation"]
    assert (active["id"], active["name"]) == (str(a), "Org A")
    # Every language's name too, for a page in another language than the profile's.
    assert active["names"]["nl"] == "Org A"
    assert {o["names"]["nl"] for o in body["organisations"]} == {"Org A", "Org B"}
    assert body["user"]["preferred_username"] == username


async def test_membership_events_over_kafka_show_in_the_next_token(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("Gemeente Kafka")
    user_id, username, password = await edge_server.create_user()
    await browser.login(username, password)
    before = await browser.tokens("e-notification")
    assert _claims(edge_server, before["access_token"])["roles"] == []

    publisher = KafkaPublisher(edge_server.settings.kafka_bootstrap, client_id="test")
    await publisher.start()

    async def publish(payload: Any) -> None:
        envelope = Envelope.wrap(payload, producer="organisations")
        topic = edge_server.settings.topic_prefix + topic_of(payload).name
        await publisher.publish([Record(topic, envelope.partition_key, encode(envelope))])

    async def next_claims(predicate: Any) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            tokens = await browser.tokens("e-notification")
            claims = _claims(edge_server, tokens["access_token"])
            if predicate(claims) or time.monotonic() > deadline:
                return claims
            await asyncio.sleep(0.1)

    try:
        await publish(
            ev.MembershipGranted(
                user_id=user_id,
                organisation_id=org,
                roles=[RoleGrant(application="e-notification", role="publisher")],
            )
        )
        await publish(ev.DefaultOrganisationChanged(user_id=user_id, organisation_id=org))
        granted = await next_claims(lambda c: c.get("roles"))
        assert granted["roles"] == ["publisher"] and granted["org_id"] == str(org)
        assert caller_from_claims(granted).active_organisation == org
        await publish(
            ev.MembershipRevoked(
                user_id=user_id, organisation_id=org, reason=ev.RevocationReason.LEFT
            )
        )
        revoked = await next_claims(lambda c: not c.get("roles"))
        assert revoked["roles"] == [] and revoked.get("org_id") is None
    finally:
        await publisher.stop()


async def test_a_late_older_grant_never_revives_a_revoked_membership(
    edge_server: EdgeServer, browser: Browser
) -> None:
    org = await edge_server.create_organisation("Gemeente Laat")
    user_id, username, password = await edge_server.create_user(
        {org: [("e-notification", "editor")]}
    )
    now = datetime.now(UTC)
    revoked = Envelope.wrap(
        ev.MembershipRevoked(
            user_id=user_id, organisation_id=org, reason=ev.RevocationReason.REMOVED
        ),
        producer="organisations",
    ).model_copy(update={"occurred_at": now + timedelta(seconds=1)})
    stale = Envelope.wrap(
        ev.MembershipGranted(
            user_id=user_id,
            organisation_id=org,
            roles=[RoleGrant(application="e-notification", role="publisher")],
        ),
        producer="organisations",
    ).model_copy(update={"occurred_at": now})
    sessions = edge_server.app.state.service.sessions
    for envelope in (revoked, stale):
        async with unit_of_work(sessions) as session:
            await HANDLERS.dispatch(session, envelope)
    await browser.login(username, password)
    claims = _claims(edge_server, (await browser.tokens("e-notification"))["access_token"])
    assert claims["roles"] == [] and claims.get("org_id") is None


async def test_a_change_consumed_by_another_instance_reaches_this_cache(
    edge_server: EdgeServer,
) -> None:
    org = await edge_server.create_organisation("Gemeente Twee")
    user_id, _, _ = await edge_server.create_user({org: [("e-awarding", "editor")]})
    sessions = edge_server.app.state.service.sessions
    this_instance = ClaimsCache()
    async with sessions() as session:
        assert (await this_instance.get(session, user_id)).roles_in(org, "e-awarding") == ["editor"]
    # Another instance's consumer applies the change: this cache hears nothing.
    await edge_server.publish_locally(
        ev.MembershipRolesChanged(
            user_id=user_id,
            organisation_id=org,
            roles=[RoleGrant(application="e-awarding", role="superuser")],
        )
    )
    async with sessions() as session:
        assert (await this_instance.get(session, user_id)).roles_in(org, "e-awarding") == [
            "superuser"
        ]


async def test_the_first_grant_alone_puts_organisation_and_role_in_the_next_token(
    edge_server: EdgeServer, browser: Browser
) -> None:
    """An approval reaches the token through one event: the grant that made the
    organisation the user's default says so (DefaultOrganisationChanged may come later)."""
    org = await edge_server.create_organisation("Gemeente Eén")
    user_id, username, password = await edge_server.create_user()
    await browser.login(username, password)
    await edge_server.publish_locally(
        ev.MembershipGranted(
            user_id=user_id,
            organisation_id=org,
            roles=[RoleGrant(application="e-notification", role="publisher")],
            default=True,
        )
    )
    claims = _claims(edge_server, (await browser.tokens("e-notification"))["access_token"])
    assert claims["roles"] == ["publisher"] and claims["org_id"] == str(org)


async def test_the_next_refresh_carries_operator_and_membership_changes(
    edge_server: EdgeServer, browser: Browser
) -> None:
    """Issue 18 finding 8: on main the session kept the operator status read at
    login for its 10 hours. Identity's event now reaches the live session, so the
    application's next refresh says what is true now."""
    org = await edge_server.create_organisation("Gemeente Verversing")
    user_id, username, password = await edge_server.create_user({org: [("e-tendering", "buyer")]})
    edge_server.identity.operators.add(user_id)
    await browser.login(username, password)
    tokens = await browser.tokens("e-tendering")
    claims = _claims(edge_server, tokens["access_token"])
    assert claims["platform_operator"] is True and claims["roles"] == ["buyer"]

    await edge_server.publish_locally(
        ev.PlatformOperatorChanged(user_id=user_id, platform_operator=False),
        ev.MembershipRevoked(
            user_id=user_id, organisation_id=org, reason=ev.RevocationReason.REMOVED
        ),
    )
    refreshed = await browser.http.post(
        f"{edge_server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("e-tendering", "secret-e-tendering"),
    )
    assert refreshed.status_code == 200, refreshed.text
    now = _claims(edge_server, refreshed.json()["access_token"])
    assert now["platform_operator"] is False
    assert now["roles"] == [] and now.get("org_id") is None


async def test_the_top_bar_follows_a_removal_and_an_approval_at_once(
    edge_server: EdgeServer, browser: Browser
) -> None:
    """Issue 19 point 7: the top bar said what the (old) token said, so a removed
    member's header kept the old organisation and someone approved mid-session had
    none until the next login. It now says what the edge knows, and whether the
    token it was read with is still current (else the caller refreshes)."""
    old = await edge_server.create_organisation("Gemeente Oud")
    new = await edge_server.create_organisation("Gemeente Nieuw")
    user_id, username, password = await edge_server.create_user({old: [("e-tendering", "buyer")]})
    await browser.login(username, password)
    tokens = await browser.tokens("portal")

    async def bar() -> dict[str, Any]:
        answer = await browser.http.get(
            f"{edge_server.base_url}/session/topbar",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    first = await bar()
    assert first["active_organisation"]["name"] == "Gemeente Oud"
    assert first["claims_current"] is True
    await edge_server.publish_locally(
        ev.MembershipRevoked(
            user_id=user_id, organisation_id=old, reason=ev.RevocationReason.REMOVED
        )
    )
    removed = await bar()  # the same token, still naming the old organisation
    assert _claims(edge_server, tokens["access_token"])["org_id"] == str(old)
    assert removed["active_organisation"]["id"] is None
    assert removed["organisations"] == [] and removed["applications"] == []
    assert removed["claims_current"] is False
    await edge_server.publish_locally(
        ev.MembershipGranted(
            user_id=user_id,
            organisation_id=new,
            roles=[RoleGrant(application="e-tendering", role="buyer")],
            default=True,
        )
    )
    approved = await bar()
    assert approved["active_organisation"]["name"] == "Gemeente Nieuw"
    assert approved["claims_current"] is False
    refreshed = await browser.http.post(
        f"{edge_server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("portal", "secret-portal"),
    )
    assert refreshed.status_code == 200, refreshed.text
    tokens.update(refreshed.json())
    assert _claims(edge_server, tokens["access_token"])["org_id"] == str(new)
    assert (await bar())["claims_current"] is True
