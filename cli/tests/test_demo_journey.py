"""Smoke test of ``make run``: the demo journey in Debian's Chromium against
``eproc run`` (a subprocess, as ``make run`` starts it) with its virtual eID card.

A demo person of the banner (alice, whose card is in the vpcd reader) registers
with the card and its PIN, logs in with it and asks to join a demo organisation
with a role; that organisation's demo Superuser (dirk) logs in the way the banner
says (username and password on the edge's login page) and approves in the
portal; the decision mail reaches ``/mail``; alice's next page shows the
membership with the role.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

import eproc_portal_testkit as steps
from eproc.card import VPCD_PORT
from eproc_runtime.testing.infra import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


@dataclass
class Running:
    base: str
    log: Path
    banner: str
    demo: dict[str, Any]


@pytest.fixture(scope="module")
def pcscd() -> None:
    """pcscd with the vpcd virtual readers (``make run`` starts it the same way)."""
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "deploy" / "local" / "pcscd.sh"), "start"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"pcscd could not start:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    subprocess.run(["bash", str(REPO_ROOT / "deploy" / "local" / "chromium.sh")], check=True)
    async with steps.chromium() as chromium:
        yield chromium


def _wait(check: Any, what: str, process: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"eproc run ended early:\n{log.read_text()}"
        try:
            result = check()
        except httpx.TransportError:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture
def eproc_run(pcscd: None, tmp_path: Path) -> Iterator[Running]:
    """``eproc run`` with alice's card in vpcd's first slot and the card agent on a
    free port (the default 35970 may be taken by someone's own agent)."""
    port, agent_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "eproc-run.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eproc",
            "run",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(port),
            "--smtp-port",
            "0",
            "--person",
            "alice",
            "--vpcd-port",
            str(VPCD_PORT),
            "--agent-port",
            str(agent_port),
        ],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait(lambda: httpx.get(base + "/", timeout=1).status_code == 200, "portal", process, log)

        def demo() -> Any:
            body = httpx.get(f"{base}/demo.json", timeout=2).json()
            assert body["error"] is None, body["error"]
            return body if body["superusers"] else None

        def card_in_reader() -> bool:
            status = httpx.get(f"http://127.0.0.1:{agent_port}/status", timeout=5).json()
            return bool(status.get("card")) and status.get("error") is None

        found = _wait(demo, "demo Superusers", process, log)
        _wait(card_in_reader, "alice's card in the reader", process, log)
        yield Running(base=base, log=log, banner=log.read_text(), demo=found)
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_demo_journey_in_the_browser_against_eproc_run(
    browser: Browser, eproc_run: Running
) -> None:
    base = eproc_run.base
    banner = eproc_run.banner
    # What the banner tells: the demo person whose card is in, its PIN, the Superuser
    # and the password, and the local login.
    assert "card of 'alice' in the vpcd reader" in banner, banner
    assert "alice    Alice Marie Peeters" in banner and "PIN 1234" in banner
    password = eproc_run.demo["password"]
    assert f"dirk     password {password}" in banner and "/sso/login" in banner
    dirk = eproc_run.demo["superusers"]["dirk"]
    organisation, organisation_name = dirk["organisation_id"], dirk["organisation"]
    assert f"Superuser of '{organisation_name}'" in banner

    # Alice registers with her card and PIN, logs in with it, asks to join dirk's
    # organisation (found by name) as an e-Notification editor.
    alice = await steps.new_page(browser)
    errors: list[str] = []
    alice.on("pageerror", lambda error: errors.append(str(error)))
    given_names = await steps.register_with_card(
        alice,
        base,
        eid=f"{base}/eid",
        pin="1234",
        email="alice.peeters@example.org",
        phone="+32 16 12 34 56",
        username="alice",
        password="a long enough pass phrase",
    )
    assert given_names == "Alice Marie"
    await steps.login_with_card_after_registration(alice, base, pin="1234")
    await expect(alice.locator(".who")).to_contain_text("Alice Marie Peeters")
    await steps.choose_to_join(alice, base)
    await alice.locator("#q").fill(organisation_name)
    await alice.locator("form[action='/join'] button[type=submit]").click()
    await alice.locator(f"#hit-{organisation}").check()
    await alice.locator("form[action='/join/select'] button[type=submit]").click()
    await steps.set_basket_roles(alice, organisation, ("e-notification-editor",))
    await steps.submit_basket(alice, [organisation])
    in_progress = alice.locator("section[aria-labelledby=in-progress]")
    await expect(in_progress).to_contain_text(organisation_name)

    # Dirk logs in as the banner says (the portal's login → the edge's form) and approves.
    superuser = await steps.new_page(browser)
    await superuser.goto(f"{base}/auth/login")
    assert superuser.url.startswith(f"{base}/sso/login?"), superuser.url
    await steps.login_with_password(superuser, base, username="dirk", password=password)
    await steps.open_pending_request(superuser, base, organisation)
    await steps.decide_request(superuser, "approve")

    # The decision mail arrives in the SMTP sink, listed at /mail.
    subject = f"Uw toetredingsaanvraag voor {organisation_name} is goedgekeurd"
    mail_page = await steps.new_page(browser)
    for _ in range(150):
        await mail_page.goto(f"{base}/mail")
        if subject in await mail_page.content():
            break
        await mail_page.wait_for_timeout(200)
    await expect(mail_page.locator("body")).to_contain_text(subject)
    async with httpx.AsyncClient() as http:
        mails = (await http.get(f"{base}/mail.json")).json()
    assert [m for m in mails if m["subject"] == subject and "alice.peeters@" in str(m)], mails

    # Alice's next page: the membership, with the role.
    await alice.goto(f"{base}/my-organisations")
    row = alice.locator("main table tbody tr").filter(has_text=organisation_name)
    await expect(row).to_contain_text("e-Notification: Editor")
    assert errors == []
    for page in (alice, superuser, mail_page):
        await page.context.close()
