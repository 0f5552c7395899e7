"""The authorization matrix (issue 11, SPEC §1, R-SU-1, R-REQ-4, R-REQ-12, R-LOGIN-2).

Every mutating route (POST/PUT/PATCH/DELETE) of every landed service, read from
``app.routes`` — so a new endpoint cannot escape — is called by every actor of
:mod:`tests.adversarial_support` with a VALID body (so a 422 never hides a
missing check) and path parameters filled with real ids. The status each
actor gets must be the one in ``EXPECTED``; a route without a row fails the test
("new endpoint without expectations"). The run writes ``docs/authorization.md``.

Each (route, actor) call gets fresh targets from its preparation (a fresh
request to decide, a fresh member to remove, …), so one actor's success never
changes what the next actor sees.

The edge's OAuth endpoints have their own authentication, and the actors bring
the edge's own credentials (see ``World.edge_credentials``): a user's SSO
session cookie and an edge-signed access token, the application's client
secret, the edge's own client token. A bearer token is never client
authentication (→ 401 ``invalid_client``).

The portal's rows are generated from its routes: every form POST, by every
actor's portal session, without the session's CSRF token and with another
session's token, must answer 403 and change nothing in any service.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from eproc_runtime.testing.plugin import CreateDatabase

from .adversarial_support import (
    ACTORS,
    ADDRESS,
    APPLICATION_CLIENT,
    BUYER,
    PORTAL_CLIENT,
    USER_ACTORS,
    Credentials,
    World,
    diff,
    dumps,
    enterprise_number,
    running_world,
    snapshot,
)

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
DOC = Path(__file__).resolve().parents[1] / "docs" / "authorization.md"
PUBLISHER = {"application": "e-notification", "role": "publisher"}
SCIM_SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


@dataclass
class Call:
    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None
    cookies: dict[str, str] = field(default_factory=dict)  # besides the actor's own
    query: dict[str, str] = field(default_factory=dict)


Prepare = Callable[[World, str], Awaitable[Call]]


@dataclass
class Row:
    expected: dict[str, int]
    prepare: Prepare
    note: str = ""


def statuses(default: int, *, anonymous: int = 401, **by_actor: int) -> dict[str, int]:
    """Expected status per actor: ``default`` unless named; no token → ``anonymous``."""
    table = dict.fromkeys(ACTORS, default)
    table["anonymous"] = anonymous
    table.update(by_actor)
    return table


def users(status: int) -> dict[str, int]:
    return dict.fromkeys(USER_ACTORS, status)


def _static(call: Call) -> Prepare:
    async def prepare(world: World, actor: str) -> Call:
        return call

    return prepare


# --- preparations -------------------------------------------------------------------------


async def _registration(world: World, actor: str) -> Call:
    return Call(json=world.registration_form())


async def _card_check(world: World, actor: str) -> Call:
    return Call(json={"id_token": world.registration_form()["id_token"]})


async def _profile_edit(world: World, actor: str) -> Call:
    return Call(json={"job_title": f"Aankoper ({actor})"})


async def _member_profile(world: World, actor: str) -> Call:
    return Call(path={"user_id": world.users["buyer"]}, json={"job_title": "Diensthoofd"})


async def _new_contact(world: World, actor: str) -> Call:
    return Call(json={"name": "Piet Janssens", "email": "piet@example.be"})


async def _buyers_contact(world: World, actor: str) -> Call:
    contact = await world.contact_of(world.users["buyer"])
    return Call(path={"contact_id": contact}, json={"name": "Piet Janssens"})


async def _switch(world: World, actor: str) -> Call:
    return Call(json={"enabled": False, "reason": "adversarial matrix"})


async def _switch_user(world: World, actor: str) -> Call:
    return Call(path={"user_id": world.users["buyer"]}, json={"enabled": False, "reason": "matrix"})


async def _password_login(world: World, actor: str) -> Call:
    return Call(
        json={
            "username": world.usernames["other_buyer"],
            "password": "not the right password at all",
            "source_ip": "192.0.2.10",
        }
    )


async def _edit_organisation(world: World, actor: str) -> Call:
    return Call(
        path={"organisation_id": world.organisations["org"]},
        json={"names": {"nl": "Stad Adversarial"}, "address": ADDRESS},
    )


async def _add_member(world: World, actor: str) -> Call:
    user_id, _ = await world.register_user()
    return Call(
        path={"organisation_id": world.organisations["org"]},
        json={"user_id": str(user_id), "roles": [BUYER.model_dump()]},
    )


async def _member_roles(world: World, actor: str) -> Call:
    member = await world.new_member("org")
    return Call(
        path={"organisation_id": world.organisations["org"], "user_id": member},
        json={"roles": [BUYER.model_dump(), PUBLISHER]},
    )


async def _remove_member(world: World, actor: str) -> Call:
    member = await world.new_member("org")
    return Call(path={"organisation_id": world.organisations["org"], "user_id": member})


async def _role_change_check(world: World, actor: str) -> Call:
    return Call(
        path={"organisation_id": world.organisations["org"], "user_id": world.users["buyer"]},
        json={"roles": [BUYER.model_dump(), PUBLISHER]},
    )


async def _default_organisation(world: World, actor: str) -> Call:
    return Call(json={"organisation_id": str(world.organisations["org"])})


async def _bootstrap(world: World, actor: str) -> Call:
    return Call(
        json={
            "names": {"nl": "Nieuwe dienst"},
            "enterprise_number": enterprise_number(),
            "address": ADDRESS,
            "parent_id": str(world.organisations["parent"]),
        }
    )


def _orgs(world: World, name: str = "child") -> dict[str, Any]:
    return {"organisation_ids": [str(world.organisations[name])]}


async def _basket_add(world: World, actor: str) -> Call:
    return Call(json=_orgs(world))


async def _basket_roles(world: World, actor: str) -> Call:
    user = world.user_of(actor)
    if user is not None:  # the actor's own basket holds the entry
        api = world.services["requests"].client
        await api.post("/basket/entries", json=_orgs(world), headers=world.headers(actor))
    return Call(json={**_orgs(world), "roles": [BUYER.model_dump()]})


async def _basket_submit(world: World, actor: str) -> Call:
    target = await world.create_organisation(None, world.organisations["org"])
    body = {"organisation_ids": [str(target)]}
    if world.user_of(actor) is not None:
        api = world.services["requests"].client
        headers = world.headers(actor)
        await api.post("/basket/entries", json=body, headers=headers)
        await api.put(
            "/basket/roles", json={**body, "roles": [BUYER.model_dump()]}, headers=headers
        )
    return Call(json={**body, "justification": "matrix"})


async def _role_changes(world: World, actor: str) -> Call:
    return Call(
        json={
            "changes": [
                {
                    "organisation_id": str(world.organisations["org"]),
                    "roles": [BUYER.model_dump(), PUBLISHER],
                }
            ],
            "justification": "matrix",
        }
    )


async def _leaves(world: World, actor: str) -> Call:
    return Call(json={**_orgs(world, "org"), "justification": "matrix"})


async def _registration_request(world: World, actor: str) -> Call:
    return Call(
        json={
            "parent_id": str(world.organisations["org"]),
            "names": {"nl": "Dienst Aankopen"},
            "enterprise_number": enterprise_number(),
            "address": ADDRESS,
            "justification": "matrix",
        }
    )


async def _buyers_request(world: World, actor: str) -> Call:
    # A fresh organisation each time: one pending request per (user, organisation).
    target = await world.create_organisation(None, world.organisations["org"])
    world.organisations["scratch"] = target
    request_id = await world.submitted_request(world.users["buyer"], "scratch")
    return Call(path={"request_id": request_id})


async def _request_to_decide(world: World, actor: str) -> Call:
    requester, _ = await world.register_user()
    request_id = await world.submitted_request(requester, "org")
    return Call(path={"request_id": request_id}, json={"reason": "not in our service"})


_B64 = base64.b64encode(b"\x00" * 8).decode()


async def _card_login(world: World, actor: str) -> Call:
    presentation = dict.fromkeys(
        (
            "challenge",
            "identity",
            "identity_signature",
            "address",
            "address_signature",
            "rrn_certificate",
            "authentication_certificate",
            "ca_certificate",
            "signature",
        ),
        _B64,
    )
    return Call(json={"challenge_id": "x" * 43, "presentation": presentation})


async def _token(world: World, actor: str) -> Call:
    return Call(
        data={
            "grant_type": "authorization_code",
            "code": "forged-code",
            "redirect_uri": "http://edge/callback",
            "client_id": "edge",
            "code_verifier": "v" * 43,
        }
    )


# --- the edge: OAuth endpoints and the SSO session ---------------------------------------


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _authorize(world: World, actor: str) -> Call:
    return Call(
        data={
            "response_type": "code",
            "client_id": PORTAL_CLIENT,
            "redirect_uri": f"http://{PORTAL_CLIENT}.rp/callback",
            "scope": "openid profile",
            "state": "matrix",
            "nonce": uuid.uuid4().hex,
            "code_challenge": _s256("v" * 50),
            "code_challenge_method": "S256",
        }
    )


async def _client_credentials(world: World, actor: str) -> Call:
    return Call(data={"grant_type": "client_credentials"})


async def _a_token(world: World, actor: str) -> Call:
    buyer = await world.edge_credentials("buyer")
    return Call(data={"token": buyer.headers["Authorization"].split()[1]})


def _client_body(client_id: str) -> dict[str, Any]:
    site = f"https://{client_id}.apps.test"
    return {
        "client_id": client_id,
        "names": {"nl": "Matrix", "fr": "Matrice", "de": "Matrix", "en": "Matrix"},
        "redirect_uris": [f"{site}/callback"],
        "home_url": f"{site}/",
        "login_url": f"{site}/login",
    }


async def _registered_client(world: World, *then: str) -> str:
    """A fresh client in the edge's registry, registered by the operator (then, as
    the operator, each of the POSTs ``then`` names: ``secrets``, ``disable``)."""
    client_id = f"matrix-{uuid.uuid4().hex[:8]}"
    operator = await world.edge_credentials("operator")
    edge = world.services["edge"].client
    edge.cookies.clear()
    made = await edge.post("/clients", json=_client_body(client_id), headers=operator.headers)
    assert made.status_code == 201, made.text
    for step in then:
        done = await edge.post(f"/clients/{client_id}/{step}", headers=operator.headers)
        assert done.status_code in (200, 201), done.text
    return client_id


async def _new_client(world: World, actor: str) -> Call:
    return Call(json=_client_body(f"matrix-{uuid.uuid4().hex[:8]}"))


async def _client_change(world: World, actor: str) -> Call:
    names = {"nl": "Gewijzigd", "fr": "Modifié", "de": "Geändert", "en": "Changed"}
    return Call(path={"client_id": await _registered_client(world)}, json={"names": names})


async def _a_client(world: World, actor: str) -> Call:
    return Call(path={"client_id": await _registered_client(world)})


async def _rotated_client(world: World, actor: str) -> Call:
    return Call(path={"client_id": await _registered_client(world, "secrets")}, json={})


async def _disabled_client(world: World, actor: str) -> Call:
    return Call(path={"client_id": await _registered_client(world, "disable")})


async def _login_local(world: World, actor: str) -> Call:
    csrf = secrets.token_urlsafe(16)
    return Call(
        data={
            # An unknown account each time: identity's per-account throttle (its own
            # test) would otherwise answer 429 after a few calls.
            "username": f"nobody{uuid.uuid4().hex[:8]}",
            "password": "not the right password at all",
            "return_to": "/authorize",
            "csrf": csrf,
        },
        cookies={"eproc_login_csrf": csrf},
    )


async def _password_change(world: World, actor: str) -> Call:
    return Call(
        json={"current_password": "whatever it was", "new_password": "a brand new phrase 42"}
    )


async def _reset_request(world: World, actor: str) -> Call:
    return Call(json={"login": f"nobody{uuid.uuid4().hex[:8]}", "source_ip": "192.0.2.11"})


async def _reset_link(world: World, actor: str) -> Call:
    return Call(json={"token": "not-a-token-identity-made"})


async def _reset_password(world: World, actor: str) -> Call:
    return Call(
        json={"token": "not-a-token-identity-made", "new_password": "a brand new phrase 42"}
    )


async def _forgot_form(world: World, actor: str) -> Call:
    csrf = secrets.token_urlsafe(16)
    return Call(
        data={"login": f"nobody{uuid.uuid4().hex[:8]}", "csrf": csrf, "lang": "nl"},
        cookies={"eproc_reset_csrf": csrf},
    )


async def _reset_form(world: World, actor: str) -> Call:
    csrf = secrets.token_urlsafe(16)
    return Call(
        data={
            "token": "not-a-token-identity-made",
            "new_password": "a brand new phrase 42",
            "new_password_repeat": "a brand new phrase 42",
            "csrf": csrf,
            "lang": "nl",
        },
        cookies={"eproc_reset_csrf": csrf},
    )


# --- the expectations ------------------------------------------------------------------------

EXPECTED: dict[tuple[str, str, str], Row] = {
    # identity ------------------------------------------------------------------------------
    ("identity", "POST", "/registrations"): Row(
        statuses(201, anonymous=201),
        _registration,
        "authenticated by the eID gateway's ID token in the body, not by a bearer token",
    ),
    ("identity", "POST", "/registrations/check"): Row(
        statuses(204, anonymous=204),
        _card_check,
        "the card step: the eID gateway's ID token in the body; answers, changes nothing",
    ),
    ("identity", "PATCH", "/users/me"): Row(
        statuses(403, operator=200, **users(200)), _profile_edit, "each their own profile"
    ),
    ("identity", "PATCH", "/users/{user_id}"): Row(
        statuses(403, buyer=200, superuser=200), _member_profile, "target: buyer (member of org)"
    ),
    ("identity", "POST", "/users/me/contacts"): Row(
        statuses(403, operator=201, **users(201)), _new_contact
    ),
    ("identity", "PUT", "/users/me/contacts/{contact_id}"): Row(
        statuses(403, operator=404, **{**users(404), "buyer": 200}),
        _buyers_contact,
        "buyer's contact",
    ),
    ("identity", "PATCH", "/users/me/contacts/{contact_id}"): Row(
        statuses(403, operator=404, **{**users(404), "buyer": 200}),
        _buyers_contact,
        "buyer's contact",
    ),
    ("identity", "DELETE", "/users/me/contacts/{contact_id}"): Row(
        statuses(403, operator=404, **{**users(404), "buyer": 204}),
        _buyers_contact,
        "buyer's contact",
    ),
    ("identity", "PUT", "/local-login/policy"): Row(statuses(403, operator=200), _switch),
    ("identity", "PUT", "/users/{user_id}/local-login"): Row(
        statuses(403, operator=200), _switch_user, "target: buyer"
    ),
    ("identity", "PUT", "/users/{user_id}/platform-operator"): Row(
        statuses(403, operator=200),
        _switch_user,
        "target: buyer; an operator by identity's record and the token (a claim alone → 403)",
    ),
    ("identity", "POST", "/internal/local-login"): Row(
        statuses(403, edge=401),
        _password_login,
        "edge only; wrong password → 401 invalid_credentials",
    ),
    ("identity", "POST", "/users/me/password"): Row(
        statuses(403),
        _password_change,
        "R-PWD-1: a person with password login (none here: 403 `local_login_disabled`); "
        "a token of an application or of the edge → 403 `user_required`",
    ),
    ("identity", "POST", "/internal/password-reset"): Row(
        statuses(403, edge=202),
        _reset_request,
        "edge only; the same 202 whether or not the login names an account",
    ),
    ("identity", "POST", "/internal/password-reset/link"): Row(
        statuses(403, edge=410), _reset_link, "edge only; a token identity never made → 410"
    ),
    ("identity", "POST", "/internal/password-reset/password"): Row(
        statuses(403, edge=410), _reset_password, "edge only; a token identity never made → 410"
    ),
    # organisations -------------------------------------------------------------------------
    ("organisations", "PATCH", "/organisations/{organisation_id}"): Row(
        statuses(403, superuser=200), _edit_organisation, "org"
    ),
    ("organisations", "POST", "/organisations/{organisation_id}/members"): Row(
        statuses(403, superuser=201), _add_member, "org; a fresh registered user"
    ),
    ("organisations", "PUT", "/organisations/{organisation_id}/members/{user_id}/roles"): Row(
        statuses(403, superuser=200), _member_roles, "org; a fresh member"
    ),
    ("organisations", "DELETE", "/organisations/{organisation_id}/members/{user_id}"): Row(
        statuses(403, superuser=204), _remove_member, "org; a fresh member"
    ),
    (
        "organisations",
        "POST",
        "/organisations/{organisation_id}/members/{user_id}/role-change-check",
    ): Row(
        statuses(403, buyer=200, superuser=200, operator=200, application=200, edge=200),
        _role_change_check,
        "org; target: buyer — the member, a Superuser, a client, an operator",
    ),
    ("organisations", "PUT", "/me/default-organisation"): Row(
        statuses(404, buyer=204, superuser=204, application=403, edge=403),
        _default_organisation,
        "org; 404 `not_member` for a non-member",
    ),
    ("organisations", "POST", "/operator/organisations"): Row(
        statuses(403, operator=201), _bootstrap
    ),
    # requests --------------------------------------------------------------------------------
    ("requests", "POST", "/basket/entries"): Row(
        statuses(403, operator=200, **{**users(200), "child_superuser": 409}),
        _basket_add,
        "child; its own member → 409 `already_a_member` when selected (issue 19, point 11)",
    ),
    ("requests", "PUT", "/basket/roles"): Row(
        statuses(403, operator=200, **{**users(200), "child_superuser": 404}),
        _basket_roles,
        "child; its own member could not put it in the basket → 404 `not_in_basket`",
    ),
    ("requests", "POST", "/basket/remove"): Row(
        statuses(403, operator=200, **users(200)), _basket_add, "child"
    ),
    ("requests", "POST", "/basket/submit"): Row(
        statuses(403, operator=201, **users(201)), _basket_submit, "a fresh organisation"
    ),
    ("requests", "POST", "/requests/role-changes"): Row(
        statuses(409, buyer=201, application=403, edge=403),
        _role_changes,
        "org; the last Superuser dropping the role → 409 `last_superuser`; "
        "non-members → 409 `not_member`",
    ),
    ("requests", "POST", "/requests/leaves"): Row(
        statuses(409, buyer=201, application=403, edge=403),
        _leaves,
        "org; the last Superuser → 409 `leave_refused`; non-members → 409 `not_member`",
    ),
    ("requests", "POST", "/requests/registrations"): Row(
        statuses(403, operator=201, **users(201)), _registration_request, "sub-organisation of org"
    ),
    ("requests", "POST", "/requests/{request_id}/withdraw"): Row(
        statuses(403, buyer=200), _buyers_request, "the buyer's own request"
    ),
    ("requests", "POST", "/requests/{request_id}/approve"): Row(
        statuses(403, superuser=200),
        _request_to_decide,
        "a join request to org; operator: 403 `operator_cannot_decide` (R-REQ-12)",
    ),
    ("requests", "POST", "/requests/{request_id}/reject"): Row(
        statuses(403, superuser=200), _request_to_decide, "a join request to org"
    ),
    # eid-gateway: an OpenID Provider; bearer tokens of the edge mean nothing to it -------
    ("eid-gateway", "POST", "/authorize/complete"): Row(
        statuses(400, anonymous=400),
        _card_login,
        "authenticated by the card's presentation: an unknown challenge → 400",
    ),
    ("eid-gateway", "POST", "/token"): Row(
        statuses(401, anonymous=401),
        _token,
        "client authentication required → 401 `invalid_client`",
    ),
    ("eid-gateway", "POST", "/userinfo"): Row(
        statuses(401), _static(Call()), "the edge's tokens are not the gateway's access tokens"
    ),
    # edge: actors bring the edge's own credentials (session cookie + edge token; the
    # application's client secret; the edge's client token) -------------------------------
    ("edge", "POST", "/authorize"): Row(
        statuses(303, anonymous=303, operator=302, **users(302)),
        _authorize,
        "the portal's authorization request: a live SSO session → 302 with a code; "
        "no session → 303 to the login page",
    ),
    ("edge", "POST", "/token"): Row(
        statuses(401, application=200),
        _client_credentials,
        "client_credentials: only client authentication counts; a bearer token → 401 "
        "`invalid_client`",
    ),
    ("edge", "POST", "/introspect"): Row(
        statuses(401, application=200),
        _a_token,
        "the buyer's access token; confidential clients only → else 401 `invalid_client`",
    ),
    ("edge", "POST", "/revoke"): Row(
        statuses(401, application=400),
        _a_token,
        "the buyer's access token, issued to the portal: another client may not revoke it "
        "(400 `invalid_grant`); no client authentication → 401 `invalid_client`",
    ),
    ("edge", "POST", "/userinfo"): Row(
        statuses(401, operator=200, **users(200)),
        _static(Call()),
        "an edge user access token; a client's token or secret → 401 `invalid_token`",
    ),
    ("edge", "POST", "/logout"): Row(
        statuses(200, anonymous=200),
        _static(Call()),
        "without an id_token_hint it only asks the user to confirm (a form with a CSRF pair); "
        "it ends the browser's own SSO session (its cookie), nobody else's",
    ),
    ("edge", "POST", "/login/local"): Row(
        statuses(401, anonymous=401),
        _login_local,
        "a wrong password (with the login form's CSRF pair) → 401 from identity; no token counts",
    ),
    ("edge", "POST", "/login/forgot"): Row(
        statuses(303, anonymous=303),
        _forgot_form,
        "R-PWD-1: anyone (with the form's CSRF pair) gets the same 'check your mailbox' page",
    ),
    ("edge", "POST", "/login/reset"): Row(
        statuses(410, anonymous=410),
        _reset_form,
        "R-PWD-1: only the mailed link's token sets a password; no token or session counts",
    ),
    ("edge", "POST", "/clients"): Row(
        statuses(403, anonymous=401, application=401, edge=401, operator=201),
        _new_client,
        "the client registry (R-APP-1): a platform operator's user token of the edge; "
        "other users → 403 `operator_required`; a client's token or secret → 401",
    ),
    ("edge", "PATCH", "/clients/{client_id}"): Row(
        statuses(403, anonymous=401, application=401, edge=401, operator=200),
        _client_change,
        "a fresh client, its names",
    ),
    ("edge", "POST", "/clients/{client_id}/secrets"): Row(
        statuses(403, anonymous=401, application=401, edge=401, operator=201),
        _a_client,
        "a fresh client: a second secret (rotation)",
    ),
    ("edge", "POST", "/clients/{client_id}/secrets/retire"): Row(
        statuses(403, anonymous=401, application=401, edge=401, operator=200),
        _rotated_client,
        "a fresh client with two secrets: the old one retired",
    ),
    ("edge", "POST", "/clients/{client_id}/disable"): Row(
        statuses(403, anonymous=401, application=401, edge=401, operator=200),
        _a_client,
        "a fresh client",
    ),
    ("edge", "POST", "/clients/{client_id}/enable"): Row(
        statuses(403, anonymous=401, application=401, edge=401, operator=200),
        _disabled_client,
        "a fresh disabled client",
    ),
    ("edge", "POST", "/switch"): Row(
        statuses(303, anonymous=303, operator=403, **users(403)),
        _static(Call(query={"to": APPLICATION_CLIENT, "from": PORTAL_CLIENT}, data={})),
        "the application switch without the session's switch token (R-SEC-5): a session → "
        "403, a page asking to confirm (nothing changed); no session "
        "→ 303 to the target's anonymous home page (nothing to change)",
    ),
    ("edge", "POST", "/register"): Row(
        statuses(401),
        _static(
            Call(json={"client_name": "Matrix", "redirect_uris": ["https://matrix.apps.test/cb"]})
        ),
        "dynamic registration (RFC 7591): only an operator's initial access token counts; "
        "a user's or a client's credentials → 401 `invalid_token`",
    ),
    ("edge", "PUT", "/register/{client_id}"): Row(
        statuses(401),
        _static(
            Call(
                path={"client_id": PORTAL_CLIENT},
                json={"client_name": "Matrix", "redirect_uris": ["https://matrix.apps.test/cb"]},
            )
        ),
        "RFC 7592: only the client's registration access token counts → else 401",
    ),
    ("edge", "DELETE", "/register/{client_id}"): Row(
        statuses(401),
        _static(Call(path={"client_id": PORTAL_CLIENT})),
        "RFC 7592: only the client's registration access token counts → else 401",
    ),
    ("edge", "POST", "/clients/initial-tokens"): Row(
        statuses(403, anonymous=401, application=401, edge=401, operator=201),
        _static(Call(json={"registrations": 1, "expires_in": 600})),
        "a platform operator's user token (audience `eproc`) issues an initial access token",
    ),
    ("edge", "POST", "/session/organisation"): Row(
        statuses(403, anonymous=401, application=401, edge=401, buyer=200, superuser=200),
        _default_organisation,
        "org; a user token of the edge; non-members → 403 `not_a_member`",
    ),
    # edge: SCIM 2.0 (R-APP-2), read-only, for an application's client-credentials token
    **{
        ("edge", "POST", f"/scim/v2/{kind}/.search"): Row(
            statuses(403, anonymous=401, application=401, edge=401),
            _static(Call(json={"schemas": [SCIM_SEARCH], "filter": 'userName eq "x"'})),
            "a search; only an application's client-credentials token reads (a person's "
            "token → 403, HTTP Basic or the edge's own token → 401), as SCIM error bodies",
        )
        for kind in ("Users", "Groups")
    },
    **{
        ("edge", method, "/scim/v2/{rest:path}"): Row(
            statuses(405, anonymous=405),
            _static(Call(path={"rest": "Users"}, json={"userName": "matrix"})),
            "read-only SCIM: every write → 405 (SCIM error body, `Allow: GET`), whoever asks",
        )
        for method in ("DELETE", "PATCH", "POST", "PUT")
    },
}


def http_routes(app: Any) -> Iterator[tuple[str, frozenset[str]]]:
    """Every (path, methods) an app serves, included routers flattened.

    FastAPI ≥ 0.16x keeps included routers as nested route objects that expose
    ``effective_route_contexts()``; older versions flatten them into plain routes.
    Anything that is neither a route with methods nor such a router fails loudly,
    so nothing can hide from the matrix.
    """
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                yield context.path, frozenset(context.methods or ())
        elif getattr(route, "methods", None) is not None:
            yield route.path, frozenset(route.methods)
        elif isinstance(route, Mount) and isinstance(route.app, StaticFiles):
            yield route.path, frozenset({"GET", "HEAD"})  # StaticFiles answers nothing else
        else:
            raise AssertionError(f"a route the matrix cannot read: {route!r}")


def mutating_routes(world: World) -> list[tuple[str, str, str]]:
    found = []
    for name, service in world.services.items():
        for path, methods in http_routes(service.app):
            for method in sorted(methods & MUTATING):
                found.append((name, method, path))
    return found


def _code(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("error"), str):  # OAuth errors (RFC 6749 §5.2)
        return str(body["error"])
    if "urn:ietf:params:scim:api:messages:2.0:Error" in body.get("schemas", []):
        return str(body.get("scimType", ""))  # SCIM errors (RFC 7644 §3.12)
    detail = body.get("detail")
    if isinstance(detail, dict):
        return str(detail.get("code", ""))
    if isinstance(detail, str):
        return detail
    return ""


async def _credentials(world: World, service: str, actor: str) -> Credentials:
    if service == "edge":
        return await world.edge_credentials(actor)
    return Credentials(headers=world.headers(actor))


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}


# --- the portal: CSRF on every form, generated from its routes ----------------------------

PORTAL_NOTE = (
    "every actor's portal session, without the CSRF token and with another session's "
    "token → 403; nothing changes in any service"
)


async def _portal_targets(world: World) -> dict[str, str]:
    """Real ids for the portal's path parameters (what a form would act on)."""
    requester, _ = await world.register_user()
    return {
        "request_id": str(await world.submitted_request(requester, "org")),
        "contact_id": str(await world.contact_of(world.users["buyer"])),
        "user_id": str(world.users["buyer"]),  # a member's profile; an operator's account page
        "client_id": PORTAL_CLIENT,  # an application of the edge's registry
    }


