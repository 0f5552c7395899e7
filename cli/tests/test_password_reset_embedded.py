"""R-PWD-1 end to end, as `make run` serves it: a demo user who forgot the
password asks at the SSO page, the notifier mails the link (through the real
SMTP sink), the link's page sets a new password, only the new one logs in, and
the link works once. An unknown name gets the same page and no mail."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.infra import free_port

from .test_embedded import _start, _stop, _wait_for_start_page

NEW_PASSWORD = "een gloednieuwe zin 2026"


def _csrf(text: str) -> str:
    found = re.search(r"name='csrf' value='([^']+)'", text)
    assert found is not None, text
    return found.group(1)


async def _ask(client: httpx.AsyncClient, login: str) -> str:
    form = await client.get("/sso/login/forgot?lang=nl")
    answer = await client.post(
        "/sso/login/forgot",
        data={"login": login, "csrf": _csrf(form.text), "lang": "nl"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200
    return page.text


async def _login(client: httpx.AsyncClient, password: str) -> int:
    form = await client.get("/sso/login/password?lang=nl")
    answer = await client.post(
        "/sso/login/local",
        data={"username": "dirk", "password": password, "csrf": _csrf(form.text), "lang": "nl"},
        follow_redirects=False,
    )
    return answer.status_code


async def test_a_demo_user_resets_a_forgotten_password_with_the_mailed_link(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(data, port)
    try:
        _wait_for_start_page(base, process)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            await _journey(client)
    finally:
        _stop(process, tmp_path / f"eproc-run-{port}.log")


async def _journey(client: httpx.AsyncClient) -> None:
    async def demo_ready() -> Any:
        demo = (await client.get("/demo.json")).json()
        assert demo["error"] is None, demo["error"]
        return demo["superusers"]

    await eventually(demo_ready, timeout=60, what="the demo Superusers")
    unknown = await _ask(client, "niemand-die-bestaat")
    known = await _ask(client, "dirk")
    assert known == unknown and "Kijk in uw mailbox" in known

    async def mailed() -> list[dict[str, str]]:
        return [
            m for m in (await client.get("/mail.json")).json() if m["to"] == "dirk.demo@example.org"
        ]

    [mail] = await eventually(mailed, timeout=30, what="the reset mail")
    assert mail["subject"] == "Uw wachtwoord voor e-Procurement opnieuw instellen"
    link = re.search(r"(/sso/login/reset\?lang=nl&token=[\w-]+)", mail["body"])
    assert link is not None, mail["body"]
    resets = [
        m for m in (await client.get("/mail.json")).json() if "opnieuw instellen" in m["subject"]
    ]
    assert len(resets) == 1  # none for the unknown name

    form = await client.get(link.group(1))
    assert form.status_code == 200 and "Nieuw wachtwoord kiezen" in form.text
    token = re.search(r"name='token' value='([^']+)'", form.text)
    assert token is not None
    done = await client.post(
        "/sso/login/reset",
        data={
            "token": token.group(1),
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
            "csrf": _csrf(form.text),
            "lang": "nl",
        },
    )
    assert done.status_code == 200 and "Wachtwoord gewijzigd" in done.text

    assert await _login(client, "Eproc-demo-2026!") == 401
    assert await _login(client, NEW_PASSWORD) == 303
    again = await client.get(link.group(1))
    assert again.status_code == 410 and "Deze link werd al gebruikt" in again.text
