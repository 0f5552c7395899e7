"""R-PWD-1 at the edge: a password change ends the user's other sessions with
their tokens (the one it was made in stays); "Forgot password?" sits with the
password form only; the answer to a reset request is one page whatever was
typed; the link's page refuses a used or unknown link with a page, not a 500."""

from __future__ import annotations

import html
import re
import uuid

import httpx
from joserfc import jwt

from eproc_contracts import events as ev
from eproc_runtime.testing.eventually import eventually

from .conftest import Browser, EdgeServer


async def _refresh(browser: Browser, client_id: str, refresh_token: str) -> httpx.Response:
    return await browser.http.post(
        f"{browser.server.base_url}/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client_id, f"secret-{client_id}"),
    )


async def test_a_password_change_logs_the_other_browsers_out(edge_server: EdgeServer) -> None:
    user_id, username, password = await edge_server.create_user()
    async with (
        httpx.AsyncClient(follow_redirects=False, timeout=10) as own,
        httpx.AsyncClient(follow_redirects=False, timeout=10) as thief,
    ):
        mine, theirs = Browser(edge_server, own), Browser(edge_server, thief)
        await mine.login(username, password)
        await theirs.login(username, password)
        my_tokens = await mine.tokens("e-tendering")
        their_tokens = await theirs.tokens("e-tendering")
        their_catalogue = await theirs.tokens("e-catalogue")
        their_sid = edge_server.edge.server.verify_access_token(their_catalogue["access_token"])
        assert their_sid is not None
        already = len(edge_server.logout_tokens)
        claims = edge_server.edge.server.verify_access_token(my_tokens["access_token"])
        assert claims is not None

        await edge_server.publish_locally(
            ev.PasswordChanged(
                user_id=user_id, how=ev.PasswordChange.CHANGED, kept_session_id=claims["sid"]
            )
        )

        assert (
            await _refresh(theirs, "e-tendering", their_tokens["refresh_token"])
        ).status_code == 400
        introspection = await thief.post(
            f"{edge_server.base_url}/introspect",
            data={"token": their_tokens["access_token"]},
            auth=("e-tendering", "secret-e-tendering"),
        )
        assert introspection.json() == {"active": False}
        # Their browser's SSO session is gone: the next application asks for a login.
        assert "code" not in await theirs.authorize("e-catalogue")

        # e-Catalogue, open in their browser, hears of it on its back channel.
        def told() -> list[str]:
            return [
                t
                for t in edge_server.logout_tokens[already:]
                if jwt.decode(t, edge_server.edge.keyring.material.published).claims["sid"]
                == their_sid["sid"]
            ]

        assert await eventually(told, timeout=10, what="the back-channel logout")
        # Mine goes on.
        assert (await _refresh(mine, "e-tendering", my_tokens["refresh_token"])).status_code == 200
        assert "code" in await mine.authorize("e-catalogue")

        # A reset keeps no session at all.
        await edge_server.publish_locally(
            ev.PasswordChanged(user_id=user_id, how=ev.PasswordChange.RESET)
        )
        assert "code" not in await mine.authorize("e-notification")


def _csrf(page: httpx.Response) -> str:
    found = re.search(r"name='csrf' value='([^']+)'", page.text)
    assert found is not None, page.text
    return found.group(1)


async def test_forgot_password_sits_with_the_password_form_only(
    edge_server: EdgeServer, browser: Browser
) -> None:
    base = edge_server.base_url
    edge_server.identity.local_login_for_everyone = False
    try:
        hidden = await browser.http.get(f"{base}/login?lang=nl")
        assert "Wachtwoord vergeten?" not in hidden.text
        shown = await browser.http.get(f"{base}/login/password?lang=nl")
        assert "Wachtwoord vergeten?" in shown.text
        assert "/login/forgot?" in shown.text
    finally:
        edge_server.identity.local_login_for_everyone = True


async def test_the_answer_is_one_page_whatever_was_typed(
    edge_server: EdgeServer, browser: Browser
) -> None:
    base = edge_server.base_url
    pages = []
    typed_in = ["someone@example.be", f"nobody-{uuid.uuid4().hex[:6]}"]
    for typed in typed_in:
        form = await browser.http.get(f"{base}/login/forgot?lang=fr")
        assert form.status_code == 200
        assert "Nom d'utilisateur ou adresse e-mail" in html.unescape(form.text)
        sent = await browser.http.post(
            f"{base}/login/forgot", data={"login": typed, "csrf": _csrf(form), "lang": "fr"}
        )
        assert sent.status_code == 303
        page = await browser.http.get(base + sent.headers["location"].removeprefix(base))
        assert page.status_code == 200
        pages.append(page.text)
    assert pages[0] == pages[1]
    assert "Consultez votre boîte mail" in pages[0]
    assert [login for login, _ in edge_server.identity.reset_requests[-2:]] == typed_in

    # Nothing typed: the field says so, nothing is asked of identity.
    asked = len(edge_server.identity.reset_requests)
    form = await browser.http.get(f"{base}/login/forgot?lang=nl")
    empty = await browser.http.post(
        f"{base}/login/forgot", data={"login": "  ", "csrf": _csrf(form), "lang": "nl"}
    )
    assert empty.status_code == 422 and "Vul dit veld in." in empty.text
    assert len(edge_server.identity.reset_requests) == asked


async def test_the_link_sets_a_new_password_once(edge_server: EdgeServer, browser: Browser) -> None:
    base = edge_server.base_url
    username = (await edge_server.create_user()).username
    token = uuid.uuid4().hex
    edge_server.identity.reset_links[token] = (username, "nl")

    form = await browser.http.get(f"{base}/login/reset?lang=nl&token={token}")
    assert form.status_code == 200 and "Nieuw wachtwoord kiezen" in form.text
    differ = await browser.http.post(
        f"{base}/login/reset",
        data={
            "token": token,
            "new_password": "a brand new phrase 42",
            "new_password_repeat": "another phrase",
            "csrf": _csrf(form),
            "lang": "nl",
        },
    )
    assert differ.status_code == 422 and "De twee wachtwoorden zijn niet gelijk." in differ.text
    weak = await browser.http.post(
        f"{base}/login/reset",
        data={
            "token": token,
            "new_password": "short",
            "new_password_repeat": "short",
            "csrf": _csrf(differ),
            "lang": "nl",
        },
    )
    assert weak.status_code == 422
    assert "Het wachtwoord moet minstens 12 tekens lang zijn." in weak.text
    done = await browser.http.post(
        f"{base}/login/reset",
        data={
            "token": token,
            "new_password": "a brand new phrase 42",
            "new_password_repeat": "a brand new phrase 42",
            "csrf": _csrf(weak),
            "lang": "nl",
        },
    )
    assert done.status_code == 200 and "Wachtwoord gewijzigd" in done.text
    assert edge_server.identity.users[username][0] == "a brand new phrase 42"

    used = await browser.http.get(f"{base}/login/reset?lang=fr&token={token}")
    assert used.status_code == 410 and "Ce lien a déjà été utilisé" in used.text
    unknown = await browser.http.get(f"{base}/login/reset?lang=de&token=made-up")
    assert unknown.status_code == 410 and "Dieser Link ist ungültig." in unknown.text
    missing = await browser.http.get(f"{base}/login/reset")
    assert missing.status_code == 410
