"""The client registry (R-APP-1, issue 20) over the real edge, PostgreSQL and Kafka,
with two edge instances on one database and one bus: an operator registers an
application and a relying party logs in through it without a restart; a rotated
secret works beside the old one until that is retired; a disabled client gets
``invalid_client`` on both instances within a second; a non-operator is refused
and changes nothing; bad input gets a field-level 4xx."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from eproc_edge.main import create_app
from eproc_edge_testkit import FakeIdentity
from eproc_runtime.testing import infra
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.servers import serving

from .conftest import Browser, EdgeServer, pkce_pair

NAMES = {"nl": "Proefapp", "fr": "App d'essai", "de": "Testanwendung", "en": "Test app"}
ROLE = {
    "id": "inspector",
    "names": {"nl": "Keurder", "fr": "Inspecteur", "de": "Prüfer", "en": "Inspector"},
    "descriptions": {
        "nl": ["Leveringen keuren"],
        "fr": ["Réceptionner les livraisons"],
        "de": ["Lieferungen prüfen"],
        "en": ["Inspect deliveries"],
    },
}


@pytest.fixture(scope="module")
async def other_instance(edge_server: EdgeServer) -> AsyncIterator[str]:
    """A second edge app (same settings: issuer, database, topics), on its own port."""
    port = infra.free_port()
    app = create_app(edge_server.settings, identity=FakeIdentity())
    async with serving(app, port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def _token_of(edge_server: EdgeServer, browser: Browser, *, operator: bool) -> str:
    """A portal access token (audience ``eproc``) of a fresh user, operator or not."""
    user = await edge_server.create_user()
    if operator:
        edge_server.identity.operators.add(user.id)
    await browser.login(user.username, user.password)
    return str((await browser.tokens("portal"))["access_token"])


@pytest.fixture
async def operator(edge_server: EdgeServer, browser: Browser) -> dict[str, str]:
    return {"Authorization": f"Bearer {await _token_of(edge_server, browser, operator=True)}"}


def _registration(client_id: str, **extra: Any) -> dict[str, Any]:
    base = f"https://{client_id}.apps.test"
    return {
        "client_id": client_id,
        "names": NAMES,
        "redirect_uris": [f"{base}/callback"],
        "post_logout_redirect_uris": [f"{base}/"],
        "home_url": f"{base}/",
        "login_url": f"{base}/login",
        **extra,
    }


async def _register(
    http: httpx.AsyncClient, base: str, operator: dict[str, str], client_id: str
) -> str:
    created = await http.post(f"{base}/clients", json=_registration(client_id), headers=operator)
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    assert secret and created.json()["client"]["secrets"][0]["secret_id"]
    return str(secret)


async def _client_token(http: httpx.AsyncClient, base: str, client_id: str, secret: str) -> int:
    """The status of a client-credentials grant with these credentials (HTTP Basic)."""
    response = await http.post(
        f"{base}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    if response.status_code != 200:
        assert response.json()["error"] == "invalid_client", response.text
    return response.status_code


async def _within(seconds: float, check: Callable[[], Awaitable[bool]]) -> None:
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not seen within {seconds} s")
        await asyncio.sleep(0.02)


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


async def test_an_application_registered_by_an_operator_logs_users_in_without_a_restart(
    edge_server: EdgeServer,
    other_instance: str,
    browser: Browser,
    operator: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    client_id = _unique("tender-plus")
    secret = await _register(http, edge_server.base_url, operator, client_id)
    # The relying party's login: authorize with PKCE, then the code exchange.
    verifier, challenge = pkce_pair()
    redirect_uri = f"https://{client_id}.apps.test/callback"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile",
        "state": "s1",
        "nonce": "n1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = await browser.http.get(f"{edge_server.base_url}/authorize?{urlencode(query)}")
    assert answer.status_code == 302, answer.text
    assert answer.headers["location"].startswith(redirect_uri)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    exchanged = await http.post(
        f"{edge_server.base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
    )
    assert exchanged.status_code == 200, exchanged.text
    assert {"access_token", "id_token"} <= exchanged.json().keys()
    # The other instance knows it too, without a restart.
    await eventually(
        lambda: _accepted(http, other_instance, client_id, secret),
        what="the other instance knows the new client",
    )
    assert await _client_token(http, other_instance, client_id, secret) == 200
    # Shown once: listing and showing never give a secret back.
    shown = await http.get(f"{edge_server.base_url}/clients/{client_id}", headers=operator)
    assert shown.status_code == 200 and "client_secret" not in shown.json()
    assert secret not in shown.text and shown.json()["names"] == NAMES


async def test_a_rotated_secret_overlaps_the_old_one_until_it_is_retired(
    edge_server: EdgeServer,
    other_instance: str,
    operator: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    client_id = _unique("rotating")
    base = edge_server.base_url
    old = await _register(http, base, operator, client_id)
    await eventually(lambda: _accepted(http, other_instance, client_id, old))

    rotated = await http.post(f"{base}/clients/{client_id}/secrets", headers=operator)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["client_secret"]
    assert new != old and len(rotated.json()["client"]["secrets"]) == 2
    for instance in (base, other_instance):
        await eventually(lambda i=instance: _accepted(http, i, client_id, new))
        assert await _client_token(http, instance, client_id, old) == 200
    # A third secret while two are valid: retire first.
    again = await http.post(f"{base}/clients/{client_id}/secrets", headers=operator)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "rotation_pending"

    retired = await http.post(
        f"{base}/clients/{client_id}/secrets/retire", json={}, headers=operator
    )
    assert retired.status_code == 200, retired.text
    assert [s["secret_id"] for s in retired.json()["secrets"]] == [rotated.json()["secret_id"]]
    for instance in (base, other_instance):
        await _within(1.0, lambda i=instance: _refused(http, i, client_id, old))
        assert await _client_token(http, instance, client_id, new) == 200
    # The last secret is never retired.
    last = await http.post(f"{base}/clients/{client_id}/secrets/retire", json={}, headers=operator)
    assert last.status_code == 409 and last.json()["detail"]["code"] == "last_secret"

    history = await http.get(f"{base}/clients/{client_id}/changes", headers=operator)
    changes = [c["change"] for c in history.json()]
    assert changes == ["secret-retired", "secret-rotated", "registered"]
    assert all(c["changed_by"] for c in history.json())
    assert old not in history.text and new not in history.text


async def _refused(http: httpx.AsyncClient, base: str, client_id: str, secret: str) -> bool:
    return await _client_token(http, base, client_id, secret) == 401


async def test_a_disabled_client_is_refused_on_every_instance_within_a_second(
    edge_server: EdgeServer,
    other_instance: str,
    operator: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    client_id = _unique("disabled")
    base = edge_server.base_url
    secret = await _register(http, base, operator, client_id)
    await eventually(lambda: _accepted(http, other_instance, client_id, secret))
    # Both instances have verified (and cached) the credentials.
    assert await _client_token(http, base, client_id, secret) == 200

    disabled = await http.post(f"{base}/clients/{client_id}/disable", headers=operator)
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    for instance in (base, other_instance):
        await _within(1.0, lambda i=instance: _refused(http, i, client_id, secret))
        introspected = await http.post(
            f"{instance}/introspect", data={"token": "x"}, auth=(client_id, secret)
        )
        assert introspected.status_code == 401
        assert introspected.json()["error"] == "invalid_client"

    enabled = await http.post(f"{base}/clients/{client_id}/enable", headers=operator)
    assert enabled.status_code == 200 and enabled.json()["enabled"] is True
    for instance in (base, other_instance):
        await _within(1.0, lambda i=instance: _accepted(http, i, client_id, secret))


async def _accepted(http: httpx.AsyncClient, base: str, client_id: str, secret: str) -> bool:
    return await _client_token(http, base, client_id, secret) == 200


async def test_a_non_operator_is_refused_and_changes_nothing(
    edge_server: EdgeServer,
    browser: Browser,
    operator: dict[str, str],
    http: httpx.AsyncClient,
) -> None:
    base = edge_server.base_url
    client_id = _unique("guarded")
    await _register(http, base, operator, client_id)
    before = (await http.get(f"{base}/clients/{client_id}", headers=operator)).json()

    browser.http.cookies.clear()
    user = {"Authorization": f"Bearer {await _token_of(edge_server, browser, operator=False)}"}
    attempts = [
        ("GET", "/clients", None),
        ("POST", "/clients", _registration(_unique("intruder"))),
        ("PATCH", f"/clients/{client_id}", {"names": {**NAMES, "en": "Hijacked"}}),
        ("POST", f"/clients/{client_id}/secrets", None),
        ("POST", f"/clients/{client_id}/disable", None),
    ]
    for method, path, body in attempts:
        refused = await http.request(method, base + path, json=body, headers=user)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["detail"]["code"] == "operator_required"
        anonymous = await http.request(method, base + path, json=body)
        assert anonymous.status_code == 401, (path, anonymous.text)
    after = (await http.get(f"{base}/clients/{client_id}", headers=operator)).json()
    assert after == before
    listed = (await http.get(f"{base}/clients", headers=operator)).json()
    assert not any(c["client_id"].startswith("intruder") for c in listed)


async def test_bad_input_is_refused_field_by_field_and_changes_nothing(
    edge_server: EdgeServer, operator: dict[str, str], http: httpx.AsyncClient
) -> None:
    base = edge_server.base_url
    client_id = _unique("careful")
    cases: list[tuple[dict[str, Any], str]] = [
        (_registration(client_id, redirect_uris=["http://evil.test/cb"]), "redirect_uris"),
        (_registration(client_id, names={"nl": "Alleen"}), "names"),
        (_registration("Not An Id"), "client_id"),
        (_registration(client_id, require_pkce=False), "require_pkce"),
        (_registration(client_id, token_endpoint_auth_method="private_key_jwt"), "jwks"),
        (_registration(client_id, access_token_lifetime=86400), "access_token_lifetime"),
        (_registration(client_id, access_token_lifetime=900), "access_token_lifetime"),
        (_registration(client_id, token_endpoint_auth_method="none"), "grant_types"),
        # The roles it declares (SPEC §4): every language, well-formed and distinct ids,
        # and no say over the hub's own application.
        (_registration(client_id, roles=[{**ROLE, "names": {"nl": "Keurder"}}]), "names"),
        (_registration(client_id, roles=[{**ROLE, "descriptions": {"en": ["x"]}}]), "nl"),
        (_registration(client_id, roles=[{**ROLE, "id": "Keur Der"}]), "id"),
        (_registration(client_id, roles=[ROLE, {**ROLE, "names": NAMES}]), "roles"),
        (_registration(client_id, roles=[{**ROLE, "holders": 1}]), "holders"),
        (_registration(client_id, application="user-management", roles=[ROLE]), "roles"),
    ]
    for body, field in cases:
        refused = await http.post(f"{base}/clients", json=body, headers=operator)
        assert refused.status_code == 422, (field, refused.text)
        detail = refused.json()["detail"]
        if isinstance(detail, list):  # the request's shape
            assert any(field in map(str, problem["loc"]) for problem in detail), detail
        else:  # a rule across fields
            assert detail["field"] == field, detail
    missing = await http.get(f"{base}/clients/{client_id}", headers=operator)
    assert missing.status_code == 404 and missing.json()["detail"]["code"] == "unknown_client"

    await _register(http, base, operator, client_id)
    taken = await http.post(f"{base}/clients", json=_registration(client_id), headers=operator)
    assert taken.status_code == 409 and taken.json()["detail"]["field"] == "client_id"
    emptied = await http.patch(
        f"{base}/clients/{client_id}", json={"home_url": None}, headers=operator
    )
    assert emptied.status_code == 422 and emptied.json()["detail"]["field"] == "home_url"
    changed = await http.patch(
        f"{base}/clients/{client_id}",
        json={"names": {**NAMES, "en": "Renamed"}, "access_token_lifetime": 120},
        headers=operator,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["names"]["en"] == "Renamed" and changed.json()["version"] == 2
    history = (await http.get(f"{base}/clients/{client_id}/changes", headers=operator)).json()
    assert history[0]["change"] == "updated"
    assert history[0]["detail"] == {
        "names": {**NAMES, "en": "Renamed"},
        "access_token_lifetime": 120,
    }


async def test_the_configured_clients_are_imported_once(
    edge_server: EdgeServer, other_instance: str, operator: dict[str, str], http: httpx.AsyncClient
) -> None:
    """EPROC_CLIENTS is the migration path: imported at the first start, kept by the registry
    (the second instance started with the same settings imported nothing again)."""
    listed = (await http.get(f"{edge_server.base_url}/clients", headers=operator)).json()
    by_id = {c["client_id"]: c for c in listed}
    assert {"portal", "e-tendering", "no-refresh"} <= by_id.keys()
    assert by_id["e-tendering"]["secrets"] and by_id["e-tendering"]["enabled"]
    history = await http.get(
        f"{edge_server.base_url}/clients/e-tendering/changes", headers=operator
    )
    assert [c["change"] for c in history.json()] == ["imported"]
    assert history.json()[0]["changed_by"] is None
    assert "secret-e-tendering" not in history.text


async def test_the_command_line_manages_the_registry(
    edge_server: EdgeServer,
    operator: dict[str, str],
    http: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``eproc clients …`` against the same operator API (the CLI is a plain HTTP client)."""
    from eproc.__main__ import main

    base = edge_server.base_url
    token = operator["Authorization"].removeprefix("Bearer ")
    common = ["--url", base, "--edge", "", "--token", token]
    client_id = _unique("from-cli")
    site = f"https://{client_id}.apps.test"

    def run(*argv: str) -> str:
        main([argv[0], argv[1], *common, *argv[2:]])
        return capsys.readouterr().out

    names = [f"--name-{lang}={name}" for lang, name in NAMES.items()]
    created = await asyncio.to_thread(
        run, "clients", "create", f"--client-id={client_id}", *names,
        f"--redirect-uri={site}/callback", f"--home-url={site}/", f"--login-url={site}/login",
    )  # fmt: skip
    secret = created.rsplit(": ", 1)[1].strip()
    assert await _client_token(http, base, client_id, secret) == 200
    listed = await asyncio.to_thread(run, "clients", "list")
    assert client_id in listed and "enabled" in listed

    rotated = await asyncio.to_thread(run, "clients", "rotate-secret", client_id)
    new = rotated.split("store it now): ", 1)[1].split()[0]
    assert await _client_token(http, base, client_id, new) == 200
    await asyncio.to_thread(run, "clients", "retire-secret", client_id)
    assert await _client_token(http, base, client_id, secret) == 401

    await asyncio.to_thread(run, "clients", "update", client_id, "--name-en=Renamed by CLI")
    await asyncio.to_thread(run, "clients", "disable", client_id)
    assert await _client_token(http, base, client_id, new) == 401
    shown = await asyncio.to_thread(run, "clients", "show", client_id, "--changes")
    document = json.loads(shown)
    assert document["names"]["en"] == "Renamed by CLI" and document["enabled"] is False
    assert [c["change"] for c in document["changes"]][:2] == ["disabled", "updated"]
    with pytest.raises(SystemExit):
        await asyncio.to_thread(run, "clients", "show", "no-such-client")
