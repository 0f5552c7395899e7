"""The four stand-in platform applications of ``make run`` in Chromium (issue 19,
point 12; R-I18N-1): a demo Superuser opens e-Notification and e-Tendering. The pages
speak Dutch, French and German, show names (the person, the organisation, the role
names of the hub's catalogue, a member who never opened the application by the
name the hub's SCIM service gives), never ids or codes, in the platform's look; the public
page says why the user is there and how to join. axe finds no serious or critical
violation.

``eproc run`` runs here as a subprocess, as ``make run`` starts it (no card needed)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

import eproc_portal_testkit as steps
from eproc.demo import DEMO_PASSWORD
from eproc_runtime.testing.infra import free_port

from .test_embedded import _start, _stop, _wait_for_start_page, await_demo

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS")  # `make screenshots`


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    data = tmp_path_factory.mktemp("demo-apps") / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(data, port)
    try:
        _wait_for_start_page(base, process)
        yield base, await_demo(base)
    finally:
        _stop(process, data.parent / f"eproc-run-{port}.log")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    subprocess.run(["bash", str(REPO_ROOT / "deploy" / "local" / "chromium.sh")], check=True)
    async with steps.chromium() as chromium:
        yield chromium


async def assert_accessible(page: Page, name: str) -> None:
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS) / str(await page.get_attribute("html", "lang"))
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    await page.evaluate(AXE)
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]
    assert bad == [], f"{page.url}: {bad}"


async def test_a_superuser_uses_the_demo_applications_in_dutch_french_and_german(
    browser: Browser, demo: tuple[str, dict[str, Any]]
) -> None:
    base, people = demo
    organisation = people["superusers"]["dirk"]["organisation"]  # its Dutch name
    page = await steps.new_page(browser, "nl-BE")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await steps.login_with_password(page, base, username="dirk", password=DEMO_PASSWORD)
    # In the portal, Dirk makes Lotte Maes an Editor of e-Notification in his
    # organisation: she has never opened the application.
    await page.goto(f"{base}/superuser/members")
    add = page.locator("form[action='/superuser/members/add']")
    await add.get_by_label("Gebruikersnaam").fill("lotte")
    await add.get_by_role("group", name="e-Notification").get_by_label("Editor", exact=True).check()
    await add.get_by_role("button", name="Opslaan").click()
    await expect(page.get_by_role("row").filter(has_text="Lotte Maes")).to_be_visible()

    # Not yet logged in at e-Notification: its public page says so, in Dutch.
    await page.goto(f"{base}/apps/e-notification/")
    assert await page.get_attribute("html", "lang") == "nl"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welkom bij e-Notification")
    await expect(page.locator("#why")).to_have_text(
        "U ziet de openbare pagina van e-Notification: u bent hier niet aangemeld."
    )
    await assert_accessible(page, "app-public")
    await page.get_by_role("main").get_by_role("link", name="Aanmelden").click()

    # One login for the platform: straight in, with names and the catalogue's role names.
    await page.wait_for_url(re.compile(r".*/apps/e-notification/app"))
    banner = page.get_by_role("banner")
    await expect(banner).to_contain_text("U bent aangemeld als Dirk Jan Janssens")
    # The edge learns the organisations' names from their events: right after a
    # first start (the loader announces hundreds) the name may come a little
    # later than the page; a reload shows it once the edge has it.
    for _ in range(60):
        if (await page.locator("#organisation").text_content() or "").strip():
            break
        await page.wait_for_timeout(1000)
        await page.reload()
    await expect(page.locator("#organisation")).to_have_text(organisation)
    await expect(page.locator("#roles")).to_have_text("Superuser")
    members = page.get_by_role("table")
    await expect(members.get_by_role("row").filter(has_text="Dirk Jan Janssens")).to_contain_text(
        "Superuser"
    )
    await expect(page.locator("main")).not_to_contain_text(people["superusers"]["dirk"]["user_id"])
    # Lotte, who never opened e-Notification, by her name (the hub's SCIM service),
    # once the application has heard of her membership (the bus).
    lotte = members.get_by_role("row").filter(has_text="Lotte Maes")
    for _ in range(50):
        if await lotte.count():
            break
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(lotte).to_contain_text("Editor")
    await expect(members).not_to_contain_text("nog niet heeft geopend")
    await expect(page.locator("main")).not_to_contain_text(people["superusers"]["lotte"]["user_id"])
    await expect(page.get_by_role("contentinfo").get_by_role("link")).to_have_text(
        "Helpdesk en contact"
    )
    await assert_accessible(page, "app")
    await page.get_by_label("Dossiernummer").fill("N-2026-042")
    await page.get_by_role("button", name="Mij aan dit dossier koppelen").click()
    await expect(page.get_by_role("status")).to_have_text(
        "U bent gekoppeld aan dossier N-2026-042."
    )

    # French, by the page's own switch: the organisation's French name.
    await page.get_by_role("link", name="Français").click()
    assert await page.get_attribute("html", "lang") == "fr"
    await expect(banner).to_contain_text("Vous êtes connecté en tant que Dirk Jan Janssens")
    await expect(page.locator("#organisation")).to_have_text("Service Achats (démo)")
    await expect(page.locator("#roles")).to_have_text("Superutilisateur")
    await expect(
        page.get_by_role("heading", name="Membres ayant un rôle dans e-Notification")
    ).to_be_visible()
    await assert_accessible(page, "app")

    # German.
    await page.get_by_role("link", name="Deutsch").click()
    await expect(banner).to_contain_text("Sie sind angemeldet als Dirk Jan Janssens")
    await expect(
        page.get_by_role("button", name="Mich mit diesem Dossier verknüpfen")
    ).to_be_visible()
    await assert_accessible(page, "app")

    # e-Tendering: no role there in his organisations. Its public page says why, in
    # his words, and how to get one in the portal.
    await page.goto(f"{base}/apps/e-tendering/")
    await page.get_by_role("main").get_by_role("link", name="Aanmelden").click()
    await expect(page.locator("#why")).to_have_text(
        "U bent aangemeld als Dirk Jan Janssens, maar u hebt geen rol in e-Tendering bij "
        f"{organisation}."
    )
    join = page.get_by_role("link", name="Toetreden tot een organisatie")
    await expect(join).to_have_attribute("href", f"{base}/join")
    await assert_accessible(page, "app-no-role")
    await join.click()
    await page.wait_for_url(f"{base}/join")
    assert errors == []
    await page.context.close()
