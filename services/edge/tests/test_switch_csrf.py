"""The application switch changes state only by a confirmed POST (issue 18 item 7,
R-SEC-5): a forged cross-site form, a wrong token and a plain GET change nothing;
the top bar's form (its token from ``/session/topbar``) does.

The harm a forged switch would do: e-Awarding, open in organisation A, would
continue in organisation B at its next refresh, without the user asking.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from .conftest import Browser, EdgeServer

RP_ORIGIN = "http://rp.test"  # where the test applications' pages are
SWITCH = {"to": "e-awarding", "from": "e-tendering"}


async def _setup(edge_server: EdgeServer, browser: Browser) -> dict[str, Any]:
    """e-Awarding open in A; e-Tendering changed to B; a switch from e-Tendering to
    e-Awarding would carry B over (R-SSO-3 case 1)."""
    a = await edge_server.create_organisation("Gemeente Aalst")
    b = await edge_server.create_organisation("Gemeente Brugge")
    roles = [("e-tendering", "buyer"), ("e-awarding", "editor")]
    _, username, password = await edge_server.create_user({a: roles, b: roles}, default=a)
    await browser.login(username, password)
    awarding = await browser.tokens("e-awarding")
    tendering = await browser.tokens("e-tendering")
    changed = await browser.http.post(
        f"{edge_server.base_url}/session/organisation",
        json={"organisation_id": str(b)},
        headers={"Authorization": f"Bearer {tendering['access_token']}"},
    )
    assert changed.status_code == 200, changed.text
    bar = await browser.http.get(
        f"{edge_server.base_url}/session/topbar",
        headers={"Authorization": f"Bearer {tendering['access_token']}"},
    )
    assert bar.status_code == 200, bar.text
    entry = next(e for e in bar.json()["applications"] if e["client_id"] == "e-awarding")
    assert entry["switch_url"] == f"{edge_server.base_url}/switch?from=e-tendering&to=e-awarding"
    return {"a": a, "b": b, "awarding": awarding, "token": bar.json()["switch_token"]}


async def _awarding_organisation(browser: Browser, tokens: dict[str, Any]) -> UUID:
    """The organisation e-Awarding's next refresh carries."""
    refreshed = await browser.http.post(
        f"{browser.server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("e-awarding", "secret-e-awarding"),
    )
    assert refreshed.status_code == 200, refreshed.text
    tokens.update(refreshed.json())
    claims = browser.server.edge.server.verify_access_token(tokens["access_token"])
    assert claims is not None
    return UUID(claims["org_id"])


async def test_a_forged_or_wrong_switch_changes_nothing_and_the_top_bar_form_does(
    edge_server: EdgeServer, browser: Browser
) -> None:
    world = await _setup(edge_server, browser)
    url = f"{edge_server.base_url}/switch"
    cross_site = {"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"}
    from_the_app = {"Origin": RP_ORIGIN, "Sec-Fetch-Site": "cross-site"}
    attempts = [
        ("no token, another site", {}, cross_site),
        ("a guessed token, another site", {"csrf": "0" * 64}, cross_site),
        ("the right token, another site's page", {"csrf": world["token"]}, cross_site),
        ("a wrong token from the application", {"csrf": world["token"][:-1] + "x"}, from_the_app),
        (
            "no Origin, a cross-site fetch",
            {"csrf": world["token"]},
            {"Sec-Fetch-Site": "cross-site"},
        ),
    ]
    for what, form, headers in attempts:
        refused = await browser.http.post(url, params=SWITCH, data=form, headers=headers)
        assert refused.status_code == 403, what
        # The user sees why, in their language, and a button that would do it knowingly.
        assert "Wilt u e-awarding openen?" in refused.text, what
        assert "er is niets gewijzigd" in refused.text, what
        as_json = await browser.http.post(
            url, params=SWITCH, data=form, headers={**headers, "Accept": "application/json"}
        )
        assert as_json.status_code == 403, what
        assert as_json.json()["detail"]["code"] == "switch_not_confirmed", what
        assert await _awarding_organisation(browser, world["awarding"]) == world["a"], what

    # The top bar's form, as the application's page posts it: the switch happens.
    done = await browser.http.post(
        url, params=SWITCH, data={"csrf": world["token"]}, headers=from_the_app
    )
    assert done.status_code == 303
    assert done.headers["location"] == "http://rp.test/e-awarding/login"
    assert await _awarding_organisation(browser, world["awarding"]) == world["b"]


async def test_a_get_of_an_old_switch_link_asks_first_and_changes_nothing(
    edge_server: EdgeServer, browser: Browser
) -> None:
    world = await _setup(edge_server, browser)
    page = await browser.http.get(
        f"{edge_server.base_url}/switch", params=SWITCH, headers={"Accept-Language": "fr-BE"}
    )
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Voulez-vous ouvrir e-awarding ?" in page.text and "Ouvrir e-awarding" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert await _awarding_organisation(browser, world["awarding"]) == world["a"]
    # JSON callers of the old GET learn nothing and change nothing either.
    old_json = await browser.http.get(
        f"{edge_server.base_url}/switch", params=SWITCH, headers={"Accept": "application/json"}
    )
    assert old_json.status_code == 200 and "<form" in old_json.text
    assert await _awarding_organisation(browser, world["awarding"]) == world["a"]

    # Confirming on the edge's own page (a same-origin form; Origin null under its
    # no-referrer policy) switches.
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    token = re.search(r"name='csrf' value='([^']+)'", page.text)
    assert action is not None and token is not None
    confirmed = await browser.http.post(
        f"http://{page.url.netloc.decode()}{action.group(1).replace('&amp;', '&')}",
        data={"csrf": token.group(1)},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert confirmed.status_code == 303, confirmed.text
    assert await _awarding_organisation(browser, world["awarding"]) == world["b"]


async def test_without_a_session_the_switch_goes_to_the_home_page_without_a_token(
    edge_server: EdgeServer, browser: Browser
) -> None:
    for method in ("GET", "POST"):
        response = await browser.http.request(
            method, f"{edge_server.base_url}/switch", params=SWITCH
        )
        assert response.status_code == 303, method
        assert response.headers["location"] == "http://rp.test/e-awarding/"
