"""Abuse limits (issue 11).

* Bounded request bodies on every landed service (413), NUL characters refused
  up front (400).
* Rate limits (``eproc_runtime.ratelimit``) on request submission (requests:
  every route that creates requests shares one budget per caller) and on the
  organisation search (per caller): over the limit → 429 with ``Retry-After``
  and nothing created; another caller is not affected; after the window the
  caller goes on. The windows here are tiny (settings overrides), the defaults
  are in docs/operations.md. The portal shows such a 429 as a page in the
  user's language (nl/fr/de/en), with ``Retry-After``, not as a crash.
* Security headers on every HTML page of the portal (generated from its GET
  routes) and of the edge: CSP with ``frame-ancestors``, ``nosniff``,
  ``Referrer-Policy``; HSTS only when the public URL is https (both checked).
  The eID gateway's login page: CSP with frame-ancestors and a script nonce.

Login throttling per account *and* per source address is identity's, tested in
``services/identity/tests/test_local_login.py``
(``test_wrong_passwords_are_throttled_per_account``,
``test_failures_are_throttled_per_source_address``); the edge passes the
source address on (``eproc_runtime.forwarded``: ``EPROC_TRUSTED_PROXIES``) and
shows identity's 429 with its ``Retry-After``. CSRF on every portal form:
``tests/test_authorization_matrix.py``.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from eproc_runtime.limits import DEFAULT_MAX_BODY_BYTES
from eproc_runtime.testing.plugin import CreateDatabase

from .adversarial_support import (
    World,
    running_world,
    snapshot,
    start_portal,
)

# One mutating route per service; the body is refused before any route runs.
TARGETS = {
    "identity": ("POST", "/users/me/contacts"),
    "organisations": ("POST", "/operator/organisations"),
    "requests": ("POST", "/basket/entries"),
    "eid-gateway": ("POST", "/authorize/complete"),
    "edge": ("POST", "/session/organisation"),
    "notifier": ("POST", "/healthz"),  # no API: the middleware still stands first
    "portal": ("POST", "/profile"),
}

LIMIT = 3
WINDOW = f"{LIMIT} per 2 seconds"
RATE_LIMITS = {
    "requests": {"submission_rate_limit": WINDOW},
    "organisations": {"search_rate_limit": WINDOW},
}

RATE_LIMITED_PAGE = {
    "nl": "U hebt dit te vaak gedaan in korte tijd.",
    "fr": "Vous avez fait cela trop souvent en peu de temps.",
    "de": "Sie haben dies zu oft in kurzer Zeit getan.",
    "en": "You did this too often in a short time.",
}


async def test_bodies_are_bounded(create_database: CreateDatabase) -> None:
    async with running_world(create_database) as world:
        assert set(TARGETS) == set(world.services), "a service without a body-size check"
        oversized = b'{"name": "' + b"x" * DEFAULT_MAX_BODY_BYTES + b'"}'
        for name, (method, path) in TARGETS.items():
            service = world.services[name]
            before = await snapshot(service)
            headers = {**world.headers("superuser"), "Content-Type": "application/json"}
            response = await service.client.request(
                method, path, content=oversized, headers=headers
            )
            assert response.status_code == 413, (name, response.text[:200])
            assert response.json()["detail"]["code"] == "body_too_large"

            # Streamed without a Content-Length: still bounded.
            async def chunks() -> object:
                for _ in range(DEFAULT_MAX_BODY_BYTES // 65536 + 2):
                    yield b"x" * 65536

            response = await service.client.request(method, path, content=chunks(), headers=headers)
            assert response.status_code == 413, name

            response = await service.client.request(
                method, path, content=b'{"name": "a\\u0000b"}', headers=headers
            )
            assert response.status_code == 400, name
            assert response.json()["detail"]["code"] == "invalid_character"
            assert await snapshot(service) == before, f"{name}: a refused request changed data"


# --- rate limits ---------------------------------------------------------------------------


async def _ready(world: World, user: str) -> str:
    """A fresh organisation in ``user``'s basket, roles chosen: ready to submit."""
    organisation = await world.create_organisation(None, world.organisations["org"])
    world.organisations[f"target-{organisation}"] = organisation
    await world.basket_ready(world.users[user], f"target-{organisation}")
    return str(organisation)