def _portal_form(world: World) -> dict[str, str]:
    """A plausible form: the fields the portal's forms use, with real values."""
    org = str(world.organisations["org"])
    return {
        "organisation_id": org,
        "organisation_ids": org,
        "user_id": str(world.users["buyer"]),
        "roles": "user-management:buyer",
        "action": "remove",
        "decision": "approve",
        "reason": "matrix",
        "justification": "matrix",
        "language": "fr",
        "enabled": "false",
        "name": "Piet",
        "job_title": "Matrix",
        "choice": "join",
    }


async def _portal_rows(world: World, routes: list[tuple[str, str, str]]) -> list[str]:
    """Every portal form POST by every actor, without a valid CSRF token: 403, no change."""
    portal = world.services["portal"]
    targets = await _portal_targets(world)
    form = _portal_form(world)
    _, foreign_token = world.portal_session("other_buyer")  # an attacker's own session
    before = {n: await snapshot(s) for n, s in world.services.items()}
    mismatches = []
    for key in routes:
        _, method, template = key
        path = template.format(**{k: targets.get(k, str(uuid.uuid4())) for k in targets})
        for actor in ACTORS:
            cookie, _ = world.portal_session(actor)
            cookies = {"eproc_portal": cookie} if cookie else {}
            for token in (None, foreign_token):
                data = {**form, **({"csrf_token": token} if token else {})}
                portal.client.cookies.clear()
                response = await portal.client.request(
                    method, path, data=data, headers=_cookie_header(cookies)
                )
                if response.status_code != EXPECTED[key].expected[actor]:
                    mismatches.append(
                        f"portal {method} {template} as {actor} (token {token is not None}): "
                        f"{response.status_code} {response.text[:200]}"
                    )
    # The control: the same session WITH its own token passes the CSRF check, so
    # the 403s above are the CSRF refusal and not something else.
    cookie, own_token = world.portal_session("buyer")
    portal.client.cookies.clear()
    control = await portal.client.post(
        "/language",
        data={"csrf_token": own_token or "", "language": "fr", "next": "/home"},
        headers=_cookie_header({"eproc_portal": cookie or ""}),
    )
    if control.status_code != 303:
        mismatches.append(f"portal control POST /language with the token: {control.status_code}")
    after = {n: await snapshot(s) for n, s in world.services.items()}
    for name in before:
        changed = diff(before[name], after[name])
        if changed:
            mismatches.append(f"portal forms without CSRF changed {name}: {dumps(changed)}")
    return mismatches


