"""The screen follows membership changes at once (issue 19 point 7), in Chromium
on the journey's real services (portal, edge, identity, organisations, requests,
two platform applications, one in-process bus), by visible labels, in Dutch and
French:

- a member whom a Superuser removes no longer sees the old organisation in the
  portal's header on the next page (it said "U behoort nog niet tot een
  organisatie" under the old name);
- an open application stops carrying the roles a Superuser changed within
  seconds (the edge's ClaimsChanged makes its token stale; it was up to the
  token's 5 minutes);
- someone approved mid-session has an active organisation on the next page,
  without logging in again.

These use the journey's fixture, which inserts the virtual card: run them under
``flock /tmp/eproc-pcsc.lock``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from eproc_portal_testkit import SSO_WORDS, decide_request, new_page, open_pending_request

from .browser_kit import assert_accessible, browser, chromium  # noqa: F401 - fixtures
from .test_journey import PASSWORD as SUPERUSER_PASSWORD
from .test_journey import Journey, journey, pcscd  # noqa: F401 - fixtures

PASSWORD = "a long enough pass phrase"


async def _register(stack: Journey, *, given: str, family: str, language: str) -> dict[str, Any]:
    """A card holder registered through identity's API, local login switched on
    by an operator (as the helpdesk would), so that the browser logs in by password."""
    suffix = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=10) as http:
        registered = await http.post(
            f"{stack.identity}/registrations",
            json={
                "id_token": stack.card.id_token(given_name=given, family_name=family),
                "email": f"{given.lower()}.{suffix}@example.be",
                "language": language,
                "phone": "02 511 11 11",
                "username": f"{given.lower()}.{suffix}",
                "password": PASSWORD,
            },
        )
        assert registered.status_code == 201, registered.text
        user = dict(registered.json())
    await stack.allow_password(user["id"])
    return user


def _as(stack: Journey, user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.issuer.user_token(uuid.UUID(user_id))}"}


async def _log_in(
    page: Page, stack: Journey, username: str, landing: str, password: str = PASSWORD
) -> None:
    await page.goto(f"{stack.portal}/auth/login")
    words = SSO_WORDS[str(await page.get_attribute("html", "lang"))]
    await page.get_by_role("link", name=words["password_link"]).click()
    await page.get_by_label(words["username"], exact=True).fill(username)
    await page.get_by_label(words["password"], exact=True).fill(password)
    await page.get_by_role("button", name=words["submit"], exact=True).click()
    await page.wait_for_url(f"{stack.portal}{landing}")


async def test_a_removed_member_and_an_open_application_follow_at_once_in_dutch(
    browser: Browser,  # noqa: F811 - the fixture imported above
    journey: Journey,  # noqa: F811
) -> None:
    first, name = journey.first["id"], journey.first["names"]["nl"]
    superuser = _as(journey, journey.superuser["id"])
    buyer = await _register(journey, given="Jan", family="Janssens", language="nl")
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(100):  # organisations learns of the new user from the bus
            added = await http.post(
                f"{journey.organisations}/organisations/{first}/members",
                headers=superuser,
                json={
                    "username": buyer["username"],
                    "roles": [{"application": "e-tendering", "role": "dossier-manager"}],
                },
            )
            if added.status_code != 404:
                break
            await asyncio.sleep(0.1)
        assert added.status_code in (200, 201), added.text

    page = await new_page(browser, "nl-BE")
    await _log_in(page, journey, buyer["username"], "/home")
    await expect(page.locator(".who .organisation")).to_have_text(name)
    # The top bar's form opens e-Tendering in that organisation, with the role.
    await page.locator("nav.apps").get_by_role("button", name="e-Tendering").click()
    await page.wait_for_url(f"{journey.apps}/apps/e-tendering/app")
    await expect(page.locator("#organisation")).to_have_text(name)
    # The application names the role in the page's language (the role catalogue).
    await expect(page.locator("#roles")).to_have_text("Dossierverantwoordelijke")

    # The Superuser changes the roles; the open application shows the new ones
    # within seconds (before: the token's roles until it expired, up to 5 minutes).
    async with httpx.AsyncClient(timeout=10) as http:
        changed = await http.put(
            f"{journey.organisations}/organisations/{first}/members/{buyer['id']}/roles",
            headers=superuser,
            json={"roles": [{"application": "e-tendering", "role": "associated-buyer"}]},
        )
        assert changed.status_code == 200, changed.text
    started = time.monotonic()
    while (await page.locator("#roles").inner_text()).strip() != "Geassocieerde aankoper":
        assert time.monotonic() - started < 10, "the application kept the old roles for 10 s"
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(page.locator("#organisation")).to_have_text(name)

    # The Superuser removes the member: the portal's next page has no organisation
    # in its header, only the page's own words.
    async with httpx.AsyncClient(timeout=10) as http:
        removed = await http.delete(
            f"{journey.organisations}/organisations/{first}/members/{buyer['id']}",
            headers=superuser,
        )
        assert removed.status_code in (200, 204), removed.text
    started = time.monotonic()
    while True:
        await page.goto(f"{journey.portal}/my-organisations")
        # The next page after the edge heard of it (the bus: well within seconds).
        if (
            await page.get_by_text("U behoort nog niet tot een organisatie.").count()
            and await page.locator(".who .organisation").count() == 0
        ):
            break
        assert time.monotonic() - started < 10, "the old organisation still shown after 10 s"
        await page.wait_for_timeout(200)
    await expect(page.locator(".who")).to_contain_text("Jan Janssens")
    await expect(page.locator(".who .organisation")).to_have_count(0)
    await expect(page.locator("header")).not_to_contain_text(name)
    await expect(page.get_by_role("link", name="Organisatie wijzigen")).to_have_count(0)
    await assert_accessible(page)
    await page.context.close()


async def test_someone_approved_mid_session_has_an_organisation_at_once_in_french(
    browser: Browser,  # noqa: F811 - the fixture imported above
    journey: Journey,  # noqa: F811
) -> None:
    first, name = journey.first["id"], journey.first["names"]["fr"]
    buyer = await _register(journey, given="Anne", family="Lambert", language="fr")
    page = await new_page(browser, "fr-BE")
    # No organisation yet: the first-login choice, no organisation in the header.
    await _log_in(page, journey, buyer["username"], "/welcome")
    await expect(page.locator(".who .organisation")).to_have_count(0)

    # She asks to join (the join page's calls, made directly), a Superuser approves
    # in the portal, in French.
    headers = _as(journey, buyer["id"])
    async with httpx.AsyncClient(timeout=10) as http:
        for method, path, body in (
            ("POST", "/basket/entries", {"organisation_ids": [first]}),
            (
                "PUT",
                "/basket/roles",
                {
                    "organisation_ids": [first],
                    "roles": [{"application": "e-tendering", "role": "dossier-manager"}],
                },
            ),
            ("POST", "/basket/submit", {"organisation_ids": [first]}),
        ):
            answer = await http.request(
                method, f"{journey.requests}{path}", headers=headers, json=body
            )
            assert answer.status_code < 300, answer.text
    superuser = await new_page(browser, "fr-BE")
    await _log_in(superuser, journey, journey.superuser["username"], "/home", SUPERUSER_PASSWORD)
    await open_pending_request(superuser, journey.portal, first)
    await decide_request(superuser, "approve")

    # Her next page, in the same session: the organisation is active in the header.
    started = time.monotonic()
    while True:
        await page.goto(f"{journey.portal}/my-organisations")
        if await page.locator(".who .organisation").count():
            break
        assert time.monotonic() - started < 10, "no active organisation 10 s after the approval"
        await page.wait_for_timeout(200)
    await expect(page.locator(".who .organisation")).to_have_text(name)
    await expect(page.get_by_role("link", name="Changer d'organisation")).to_be_visible()
    await assert_accessible(page)
    # ... and the applications follow: e-Tendering opens in it with the role.
    await page.locator("nav.apps").get_by_role("button", name="e-Tendering").click()
    await page.wait_for_url(f"{journey.apps}/apps/e-tendering/app")
    await expect(page.locator("#roles")).to_have_text("Responsable de dossier")
    for opened in (page, superuser):
        await opened.context.close()


INBOX = {"nl": "Te beslissen aanvragen", "fr": "Demandes à traiter"}


@pytest.mark.parametrize("language", ["nl", "fr"])
async def test_the_superuser_menu_follows_a_role_change_on_every_page(
    browser: Browser,  # noqa: F811 - the fixture imported above
    journey: Journey,  # noqa: F811
    language: str,
) -> None:
    """A member made Superuser mid-session finds the Superuser's screens in the menu
    of the next page, whichever it is (not only on the start page or "My
    organisations"); once the role is taken back, they are gone from the next page."""
    first = journey.first["id"]
    superuser = _as(journey, journey.superuser["id"])
    given, family = {"nl": ("Bart", "Goossens"), "fr": ("Sophie", "Leclercq")}[language]
    buyer = await _register(journey, given=given, family=family, language=language)
    dossier_manager = {"application": "e-tendering", "role": "dossier-manager"}
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(100):  # organisations learns of the new user from the bus
            added = await http.post(
                f"{journey.organisations}/organisations/{first}/members",
                headers=superuser,
                json={"username": buyer["username"], "roles": [dossier_manager]},
            )
            if added.status_code != 404:
                break
            await asyncio.sleep(0.1)
        assert added.status_code in (200, 201), added.text

    page = await new_page(browser, f"{language}-BE")
    await _log_in(page, journey, buyer["username"], "/home")
    inbox = page.locator("nav.menu").get_by_role("link", name=INBOX[language], exact=True)
    await page.goto(f"{journey.portal}/profile")
    await expect(inbox).to_have_count(0)

    async def roles_become(roles: list[dict[str, str]], path: str, shown: int) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            changed = await http.put(
                f"{journey.organisations}/organisations/{first}/members/{buyer['id']}/roles",
                headers=superuser,
                json={"roles": roles},
            )
            assert changed.status_code == 200, changed.text
        started = time.monotonic()
        while True:
            await page.goto(f"{journey.portal}{path}")
            if await inbox.count() == shown:
                return
            assert time.monotonic() - started < 10, f"the menu of {path} unchanged after 10 s"
            await page.wait_for_timeout(200)

    superuser_role = {"application": "user-management", "role": "superuser"}
    await roles_become([dossier_manager, superuser_role], "/profile", 1)
    await expect(inbox).to_be_visible()
    await assert_accessible(page)
    await inbox.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(INBOX[language])
    await roles_become([dossier_manager], "/my-requests", 0)
    await expect(page.locator("nav.menu")).not_to_contain_text(INBOX[language])
    await page.context.close()