async def _submit(world: World, user: str, organisation: str) -> httpx.Response:
    return await world.services["requests"].client.post(
        "/basket/submit",
        json={"organisation_ids": [organisation]},
        headers=world.user_headers(world.users[user]),
    )


def _assert_rate_limited(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text[:300]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 2
    detail = response.json()["detail"]
    assert detail["code"] == "rate_limited"
    assert detail["retry_after"] == retry_after
    assert detail["message"]
    return retry_after


async def test_request_submission_is_rate_limited_per_caller(
    create_database: CreateDatabase,
) -> None:
    async with running_world(create_database, RATE_LIMITS) as world:
        requests = world.services["requests"]
        targets = [await _ready(world, "buyer") for _ in range(LIMIT + 1)]
        other = await _ready(world, "other_buyer")

        for organisation in targets[:LIMIT]:
            assert (await _submit(world, "buyer", organisation)).status_code == 201
        before = await snapshot(requests)
        retry_after = _assert_rate_limited(await _submit(world, "buyer", targets[LIMIT]))
        # Every route that creates requests shares the budget.
        registration = await requests.client.post(
            "/requests/registrations",
            json={
                "parent_id": str(world.organisations["org"]),
                "names": {"nl": "Dienst Aankopen"},
                "enterprise_number": "0123456749",
                "address": {
                    "street": "Wetstraat",
                    "number": "16",
                    "postcode": "1000",
                    "municipality": "Brussel",
                },
            },
            headers=world.user_headers(world.users["buyer"]),
        )
        _assert_rate_limited(registration)
        leave = await requests.client.post(
            "/requests/leaves",
            json={"organisation_ids": [str(world.organisations["org"])]},
            headers=world.user_headers(world.users["buyer"]),
        )
        _assert_rate_limited(leave)
        assert await snapshot(requests) == before, "a refused submission changed data"

        # Another caller is not affected.
        assert (await _submit(world, "other_buyer", other)).status_code == 201

        # After the window the buyer goes on.
        await asyncio.sleep(retry_after + 0.1)
        assert (await _submit(world, "buyer", targets[LIMIT])).status_code == 201


async def test_organisation_search_is_rate_limited_per_caller(
    create_database: CreateDatabase,
) -> None:
    async with running_world(create_database, RATE_LIMITS) as world:
        api = world.services["organisations"].client

        async def search(actor: str) -> httpx.Response:
            return await api.get(
                "/organisations/search", params={"q": "Adversarial"}, headers=world.headers(actor)
            )

        for _ in range(LIMIT):
            assert (await search("buyer")).status_code == 200
        retry_after = _assert_rate_limited(await search("buyer"))
        # Another user and a platform application have their own budgets.
        assert (await search("other_buyer")).status_code == 200
        assert (await search("application")).status_code == 200
        assert world.headers("application") != world.headers("buyer")
        await asyncio.sleep(retry_after + 0.1)
        assert (await search("buyer")).status_code == 200


async def test_the_portal_shows_a_rate_limit_in_the_users_language(
    create_database: CreateDatabase,
) -> None:
    async with running_world(create_database, RATE_LIMITS) as world:
        portal = world.services["portal"].client
        cookie, csrf = world.portal_session("buyer")
        assert cookie is not None and csrf is not None

        # The search of the join page, spent through the API.
        for _ in range(LIMIT):
            await world.services["organisations"].client.get(
                "/organisations/search",
                params={"q": "x"},
                headers=world.user_headers(world.users["buyer"]),
            )
        for language, sentence in RATE_LIMITED_PAGE.items():
            page = await portal.get(
                "/join",
                params={"q": "Adversarial"},
                headers={"Cookie": f"eproc_portal={cookie}; eproc_lang={language}"},
            )
            assert page.status_code == 429, page.text[:300]
            assert page.headers["content-type"].startswith("text/html")
            assert 1 <= int(page.headers["Retry-After"]) <= 2
            assert sentence in page.text, (language, page.text[:2000])

        # Submitting the basket through the portal, over the limit: a page, nothing created.
        targets = [await _ready(world, "buyer") for _ in range(LIMIT + 1)]
        for organisation in targets[:LIMIT]:
            assert (await _submit(world, "buyer", organisation)).status_code == 201
        requests = world.services["requests"]
        before = await snapshot(requests)
        page = await portal.post(
            "/join/basket",
            data={"csrf_token": csrf, "action": "submit", "organisation_ids": targets[LIMIT]},
            headers={"Cookie": f"eproc_portal={cookie}; eproc_lang=fr"},
        )
        assert page.status_code == 429, page.text[:300]
        assert RATE_LIMITED_PAGE["fr"] in page.text
        assert await snapshot(requests) == before


# --- security headers ----------------------------------------------------------------------


def _assert_page_headers(response: httpx.Response, *, hsts: bool, where: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") in ("same-origin", "no-referrer"), where
    if hsts:
        assert response.headers.get("strict-transport-security", "").startswith("max-age="), where
    else:
        assert "strict-transport-security" not in response.headers, where


def _get_routes(app: Any) -> list[str]:
    from .test_authorization_matrix import http_routes

    return sorted({path for path, methods in http_routes(app) if "GET" in methods})


async def _portal_pages(world: World, client: httpx.AsyncClient, *, hsts: bool) -> int:
    """Every GET route of the portal, as an anonymous visitor, a Superuser and the
    operator; every HTML answer (pages, error pages) must carry the headers."""
    requester, _ = await world.register_user()
    ids = {
        "request_id": str(await world.submitted_request(requester, "org")),
        "contact_id": str(await world.contact_of(world.users["superuser"])),
        "user_id": str(world.users["buyer"]),  # a member whose profile a Superuser edits
        "client_id": "portal",  # an application of the edge's client registry
    }
    checked = 0
    for actor in ("anonymous", "superuser", "operator"):
        cookie, _ = world.portal_session(actor)
        headers = {"Cookie": f"eproc_portal={cookie}"} if cookie else {}
        for template in _get_routes(world.services["portal"].app):
            if template.startswith("/static"):
                continue
            path = template.format(**ids)
            client.cookies.clear()  # the actor's session only
            response = await client.get(path, headers=headers)
            assert response.status_code < 500, (path, response.status_code, response.text[:300])
            if response.headers.get("content-type", "").startswith("text/html"):
                _assert_page_headers(response, hsts=hsts, where=f"portal {path} as {actor}")
                checked += 1
    return checked


async def _edge_pages(client: httpx.AsyncClient, *, hsts: bool) -> int:
    client.cookies.clear()
    pages = [
        await client.get("/login"),
        await client.post("/login/local", data={"username": "a", "password": "b"}),
        await client.get("/logout"),
    ]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html"), page.request.url
        _assert_page_headers(page, hsts=hsts, where=f"edge {page.request.url}")
    return len(pages)


async def test_security_headers_on_every_html_page(create_database: CreateDatabase) -> None:
    async with running_world(create_database) as world, AsyncExitStack() as stack:
        portal_pages = await _portal_pages(world, world.services["portal"].client, hsts=False)
        assert portal_pages >= 30, portal_pages

        # The same portal behind https: HSTS on every page.
        world.overrides["portal"] = {"public_url": "https://portal.example"}
        secure_app = await start_portal(world, None, stack)
        secure = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=secure_app), base_url="https://portal.example"
            )
        )
        assert await _portal_pages(world, secure, hsts=True) >= 30

        # The edge's pages: over http (no HSTS), and with an https issuer.
        await _edge_pages(world.services["edge"].client, hsts=False)
        from eproc_edge.main import create_app as create_edge

        edge_settings = world.services["edge"].app.state.settings_for_tests
        https_edge = create_edge(edge_settings.model_copy(update={"token_issuer": "https://sso.x"}))
        https_edge.state.service = world.services["edge"].app.state.service
        https_client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=https_edge), base_url="https://sso.x"
            )
        )
        await _edge_pages(https_client, hsts=True)

        # The eID gateway's login page (its only HTML page).
        verifier = "v" * 50
        query = urlencode(
            {
                "response_type": "code",
                "client_id": "edge",
                "redirect_uri": "http://edge/callback",
                "scope": "openid profile",
                "state": "s",
                "nonce": "n",
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        page = await world.services["eid-gateway"].client.get(f"/authorize?{query}")
        assert page.status_code == 200, page.text[:300]
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp
        assert "script-src 'nonce-" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