def _add_portal_expectations(routes: list[tuple[str, str, str]]) -> None:
    for key in routes:
        if key[0] == "portal":
            EXPECTED[key] = Row(statuses(403, anonymous=403), _static(Call()), PORTAL_NOTE)


async def test_every_mutating_endpoint_against_every_actor(
    create_database: CreateDatabase,
) -> None:
    async with running_world(create_database) as world:
        routes = mutating_routes(world)
        _add_portal_expectations(routes)
        missing = [key for key in routes if key not in EXPECTED]
        assert not missing, f"new endpoint without expectations: {missing}"
        stale = [key for key in EXPECTED if key not in routes]
        assert not stale, f"expectations for endpoints that no longer exist: {stale}"

        results: dict[tuple[str, str, str], dict[str, tuple[int, str]]] = {}
        mismatches = []
        for key in routes:
            service, method, template = key
            row = EXPECTED[key]
            results[key] = {}
            if service == "portal":
                continue
            for actor in ACTORS:
                call = await row.prepare(world, actor)
                credentials = await _credentials(world, service, actor)
                headers = {
                    **credentials.headers,
                    **_cookie_header({**credentials.cookies, **call.cookies}),
                }
                # "{rest:path}" (a Starlette converter) fills like "{rest}".
                fillable = re.sub(r"\{(\w+):\w+\}", r"{\1}", template)
                path = fillable.format(**{k: str(v) for k, v in call.path.items()})
                client = world.services[service].client
                client.cookies.clear()  # only the actor's own credentials, nothing remembered
                response = await client.request(
                    method,
                    path,
                    json=call.json,
                    data=call.data,
                    headers=headers,
                    params=call.query or None,
                )
                results[key][actor] = (response.status_code, _code(response))
                if response.status_code != row.expected[actor]:
                    mismatches.append(
                        f"{service} {method} {template} as {actor}: "
                        f"{response.status_code} (expected {row.expected[actor]}) "
                        f"{response.text[:200]}"
                    )
        portal_routes = [key for key in routes if key[0] == "portal"]
        mismatches += await _portal_rows(world, portal_routes)
        for key in portal_routes:
            results[key] = {actor: (EXPECTED[key].expected[actor], "csrf") for actor in ACTORS}
        _write_document(results)
        assert not mismatches, "\n".join(mismatches)


def _write_document(results: dict[tuple[str, str, str], dict[str, tuple[int, str]]]) -> None:
    lines = [
        "# Authorization matrix",
        "",
        "Written by `tests/test_authorization_matrix.py` (do not edit by hand): every",
        "mutating endpoint of every landed service (read from the apps' routes) called",
        "by every actor with a valid body and real ids; each cell is the status the test",
        "asserted, with the error `code` where there is one.",
        "",
        "Actors: **anonymous** (no token); **buyer** (member of the organisation, no",
        "Superuser); **other_buyer** (member of another organisation); **superuser** (of",
        "the organisation); **other_superuser** (of an unrelated organisation);",
        "**parent_superuser** / **child_superuser** (of its parent / its child);",
        "**operator** (platform operator); **application** (a platform application,",
        "client credentials); **edge** (the SSO edge, client credentials). Every user",
        "token also *claims* the organisation as active with a Superuser role: the",
        "services decide from their own data, not from those claims.",
        "",
        "The edge's actors bring the edge's own credentials: users and the operator an",
        "SSO session cookie and an access token the edge signed; the application its",
        "client secret (HTTP Basic); the edge its own client token. The portal's actors",
        "are portal sessions; its rows are generated from its routes and call every form",
        "without the session's CSRF token and with another session's token (`csrf`: the",
        "portal's CSRF refusal; nothing changed in any service). The notifier has no",
        "HTTP API (no mutating route).",
        "",
    ]
    for service in dict.fromkeys(key[0] for key in results):
        lines += [f"## {service}", ""]
        lines.append("| endpoint | " + " | ".join(ACTORS) + " | target / note |")
        lines.append("|---|" + "---|" * len(ACTORS) + "---|")
        for key, cells in results.items():
            if key[0] != service:
                continue
            shown = []
            for actor in ACTORS:
                status, code = cells[actor]
                shown.append(f"{status} `{code}`" if code and status >= 400 else str(status))
            lines.append(
                f"| `{key[1]} {key[2]}` | " + " | ".join(shown) + f" | {EXPECTED[key].note} |"
            )
        lines.append("")
    DOC.write_text("\n".join(lines))


def test_every_expectation_names_every_actor() -> None:
    for key, row in EXPECTED.items():
        assert set(row.expected) == set(ACTORS), key
